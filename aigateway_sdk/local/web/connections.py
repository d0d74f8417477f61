"""How the local gateway's HTTP server treats connections: uvicorn's own settings (keep-alive
timeout, concurrency limit, h11's cap on a request head) plus what uvicorn lacks, deadlines for
a request's head and body, so a slow or stalled client cannot hold a connection for long.

- Head: from the first byte of a request (or from the connection's opening) its request line
  and headers must arrive within `header_timeout` seconds; more bytes do not extend it.
- Body: once the head is in, the whole body must arrive within `body_timeout` seconds, whether
  or not the app reads it (an app that answered early, a 401, does not leave the connection to
  a client that drips the rest of its body).
- Past either deadline the client gets a Cloudflare-shaped 408 (when no reply has started) and
  the connection is closed. Idle keep-alive connections are uvicorn's: `keep_alive_timeout`.
- At most `max_connections` open connections: one more is answered 503 and closed at once.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from aigateway_sdk.local.config import LocalGatewayConfig
from aigateway_sdk.local.web.errors import (
    CODE_REQUEST_TIMEOUT,
    CODE_TOO_MANY_CONNECTIONS,
    ErrorItem,
    error_body,
)

MAX_HEAD_BYTES = 16 * 1024
"""The largest request line plus headers (h11's own default, set explicitly); past it: 400."""

Phase = Literal["head", "body"]


def raw_reply(status: int, reason: str, code: int, message: str) -> bytes:
    """A whole `connection: close` reply, for when no request cycle can send one."""
    body = error_body([ErrorItem(code, message)])
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


TIMED_OUT = raw_reply(408, "Request Timeout", CODE_REQUEST_TIMEOUT, "Request not received in time")
BUSY = raw_reply(503, "Service Unavailable", CODE_TOO_MANY_CONNECTIONS, "Too many open connections")


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with head and body deadlines and a hard connection cap.

    Subclassed per gateway by `protocol_class` with the configured numbers.
    """

    header_timeout = 10.0
    body_timeout = 30.0
    max_connections: int | None = None
    _deadline: asyncio.TimerHandle | None = None
    _phase: Phase | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if self.max_connections is not None and len(self.connections) > self.max_connections:
            transport.write(BUSY)
            transport.close()
            return
        self._watch("head")

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._follow()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._follow()

    def connection_lost(self, exc: Exception | None) -> None:
        self._watch(None)
        super().connection_lost(exc)

    def _follow(self) -> None:
        """Arm the deadline the client's side of the exchange is now under, if any."""
        if self.transport.is_closing():
            self._watch(None)
            return
        state = self.conn.their_state
        if state is h11.SEND_BODY:
            self._watch("body")
        elif state is h11.IDLE and (self.conn.trailing_data[0] or self._phase == "head"):
            self._watch("head")  # part of a head (or nothing yet on a new connection)
        else:
            self._watch(None)

    def _watch(self, phase: Phase | None) -> None:
        if phase == self._phase:
            return  # a deadline is never extended by more bytes
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self._phase = phase
        if phase is not None:
            timeout = self.header_timeout if phase == "head" else self.body_timeout
            self._deadline = self.loop.call_later(timeout, self._expired)

    def _expired(self) -> None:
        phase, self._phase, self._deadline = self._phase, None, None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if phase == "body" and cycle is not None:
            replied = cycle.response_started
            cycle.disconnected = True  # the app's receive() sees a disconnect, its send() no-ops
            cycle.message_event.set()
        else:
            replied = False
        if not replied and (phase == "body" or self.conn.trailing_data[0]):
            self.transport.write(TIMED_OUT)
        self.transport.close()


def protocol_class(config: LocalGatewayConfig) -> type[GuardedH11Protocol]:
    """The protocol class for one gateway's server, with its timeouts and connection cap."""

    class LocalGatewayProtocol(GuardedH11Protocol):
        header_timeout = config.header_timeout
        body_timeout = config.body_timeout
        max_connections = config.max_connections

    return LocalGatewayProtocol


def server_settings(config: LocalGatewayConfig) -> dict[str, Any]:
    """uvicorn settings (for `uvicorn.Config` or `uvicorn.run`) shared by `LocalGateway` and
    `aigateway serve`."""
    return {
        "http": protocol_class(config),
        "ws": "none",
        "lifespan": "on",
        "loop": "asyncio",
        "timeout_keep_alive": config.keep_alive_timeout,
        # uvicorn counts the connection that asks, hence + 1: exactly `max_connections` are
        # served; it also caps requests in flight at that number (503 past it).
        "limit_concurrency": config.max_connections + 1,
        "h11_max_incomplete_event_size": MAX_HEAD_BYTES,
        "timeout_graceful_shutdown": 5,
        "server_header": False,
        "access_log": False,
    }


__all__ = ["MAX_HEAD_BYTES", "GuardedH11Protocol", "protocol_class", "raw_reply", "server_settings"]
