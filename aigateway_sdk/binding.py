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

Dependencies point one way. The binding builds models (`gateway_model`) and hands each an
`Endpoint` (URL, credentials, client, defaults); the model never sees the binding. Routes and
the choice of credential belong to the codecs. Applying the spec belongs to the spec: `spec=`
is any `GatewaySpec` (an `id` and an `ensure(...)` coroutine); `AiGateway` implements `ensure`
with the control plane's admin, which this module (and the rest of the core) never imports.
A registry or a lazy import of `aigateway_sdk.control` here would keep the core depending on
the control plane in disguise; a spec that knows how it is applied does not.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol, Self

import anyio
import httpx

from aigateway_sdk.catalog import ModelInfo, ModelQuery, search_pages, search_url
from aigateway_sdk.codecs import Route
from aigateway_sdk.contract.catalog import DEFAULT_PER_PAGE
from aigateway_sdk.embedding import EmbeddingRoute, GatewayEmbeddingModel
from aigateway_sdk.endpoint import USER_AGENT, Credentials, Endpoint
from aigateway_sdk.gateway_model import GatewayLanguageModel
from aigateway_sdk.options import GatewayOptions
from aigateway_sdk.parameters import ParametersInput
from aigateway_sdk.transport.client import AsyncClosing
from aigateway_sdk.transport.http import DEFAULT_LIMITS, DEFAULT_MAX_RESPONSE_BYTES
from aigateway_sdk.transport.retry import DEFAULT_RETRY, RetryPolicy
from aigateway_sdk.transport.sse import DEFAULT_MAX_EVENT_BYTES
from aigateway_sdk.validation import FieldError, ValidationError

DEFAULT_DATA_URL = "https://gateway.ai.cloudflare.com/v1"
DEFAULT_API_URL = "https://api.cloudflare.com/client/v4"
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=120.0, write=30.0, pool=30.0)

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


class GatewaySpec(Protocol):
    """What `spec=` takes: a declared gateway (`AiGateway`) that can apply itself."""

    @property
    def id(self) -> str:
        """The gateway id (the binding's `gateway_id` when none is given)."""
        ...

    async def ensure(
        self, *, account_id: str, api_token: str, api_base_url: str, retry: RetryPolicy
    ) -> object:
        """Create the gateway, or update it in place, through the control plane at
        `api_base_url`."""
        ...


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


def _text_problem(name: str, value: object) -> FieldError | None:
    if not isinstance(value, str) or not value.strip():
        return FieldError((name,), "is required")
    if any(c in value for c in "\r\n\0"):
        return FieldError((name,), "must not contain line breaks")
    return None


_CLIENT_BRINGS = {"transport": "transport", "limits": "connection limits", "timeout": "timeouts"}
"""What a `client=` brings of its own, so that `transport=`, `limits=`, `timeout=` beside it
would be ignored: each is refused instead."""


def _problems(
    texts: Mapping[str, str | None],
    with_client: Mapping[str, object],
    spec: GatewaySpec | None,
    ensure_gateway: bool,
) -> list[FieldError]:
    """Every problem with the arguments of a binding, each naming its argument."""
    problems = [
        problem
        for name, value in texts.items()
        if (value is not None or name in ("account_id", "gateway_id"))
        and (problem := _text_problem(name, value)) is not None
    ]
    problems += [
        FieldError((name,), f"cannot be combined with client=: the client brings its own {what}")
        for name, what in _CLIENT_BRINGS.items()
        if with_client.get(name) is not None
    ]
    if ensure_gateway and spec is None:
        problems.append(FieldError(("ensure_gateway",), "needs spec=AiGateway(...) to apply"))
    if ensure_gateway and texts["api_token"] is None:
        problems.append(FieldError(("api_token",), "is required to ensure the gateway"))
    return problems


def _timeout(value: httpx.Timeout | float | None) -> httpx.Timeout:
    if value is None:
        return DEFAULT_TIMEOUT
    return value if isinstance(value, httpx.Timeout) else httpx.Timeout(value)


class GatewayBinding(AsyncClosing):
    """The data plane of one gateway: `model(...)` builds `LanguageModel`s that call it.

    **Parameters:**

    * **account_id** - the Cloudflare account id.
    * **gateway_id** - *(optional)* the gateway's id: `spec.id` when a `spec` is given, else
      `"default"` (the gateway Cloudflare creates on first use).
    * **api_token** - *(optional)* the Cloudflare API token: Workers AI's credential (sent as
      `authorization`) and the control plane's (`ensure_gateway`).
    * **gateway_token** - *(optional)* the token of an authenticated gateway, sent as
      `cf-aig-authorization`.
    * **base_url** - *(optional)* the data plane, default `DEFAULT_DATA_URL` (Cloudflare);
      `http://127.0.0.1:8787/v1` for the local gateway.
    * **api_base_url** - *(optional)* the control plane, used by `ensure_gateway` and
      `models()`, default `DEFAULT_API_URL`; `http://127.0.0.1:8787/client/v4` for the local
      gateway.
    * **options** - *(optional)* `GatewayOptions` (`cf-aig-*` headers) for every call; a
      model's and a call's options win field by field.
    * **retry** - *(optional)* the `RetryPolicy` of every model, default `DEFAULT_RETRY`.
    * **timeout** - *(optional)* httpx's timeouts for the client the binding makes: an
      `httpx.Timeout` or seconds, default `DEFAULT_TIMEOUT` (connect 10 s, read 120 s).
    * **total_timeout** - *(optional)* seconds one call may take in all, retries, waits and
      the whole stream included (`AiError(Timeout)` past it); default no limit.
    * **provider_api_keys** - *(optional)* a key per provider for `compat` models
      (`{"openai": "sk-..."}`); a `workers-ai` key replaces `api_token` for Workers AI.
    * **client** - *(optional)* an `httpx.AsyncClient` of yours, used as is and never closed
      by the binding. It brings its own transport, limits and timeouts, so `transport`,
      `limits` and `timeout` may not be given with it (`ValidationError`).
    * **transport** - *(optional)* the transport of the client the binding makes, default
      `PooledTransport` (httpx over httpcore2's pool).
    * **limits** - *(optional)* `httpx.Limits` of that client, default `DEFAULT_LIMITS` (256
      connections, 64 kept alive).
    * **max_event_bytes** - *(optional)* the largest stream event read, default 4 MiB
      (`AiError(MalformedOutput)` over it).
    * **max_response_bytes** - *(optional)* the largest reply body read, after decompression,
      default 32 MiB (`AiError(MalformedOutput)` over it).
    * **spec** - *(optional)* the declared gateway (`AiGateway(...)`, any `GatewaySpec`).
    * **ensure_gateway** - *(optional)* apply `spec` (create or update in place) once, on
      `start()` or the first call; needs `spec` and `api_token`.

    A missing or bad argument raises `ValidationError` naming each one, before any I/O.
    """

    __slots__ = (
        "_client",
        "_closed",
        "_credentials",
        "_loop",
        "_owns_client",
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
        spec: GatewaySpec | None = None,
        ensure_gateway: bool = False,
    ) -> None:
        if gateway_id is None:
            gateway_id = spec.id if spec is not None else "default"
        texts = {
            "account_id": account_id,
            "gateway_id": gateway_id,
            "api_token": api_token,
            "gateway_token": gateway_token,
        }
        with_client = {"transport": transport, "limits": limits, "timeout": timeout}
        if client is None:
            with_client = {}
        problems = _problems(texts, with_client, spec, ensure_gateway)
        if problems:
            raise ValidationError(problems, what="gateway binding")
        self.account_id = account_id
        self.gateway_id = gateway_id
        self._credentials = Credentials(
            api_token=api_token,
            gateway_token=gateway_token,
            provider_keys=dict(provider_api_keys or {}),
        )
        self.base_url = (base_url or DEFAULT_DATA_URL).rstrip("/")
        self.api_base_url = (api_base_url or DEFAULT_API_URL).rstrip("/")
        self.options = options or GatewayOptions()
        self.retry = retry or DEFAULT_RETRY
        self.timeout = _timeout(timeout)
        self.total_timeout = total_timeout
        self.limits = limits or DEFAULT_LIMITS
        self.max_event_bytes = max_event_bytes
        self.max_response_bytes = max_response_bytes
        self.spec = spec
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
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> GatewayLanguageModel:
        """A `LanguageModel` for `model` (pure: no I/O). `extra_body` / `extra_headers` go on
        every request of the model (a call's own merge over them)."""
        return GatewayLanguageModel(
            self.endpoint(),
            model,
            parameters,
            options=options,
            route=route,
            retry=retry,
            total_timeout=total_timeout,
            extra_body=extra_body,
            extra_headers=extra_headers,
        )

    def embedding_model(
        self,
        model: str,
        *,
        options: GatewayOptions | None = None,
        route: EmbeddingRoute | None = None,
        batch_size: int | None = None,
        retry: RetryPolicy | None = None,
        total_timeout: float | None = None,
    ) -> GatewayEmbeddingModel:
        """An `EmbeddingModel` for `model` (pure: no I/O); see `aigateway_sdk.embedding`."""
        return GatewayEmbeddingModel(
            self.endpoint(),
            model,
            options=options,
            route=route,
            batch_size=batch_size,
            retry=retry,
            total_timeout=total_timeout,
        )

    def models(
        self,
        search: str | None = None,
        *,
        task: str | None = None,
        author: str | None = None,
        source: int | None = None,
        hide_experimental: bool | None = None,
        include_deprecated: bool | None = None,
        per_page: int = DEFAULT_PER_PAGE,
    ) -> AsyncIterator[ModelInfo]:
        """Workers AI's model catalog, searched with the binding's `api_token` at
        `api_base_url` (`aigateway_sdk.catalog`): every `ModelInfo` matching the filters,
        fetched page by page as you iterate (`async for`). Nothing is sent before that; a
        binding without `api_token`, or a bad filter, raises `ValidationError` here."""
        query = ModelQuery(
            search, task, author, source, hide_experimental, include_deprecated, per_page
        )
        api_token = self._credentials.api_token
        if api_token is None:
            raise ValidationError(
                [FieldError(("api_token",), "is required to search the model catalog")],
                what="gateway binding",
            )
        return search_pages(
            self._current_client,
            search_url(self.api_base_url, self.account_id),
            api_token,
            query,
            retry=self.retry,
            max_response_bytes=self.max_response_bytes,
        )

    def endpoint(self) -> Endpoint:
        """What a model of this binding needs, as the binding is now: the gateway's URL, the
        credentials, the client (through the binding, so a model follows it across event
        loops and refuses calls once it is closed) and the defaults."""
        return Endpoint(
            url=self.gateway_url,
            client=self._current_client,
            credentials=self._credentials,
            options=self.options,
            retry=self.retry,
            total_timeout=self.total_timeout,
            max_event_bytes=self.max_event_bytes,
            max_response_bytes=self.max_response_bytes,
            startup=self if self.ensure_gateway else None,
        )

    @property
    def gateway_url(self) -> str:
        return f"{self.base_url}/{self.account_id}/{self.gateway_id}"

    # -- client lifecycle ---------------------------------------------------------------

    @property
    def client(self) -> httpx.AsyncClient:
        """The pooled client, created on first use, and again on first use from another event
        loop (see the module docstring). `RuntimeError` once the binding is closed."""
        return self._current_client()

    def _current_client(self) -> httpx.AsyncClient:
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

    async def ensure_started(self) -> None:
        """What a call does first while `needs_start`: refuse a closed binding
        (`RuntimeError`), else apply the spec (once, even for concurrent first calls)."""
        if self._closed:
            raise RuntimeError(_CLOSED)
        await self._ensure_gateway()

    async def _ensure_gateway(self) -> None:
        loop = _running_loop()
        lock = self._start_lock
        if lock is None or loop is not self._start_lock_loop:
            lock = self._start_lock = anyio.Lock()
            self._start_lock_loop = loop
        async with lock:
            spec, api_token = self.spec, self._credentials.api_token
            if self._started or spec is None:
                return
            if api_token is None:
                raise ValidationError(
                    [FieldError(("api_token",), "is required to ensure the gateway")],
                    what="gateway binding",
                )
            await spec.ensure(
                account_id=self.account_id,
                api_token=api_token,
                api_base_url=self.api_base_url,
                retry=self.retry,
            )
            self._started = True

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    def __repr__(self) -> str:
        credentials = self._credentials
        return (
            f"GatewayBinding(account_id={self.account_id!r}, gateway_id={self.gateway_id!r}, "
            f"base_url={self.base_url!r}, api_token={'***' if credentials.api_token else None}, "
            f"gateway_token={'***' if credentials.gateway_token else None})"
        )


__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_DATA_URL",
    "DEFAULT_TIMEOUT",
    "USER_AGENT",
    "GatewayBinding",
    "GatewaySpec",
]
