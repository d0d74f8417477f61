"""`GatewayBinding`: one account, one gateway, its credentials and one pooled HTTP client.

Building a binding does no I/O; the `httpx.AsyncClient` is created on the first call and closed
by `aclose()` (or `async with binding:`). A client passed in by the caller is used as is and
never closed by the binding.

Lifecycle rules:
- A closed binding refuses calls with `RuntimeError` until `start()` (or `async with`) opens it
  again: a call never reopens a client behind the caller's back.
- The client the binding made belongs to the event loop it was first used on. A call from
  another loop (a second `asyncio.run`, a new pytest event loop, a worker's own loop, trio)
  gets a new client; the old one is dropped, not awaited, since its loop is usually gone.
- With `ensure_gateway=True` the spec is applied once: by `start()`, or else by the first call.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import httpx

from aigateway_sdk.options import GatewayOptions
from aigateway_sdk.parameters import ParametersInput
from aigateway_sdk.transport.http import DEFAULT_LIMITS, DEFAULT_MAX_RESPONSE_BYTES
from aigateway_sdk.transport.retry import DEFAULT_RETRY, RetryPolicy
from aigateway_sdk.transport.sse import DEFAULT_MAX_EVENT_BYTES
from aigateway_sdk.validation import FieldError, ValidationError

if TYPE_CHECKING:
    from aigateway_sdk.control.spec import AiGateway
    from aigateway_sdk.gateway_model import GatewayLanguageModel, Route
    from aigateway_sdk.parts import StreamPart

T = TypeVar("T")

DEFAULT_DATA_URL = "https://gateway.ai.cloudflare.com/v1"
DEFAULT_API_URL = "https://api.cloudflare.com/client/v4"
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=120.0, write=30.0, pool=30.0)
USER_AGENT = "cf-aigateway-sdk/0.1 (python)"

_ENV = {
    "account_id": "CLOUDFLARE_ACCOUNT_ID",
    "gateway_id": "AIGATEWAY_GATEWAY_ID",
    "api_token": "CLOUDFLARE_API_TOKEN",
    "gateway_token": "CLOUDFLARE_GATEWAY_TOKEN",
    "base_url": "AIGATEWAY_BASE_URL",
    "api_base_url": "AIGATEWAY_API_BASE_URL",
}
"""`from_env()`: each binding argument and the environment variable it is read from."""

_CLOSED = (
    "this GatewayBinding is closed (aclose() or the end of `async with`); "
    "open it again with `async with binding:` or `await binding.start()`"
)


def _running_loop() -> object | None:
    """What a connection is bound to: the running asyncio loop, or the current trio run's
    token; None outside any event loop."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        pass
    trio = sys.modules.get("trio")
    if trio is not None:
        try:
            token: object = trio.lowlevel.current_trio_token()
            return token
        except RuntimeError:
            pass
    return None


def _require(name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError([FieldError((name,), "is required")], what="gateway binding")
    if any(c in value for c in "\r\n\0"):
        raise ValidationError(
            [FieldError((name,), "must not contain line breaks")], what="gateway binding"
        )


class GatewayBinding:
    """The data plane of one gateway: `model(...)` builds `LanguageModel`s that call it."""

    __slots__ = (
        "_api_token",
        "_client",
        "_closed",
        "_gateway_token",
        "_loop",
        "_owns_client",
        "_provider_keys",
        "_start_lock",
        "_start_lock_loop",
        "_started",
        "_transport",
        "account_id",
        "api_base_url",
        "base_url",
        "ensure_gateway",
        "gateway_id",
        "limits",
        "max_event_bytes",
        "max_response_bytes",
        "options",
        "retry",
        "spec",
        "timeout",
        "total_timeout",
    )

    def __init__(
        self,
        account_id: str,
        gateway_id: str | None = None,
        api_token: str | None = None,
        *,
        gateway_token: str | None = None,
        base_url: str | None = None,
        api_base_url: str | None = None,
        options: GatewayOptions | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | float | None = None,
        total_timeout: float | None = None,
        provider_api_keys: Mapping[str, str] | None = None,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        limits: httpx.Limits | None = None,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        spec: AiGateway | None = None,
        ensure_gateway: bool = False,
    ) -> None:
        if gateway_id is None:
            gateway_id = spec.id if spec is not None else "default"
        _require("account_id", account_id)
        _require("gateway_id", gateway_id)
        for name, token in (("api_token", api_token), ("gateway_token", gateway_token)):
            if token is not None:
                _require(name, token)
        self.account_id = account_id
        self.gateway_id = gateway_id
        self._api_token = api_token
        self._gateway_token = gateway_token
        self._provider_keys = dict(provider_api_keys or {})
        self.base_url = (base_url or DEFAULT_DATA_URL).rstrip("/")
        self.api_base_url = (api_base_url or DEFAULT_API_URL).rstrip("/")
        self.options = options or GatewayOptions()
        self.retry = retry or DEFAULT_RETRY
        self.timeout = (
            DEFAULT_TIMEOUT
            if timeout is None
            else timeout
            if isinstance(timeout, httpx.Timeout)
            else httpx.Timeout(timeout)
        )
        self.total_timeout = total_timeout
        self.limits = limits or DEFAULT_LIMITS
        self.max_event_bytes = max_event_bytes
        self.max_response_bytes = max_response_bytes
        self.spec = spec
        if ensure_gateway and spec is None:
            raise ValidationError(
                [FieldError(("ensure_gateway",), "needs spec=AiGateway(...) to apply")],
                what="gateway binding",
            )
        if ensure_gateway and api_token is None:
            raise ValidationError(
                [FieldError(("api_token",), "is required to ensure the gateway")],
                what="gateway binding",
            )
        self.ensure_gateway = ensure_gateway
        self._started = False
        self._closed = False
        self._start_lock: anyio.Lock | None = None
        self._start_lock_loop: object | None = None
        self._transport = transport
        self._client = client
        self._loop: object | None = None
        self._owns_client = client is None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> GatewayBinding:
        """A binding from `CLOUDFLARE_ACCOUNT_ID`, `CLOUDFLARE_API_TOKEN`, `AIGATEWAY_GATEWAY_ID`
        (default "default"), `CLOUDFLARE_GATEWAY_TOKEN` (optional), `AIGATEWAY_BASE_URL`
        (optional), `AIGATEWAY_API_BASE_URL` (optional); keyword arguments win. A missing or bad
        value raises `ValidationError` naming the variable."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {name: env.get(var) or None for name, var in _ENV.items()}
        values.update(overrides)
        if values["account_id"] is None:
            raise ValidationError(
                [FieldError(("account_id",), f"is required: {_ENV['account_id']} is not set")],
                what="gateway binding",
            )
        try:
            return cls(**values)
        except ValidationError as error:
            raise ValidationError(
                [
                    FieldError(e.path, f"{e.message} (from {_ENV[e.path[0]]})")
                    if e.path and e.path[0] in _ENV and e.path[0] not in overrides
                    else e
                    for e in error.errors
                ],
                what="gateway binding",
            ) from None

    # -- models -------------------------------------------------------------------------

    def model(
        self,
        model: str,
        parameters: ParametersInput | None = None,
        *,
        options: GatewayOptions | None = None,
        route: Route | None = None,
        retry: RetryPolicy | None = None,
        total_timeout: float | None = None,
    ) -> GatewayLanguageModel:
        """A `LanguageModel` for `model` (pure: no I/O)."""
        from aigateway_sdk.gateway_model import GatewayLanguageModel

        return GatewayLanguageModel(
            self,
            model,
            parameters,
            options=options,
            route=route,
            retry=retry,
            total_timeout=total_timeout,
        )

    # -- wire details used by the models ------------------------------------------------

    @property
    def gateway_url(self) -> str:
        return f"{self.base_url}/{self.account_id}/{self.gateway_id}"

    def data_url(self, path: str) -> str:
        return f"{self.gateway_url}/{path}"

    def headers_for(self, route: str, model: str, options: GatewayOptions) -> dict[str, str]:
        """Request headers for a call on `route`: content type, provider auth, gateway auth and
        the `cf-aig-*` options."""
        headers = {"content-type": "application/json", "user-agent": USER_AGENT}
        provider_key = self._provider_key(route, model)
        if provider_key:
            headers["authorization"] = f"Bearer {provider_key}"
        if self._gateway_token:
            headers["cf-aig-authorization"] = f"Bearer {self._gateway_token}"
        headers.update(options.headers())
        return headers

    def _provider_key(self, route: str, model: str) -> str | None:
        if route == "compat" and "/" in model:
            provider = model.split("/", 1)[0]
            if provider != "workers-ai":
                return self._provider_keys.get(provider)
        return self._provider_keys.get("workers-ai") or self._api_token

    # -- client lifecycle ---------------------------------------------------------------

    @property
    def client(self) -> httpx.AsyncClient:
        """The pooled client, created on first use, and again on first use from another event
        loop (see the module docstring). `RuntimeError` once the binding is closed."""
        if self._closed:
            raise RuntimeError(_CLOSED)
        if self._owns_client:
            loop = _running_loop()
            if loop is not None and loop is not self._loop:
                if self._loop is not None:
                    # Its connections belong to a loop that has usually ended: awaiting their
                    # close here would fail, so the client is dropped (the GC closes sockets).
                    self._client = None
                self._loop = loop
        client = self._client
        if client is None:
            transport = self._transport
            if transport is None:
                # Imported here: building a binding stays cheap (httpcore2, ssl).
                from aigateway_sdk.transport.pool import PooledTransport

                transport = PooledTransport(limits=self.limits)
            client = self._client = httpx.AsyncClient(
                timeout=self.timeout, limits=self.limits, transport=transport
            )
        return client

    @property
    def closed(self) -> bool:
        """True after `aclose()` until `start()` opens the binding again."""
        return self._closed

    async def aclose(self) -> None:
        """Close the binding: the client it made is closed (a `client=` passed in stays open),
        and calls raise `RuntimeError` until `start()` / `async with` opens it again."""
        self._closed = True
        if not self._owns_client:
            return
        client, self._client = self._client, None
        if client is not None and (self._loop is None or self._loop is _running_loop()):
            await client.aclose()  # a client of another (ended) loop is dropped instead
        self._loop = None

    async def start(self) -> None:
        """Open the binding (again, after `aclose()`) and acquire its resources. With
        `ensure_gateway=True` this applies `spec` to the control plane (create or update in
        place) once, the way an Effect layer acquires its resource; without `start()` the first
        call does it. `async with binding:` calls it."""
        self._closed = False
        if self.needs_start:
            await self._ensure_gateway()

    @property
    def needs_start(self) -> bool:
        """True while `ensure_gateway=True` and the spec has not been applied yet."""
        return self.ensure_gateway and not self._started

    async def _ensure_gateway(self) -> None:
        loop = _running_loop()
        lock = self._start_lock
        if lock is None or loop is not self._start_lock_loop:
            lock = self._start_lock = anyio.Lock()
            self._start_lock_loop = loop
        async with lock:
            if self._started or self.spec is None:
                return
            from aigateway_sdk.control.admin import GatewayAdmin, ensure_gateway

            if self._api_token is None:
                raise ValidationError(
                    [FieldError(("api_token",), "is required to ensure the gateway")],
                    what="gateway binding",
                )
            async with GatewayAdmin(
                self.account_id, self._api_token, self.api_base_url, retry=self.retry
            ) as admin:
                await ensure_gateway(admin, self.spec)
            self._started = True

    async def _started_then(self, call: Callable[[], Awaitable[T]]) -> T:
        """`call()` once the spec is applied: a call made before `start()` applies it."""
        if self._closed:
            raise RuntimeError(_CLOSED)
        await self._ensure_gateway()
        return await call()

    async def _started_then_stream(
        self, open_parts: Callable[[], AsyncIterator[StreamPart]]
    ) -> AsyncIterator[StreamPart]:
        if self._closed:
            raise RuntimeError(_CLOSED)
        await self._ensure_gateway()
        parts = open_parts()
        try:
            async for part in parts:
                yield part
        finally:
            aclose = getattr(parts, "aclose", None)
            if aclose is not None:
                await aclose()

    async def __aenter__(self) -> GatewayBinding:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return (
            f"GatewayBinding(account_id={self.account_id!r}, gateway_id={self.gateway_id!r}, "
            f"base_url={self.base_url!r}, api_token={'***' if self._api_token else None}, "
            f"gateway_token={'***' if self._gateway_token else None})"
        )


__all__ = ["DEFAULT_API_URL", "DEFAULT_DATA_URL", "GatewayBinding"]
