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

import importlib
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import httpcore2
import httpx

from aigateway_sdk._install import install_line
from aigateway_sdk.transport.http import DEFAULT_LIMITS
from aigateway_sdk.transport.proxies import PROXY_SCHEMES, ProxyRoutes
from aigateway_sdk.validation import FieldError, ValidationError

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

    Proxies as with httpx's clients: `proxy=` sends every request through one; otherwise, with
    `trust_env=True` (the default), `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` are
    honoured with httpx's rules (see `aigateway_sdk.transport.proxies`), read when the transport
    is built. `trust_env` also lets `SSL_CERT_FILE` / `SSL_CERT_DIR` name the trusted CAs.
    `verify=False` turns certificate checks off; `http2=True` needs the `http2` extra.
    """

    __slots__ = ("_pools", "_routes")

    def __init__(
        self,
        *,
        limits: httpx.Limits = DEFAULT_LIMITS,
        verify: ssl.SSLContext | bool = True,
        http2: bool = False,
        retries: int = 0,
        proxy: str | httpx.URL | None = None,
        trust_env: bool = True,
    ) -> None:
        if http2:
            _require("h2", "HTTP/2 (http2=True)", install_line("http2"))
        if isinstance(verify, ssl.SSLContext):
            context = verify
        else:  # keywords: httpx 0.27 takes `cert` first, and would read `verify` as `cert`
            context = httpx.create_ssl_context(verify=verify, trust_env=trust_env)
        if proxy is not None:
            self._routes = ProxyRoutes.every_request(str(proxy))
        elif trust_env:
            self._routes = ProxyRoutes.from_environment()
        else:
            self._routes = ProxyRoutes()

        def pool(proxy_url: str | None) -> httpcore2.AsyncConnectionPool:
            return httpcore2.AsyncConnectionPool(
                ssl_context=context,
                proxy=None if proxy_url is None else _proxy(proxy_url),
                max_connections=limits.max_connections,
                max_keepalive_connections=limits.max_keepalive_connections,
                keepalive_expiry=limits.keepalive_expiry,
                http1=True,
                http2=http2,
                retries=retries,
            )

        # One pool per route, as httpx mounts one transport per proxy.
        self._pools = {url: pool(url) for url in {None, *self._routes.proxies.values()}}

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
        pool = self._pools[self._routes.proxy_for(url)]
        with _as_httpx_errors(request):
            reply = await pool.handle_async_request(outgoing)
        return httpx.Response(
            status_code=reply.status,
            headers=reply.headers,
            stream=_Body(reply, request),
            extensions=reply.extensions,
        )

    @property
    def connection_count(self) -> int:
        """Connections the pool holds now, busy or idle (for tests and metrics)."""
        return sum(len(pool.connections) for pool in self._pools.values())

    async def aclose(self) -> None:
        for pool in self._pools.values():
            await pool.aclose()


def _require(module: str, feature: str, install: str) -> None:
    try:
        importlib.import_module(module)
    except ImportError:
        raise ImportError(f"{feature} needs the {module!r} package: {install}") from None


def _proxy(url: str) -> httpcore2.Proxy:
    """httpcore2's proxy for a URL; credentials in the URL become `Proxy-Authorization`."""
    parsed = httpx.URL(url)
    if parsed.scheme not in PROXY_SCHEMES:
        problem = f"unsupported proxy scheme {parsed.scheme!r} in {parsed.host!r}"
        raise ValidationError([FieldError(("proxy",), problem)], what="transport")
    if parsed.scheme.startswith("socks"):
        _require("socksio", "a SOCKS proxy", "pip install 'httpcore2[socks]'")
    auth = (parsed.username, parsed.password) if parsed.username else None
    return httpcore2.Proxy(url=str(parsed.copy_with(username=None, password=None)), auth=auth)
