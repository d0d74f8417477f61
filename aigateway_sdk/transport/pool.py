"""`PooledTransport`: httpx's API over `httpcore2`'s connection pool, the binding's default.

httpx 0.28 sends through httpcore 1.x, whose connection pool collapses when many requests
share it: measured on loopback (`benchmarks/`), 64 concurrent calls through a bare
`httpx.AsyncClient` manage ~130 calls/s, against ~1,900 calls/s for the same requests through
`httpcore2.AsyncConnectionPool` (the pool of httpx2, the fork the official `openai` client now
uses). The SDK keeps httpx as the API users see (their own clients, event hooks, mocks and
`respx` keep working) and only swaps the pool underneath.

Everything httpcore2 raises is re-raised as the httpx exception of the same meaning, so the
SDK's error mapping (and any caller's `except httpx.HTTPError`) is unchanged. Timeouts travel
in the request's `timeout` extension, as with httpx's own transport.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import httpcore2
import httpx

from aigateway_sdk.transport.http import DEFAULT_LIMITS

# httpcore2's exception classes and the httpx ones that mean the same thing. Looked up along
# the raised exception's MRO, so the most specific match wins.
_EXCEPTIONS: dict[type[Exception], type[httpx.TransportError]] = {
    httpcore2.PoolTimeout: httpx.PoolTimeout,
    httpcore2.ConnectTimeout: httpx.ConnectTimeout,
    httpcore2.ReadTimeout: httpx.ReadTimeout,
    httpcore2.WriteTimeout: httpx.WriteTimeout,
    httpcore2.TimeoutException: httpx.TimeoutException,
    httpcore2.ConnectError: httpx.ConnectError,
    httpcore2.ReadError: httpx.ReadError,
    httpcore2.WriteError: httpx.WriteError,
    httpcore2.NetworkError: httpx.NetworkError,
    httpcore2.ProxyError: httpx.ProxyError,
    httpcore2.UnsupportedProtocol: httpx.UnsupportedProtocol,
    httpcore2.RemoteProtocolError: httpx.RemoteProtocolError,
    httpcore2.LocalProtocolError: httpx.LocalProtocolError,
    httpcore2.ProtocolError: httpx.ProtocolError,
}


@contextmanager
def _as_httpx_errors(request: httpx.Request) -> Iterator[None]:
    try:
        yield
    except Exception as error:
        for cls in type(error).__mro__:
            mapped = _EXCEPTIONS.get(cls)
            if mapped is not None:
                raise mapped(str(error) or cls.__name__, request=request) from error
        raise


class _Body(httpx.AsyncByteStream):
    """A reply body read from the pool; errors while reading become httpx errors too."""

    __slots__ = ("_request", "_stream")

    def __init__(self, stream: httpcore2.Response, request: httpx.Request) -> None:
        self._stream = stream
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx_errors(self._request):
            async for chunk in self._stream.aiter_stream():
                yield chunk

    async def aclose(self) -> None:
        with _as_httpx_errors(self._request):
            await self._stream.aclose()


class PooledTransport(httpx.AsyncBaseTransport):
    """An `httpx.AsyncBaseTransport` sending through an `httpcore2.AsyncConnectionPool`.

    `GatewayBinding` uses it unless given a `client` or a `transport`; pass it to any
    `httpx.AsyncClient(transport=PooledTransport())` to get the same pool elsewhere.
    """

    __slots__ = ("_pool",)

    def __init__(
        self,
        *,
        limits: httpx.Limits = DEFAULT_LIMITS,
        verify: ssl.SSLContext | bool = True,
        http2: bool = False,
        retries: int = 0,
    ) -> None:
        context = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify)
        self._pool = httpcore2.AsyncConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=http2,
            retries=retries,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        outgoing = httpcore2.Request(
            method=request.method,
            url=httpcore2.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx_errors(request):
            reply = await self._pool.handle_async_request(outgoing)
        return httpx.Response(
            status_code=reply.status,
            headers=reply.headers,
            stream=_Body(reply, request),
            extensions=reply.extensions,
        )

    @property
    def connection_count(self) -> int:
        """Connections the pool holds now, busy or idle (for tests and metrics)."""
        return len(self._pool.connections)

    async def aclose(self) -> None:
        await self._pool.aclose()
