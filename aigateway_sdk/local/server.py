"""`LocalGateway`: the app served by uvicorn on a background thread with its own event loop.

Usable from sync code and from async tests on any anyio backend (the server's loop is its
own). `start()` returns once the server accepts connections; `stop()` finishes open requests,
flushes the logs and closes the database. A restarted gateway keeps its port.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from types import TracebackType

import uvicorn

from aigateway_sdk.local.app import create_app
from aigateway_sdk.local.clock import Clock
from aigateway_sdk.local.config import LocalGatewayConfig
from aigateway_sdk.local.web.connections import server_settings
from aigateway_sdk.local.web.loopback import refuse_open_listen

START_TIMEOUT = 15.0


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound, listening, non-blocking TCP socket for uvicorn's `sockets=`.

    It is made with `IPPROTO_TCP` spelled out: asyncio turns Nagle's algorithm off
    (`TCP_NODELAY`) only on sockets whose `proto` says TCP, and an accepted connection inherits
    the listener's. With `proto` 0 every keep-alive reply waited for the client's delayed ACK:
    ~44 ms per request instead of ~2 ms."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server, woken at once by `request_exit()` instead of polling every 100 ms."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def main_loop(self) -> None:
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        ticks = 0
        while not await self.on_tick(ticks):
            ticks = (ticks + 10) % 864_000  # every wake-up refreshes the Date header
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 1.0)

    def request_exit(self) -> None:
        self.should_exit = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(wake.set)


class LocalGateway:
    """`with LocalGateway(LocalGatewayConfig(...)) as gw: gw.url, gw.data_url, gw.api_url`."""

    def __init__(self, config: LocalGatewayConfig | None = None) -> None:
        self.config = config or LocalGatewayConfig()
        self._port = self.config.port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    # addresses ---------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError("the local gateway has not started")
        return self._port

    @property
    def url(self) -> str:
        host = self.config.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def data_url(self) -> str:
        """Like `https://gateway.ai.cloudflare.com/v1`."""
        return self.url + "/v1"

    @property
    def api_url(self) -> str:
        """Like `https://api.cloudflare.com/client/v4`."""
        return self.url + "/client/v4"

    @property
    def clock(self) -> Clock:
        return self.config.clock

    @property
    def account_id(self) -> str:
        return self.config.default_account_id

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # lifecycle ---------------------------------------------------------------------------------

    def _bind(self) -> socket.socket:
        sock = listening_socket(self.config.host, self._port)
        self._port = sock.getsockname()[1]
        return sock

    def start(self) -> LocalGateway:
        if self.running:
            return self
        refuse_open_listen(self.config.host, self.config.api_token)
        app = create_app(self.config)
        sock = self._bind()
        server = _Server(
            uvicorn.Config(
                app, **server_settings(self.config), log_config=None, log_level="warning"
            )
        )
        self._server, self._error = server, None

        def run() -> None:
            try:
                asyncio.run(server.serve(sockets=[sock]))
            except BaseException as error:  # reported to start()'s caller
                self._error = error
            finally:
                sock.close()

        thread = threading.Thread(target=run, name=f"aigateway-local-{self._port}", daemon=True)
        self._thread = thread
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                cause = getattr(app.state, "startup_error", None) or self._error
                raise RuntimeError(f"the local gateway did not start: {cause!r}") from cause
            time.sleep(0.002)
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is not None:
            server.request_exit()
        if thread is not None:
            thread.join(timeout=30)
        self._server = self._thread = None

    def __enter__(self) -> LocalGateway:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


__all__ = ["LocalGateway"]
