"""A misbehaving HTTP/1.1 server on loopback that a test scripts, request by request.

It runs its own asyncio loop in a thread, so the client under test may use either anyio
backend. Each request is answered by the next scripted `Action` (the default one when the
script is empty). Actions write raw bytes, so they can do what a well-behaved framework never
would: reset the connection before or in the middle of a reply, trickle bytes forever, cut a
stream after N events, or accept and never answer.

The server counts what a test needs to prove its claims: requests received (`requests`),
connections accepted (`accepted`) and connections open right now (`open_connections`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
import struct
import threading
import time
import zlib
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any

import attrs

from aigateway_sdk import _json


@attrs.frozen
class Request:
    """One request as the server read it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    connection: int
    """Serial number of the connection it came on."""
    at: float
    """`time.monotonic()` when it was read."""


class Conn:
    """What an action gets: the request, and the connection to answer on."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: Request
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.request = request

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    def reset(self) -> None:
        """Abort with a TCP RST (SO_LINGER 0), not an orderly FIN."""
        sock = self.writer.get_extra_info("socket")
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()

    async def wait_for_client_close(self) -> None:
        """Block until the client closes its side (or resets it)."""
        with contextlib.suppress(OSError):
            while await self.reader.read(65536):
                pass


Action = Callable[[Conn], Awaitable[bool]]
"""Answers one request; returns whether the connection may serve another request."""


def head(status: int, headers: dict[str, str] | None = None, *, length: int | None = None) -> bytes:
    phrase = {200: "OK", 429: "Too Many Requests", 500: "Internal Server Error"}.get(status, "X")
    lines = [f"HTTP/1.1 {status} {phrase}"]
    all_headers = {"content-type": "application/json", **(headers or {})}
    if length is not None:
        all_headers["content-length"] = str(length)
    lines += [f"{name}: {value}" for name, value in all_headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def reply(
    status: int = 200,
    body: bytes | object = b"",
    headers: dict[str, str] | None = None,
) -> Action:
    """A complete reply with a content-length. A non-bytes body is sent as JSON."""
    data = body if isinstance(body, bytes) else _json.dumps(body)

    async def action(conn: Conn) -> bool:
        await conn.send(head(status, headers, length=len(data)) + data)
        return True

    return action


def ok_text(text: str = "hello", headers: dict[str, str] | None = None) -> Action:
    """A Workers AI reply with `text`."""
    body = {
        "result": {"response": text, "usage": {"prompt_tokens": 3, "completion_tokens": 2}},
        "success": True,
        "errors": [],
        "messages": [],
    }
    return reply(200, body, headers)


def sse_frames(deltas: Iterable[str], *, done: bool = True) -> list[bytes]:
    frames = [b"data: " + _json.dumps({"response": d}) + b"\n\n" for d in deltas]
    if done:
        frames.append(
            b'data: {"response":"","usage":{"prompt_tokens":3,"completion_tokens":2}}\n\n'
        )
        frames.append(b"data: [DONE]\n\n")
    return frames


def sse(
    frames: Iterable[bytes],
    *,
    then: str = "end",
    headers: dict[str, str] | None = None,
    content_type: str = "text/event-stream",
    pause: float = 0.0,
) -> Action:
    """A chunked reply of `frames` (one chunk each), then:

    - `end`: the terminating chunk (a clean end of the body);
    - `reset`: a TCP reset (the body is cut);
    - `close`: close the connection without the terminating chunk (a truncated body);
    - `hold`: keep the connection open, send nothing more, until the client goes away.
    """

    async def action(conn: Conn) -> bool:
        all_headers = {"content-type": content_type, "transfer-encoding": "chunked"}
        all_headers.update(headers or {})
        await conn.send(head(200, all_headers))
        for frame in frames:
            await conn.send(f"{len(frame):x}\r\n".encode() + frame + b"\r\n")
            if pause:
                await asyncio.sleep(pause)
        if then == "end":
            await conn.send(b"0\r\n\r\n")
            return True
        if then == "reset":
            conn.reset()
        elif then == "hold":
            await conn.wait_for_client_close()
        return False

    return action


def reset_before_headers() -> Action:
    async def action(conn: Conn) -> bool:
        conn.reset()
        return False

    return action


def reset_mid_body(sent: bytes = b'{"result": {"resp', declared: int = 200) -> Action:
    """Headers promising `declared` bytes, part of the body, then a reset."""

    async def action(conn: Conn) -> bool:
        await conn.send(head(200, length=declared) + sent)
        await asyncio.sleep(0.02)
        conn.reset()
        return False

    return action


def close_before_headers() -> Action:
    async def action(conn: Conn) -> bool:
        conn.writer.close()
        return False

    return action


def never_answer() -> Action:
    """Read the request, then say nothing until the client gives up."""

    async def action(conn: Conn) -> bool:
        await conn.wait_for_client_close()
        return False

    return action


def trickle(data: bytes = b"HTTP/1.1 200 OK\r\n", *, every: float = 0.02) -> Action:
    """Send one byte every `every` seconds, forever (cycling through `data`), until the client
    goes away: each read gets something, so no per-read timeout ever fires."""

    async def action(conn: Conn) -> bool:
        i = 0
        try:
            while True:
                await conn.send(data[i % len(data) : i % len(data) + 1])
                i += 1
                await asyncio.sleep(every)
        except (ConnectionError, OSError):
            pass
        return False

    return action


def trickle_body(every: float = 0.02, *, content_type: str = "text/event-stream") -> Action:
    """Complete headers, then a line end (no SSE event; JSON whitespace) at a time, forever."""

    async def action(conn: Conn) -> bool:
        await conn.send(head(200, {"content-type": content_type, "transfer-encoding": "chunked"}))
        try:
            while True:
                await conn.send(b"1\r\n\n\r\n")
                await asyncio.sleep(every)
        except (ConnectionError, OSError):
            pass
        return False

    return action


class Flood:
    """An action: a chunked reply of `status` whose body never ends: `opening`, then `piece`
    again and again, up to `limit` bytes, then silence until the client goes away. `sent`
    counts the body bytes the server managed to write; `closed` is set once the client left."""

    def __init__(
        self,
        opening: bytes = b'{"result": {"response": "',
        piece: bytes = b"x" * 65536,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        limit: int = 256 << 20,
    ) -> None:
        self.opening, self.piece, self.status, self.limit = opening, piece, status, limit
        self.headers = {"transfer-encoding": "chunked", **(headers or {})}
        self.sent = 0
        self.closed = threading.Event()

    async def __call__(self, conn: Conn) -> bool:
        try:
            await conn.send(head(self.status, self.headers))
            data = self.opening
            while self.sent < self.limit:
                await conn.send(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.sent += len(data)
                data = self.piece
            await conn.wait_for_client_close()
        except (ConnectionError, OSError):
            pass
        self.closed.set()
        return False


_ZEROS = bytes(1 << 20)


@functools.cache
def gzip_blocks() -> tuple[bytes, bytes]:
    """A gzip header with 1 MiB of zeros, and a block that inflates to 1 MiB more (about 1 KB
    each): header + block * n is a gzip stream without its end, as long as one likes."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    first = deflate.compress(_ZEROS) + deflate.flush(zlib.Z_FULL_FLUSH)
    block = deflate.compress(_ZEROS) + deflate.flush(zlib.Z_FULL_FLUSH)
    assert deflate.compress(_ZEROS) + deflate.flush(zlib.Z_FULL_FLUSH) == block
    return first, block


def gzip_bomb(mebibytes: int) -> bytes:
    """A complete gzip body of `mebibytes` MiB of zeros (about 1 KB per MiB)."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    out = b"".join(deflate.compress(_ZEROS) for _ in range(mebibytes))
    return out + deflate.flush()


class FaultServer:
    """`with FaultServer() as server:` serves on `server.url` until the block ends."""

    def __init__(self, default: Action | None = None) -> None:
        self.default: Action = default or ok_text()
        self._script: deque[Action] = deque()
        self._lock = threading.Lock()
        self.requests: list[Request] = []
        self.accepted = 0
        self.open_connections = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    # -- scripting ---------------------------------------------------------------------

    def script(self, *actions: Action) -> None:
        """Answer the next requests with `actions`, in order; then the default again."""
        with self._lock:
            self._script.extend(actions)

    def _next_action(self) -> Action:
        with self._lock:
            return self._script.popleft() if self._script else self.default

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()
            self._script.clear()

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Poll `predicate` (from the test thread) until it holds or `timeout` passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.005)
        return predicate()

    # -- serving -----------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._lock:
            self.accepted += 1
            self.open_connections += 1
            serial = self.accepted
        self._writers.add(writer)
        try:
            while True:
                request = await self._read_request(reader, serial)
                if request is None:
                    break
                with self._lock:
                    self.requests.append(request)
                if not await self._next_action()(Conn(reader, writer, request)):
                    break
        except (ConnectionError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            pass  # the server is shutting down; end the task quietly
        finally:
            self._writers.discard(writer)
            if not writer.transport.is_closing():
                writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            with self._lock:
                self.open_connections -= 1

    @staticmethod
    async def _read_request(reader: asyncio.StreamReader, serial: int) -> Request | None:
        try:
            raw = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None
        lines = raw.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        body = b""
        length = int(headers.get("content-length", "0"))
        if length:
            body = await reader.readexactly(length)
        return Request(method, path, headers, body, serial, time.monotonic())

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)

        async def start() -> None:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=1024)
            self.port = self._server.sockets[0].getsockname()[1]

        loop.run_until_complete(start())
        self._ready.set()
        loop.run_forever()
        # Shutdown: abort whatever is still open, let handlers finish, close the loop.
        for writer in list(self._writers):
            writer.transport.abort()
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()

    def __enter__(self) -> FaultServer:
        self._thread = threading.Thread(target=self._run, name="faultserver", daemon=True)
        self._thread.start()
        if not self._ready.wait(5):
            raise RuntimeError("fault server did not start")
        return self

    def __exit__(self, *exc_info: Any) -> None:
        loop = self._loop
        assert loop is not None
        assert self._thread is not None
        server = self._server

        def stop() -> None:
            if server is not None:
                server.close()
            loop.stop()

        loop.call_soon_threadsafe(stop)
        self._thread.join(5)


def refused_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@contextlib.contextmanager
def serving(*actions: Action, default: Action | None = None) -> Iterator[FaultServer]:
    with FaultServer(default) as server:
        server.script(*actions)
        yield server
