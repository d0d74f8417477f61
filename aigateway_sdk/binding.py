"""`GatewayBinding`: one account, one gateway, its credentials and one pooled HTTP client.

Building a binding does no I/O; the `httpx.AsyncClient` is created on the first call and closed
by `aclose()` (or `async with binding:`). A client passed in by the caller is used as is and
never closed by the binding.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from aigateway_sdk.options import GatewayOptions
from aigateway_sdk.parameters import ModelParameters
from aigateway_sdk.transport.http import DEFAULT_LIMITS
from aigateway_sdk.transport.retry import DEFAULT_RETRY, RetryPolicy
from aigateway_sdk.transport.sse import DEFAULT_MAX_EVENT_BYTES
from aigateway_sdk.validation import FieldError, ValidationError

if TYPE_CHECKING:
    from aigateway_sdk.control.spec import AiGateway
    from aigateway_sdk.gateway_model import GatewayLanguageModel, Route

DEFAULT_DATA_URL = "https://gateway.ai.cloudflare.com/v1"
DEFAULT_API_URL = "https://api.cloudflare.com/client/v4"
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=120.0, write=30.0, pool=30.0)
USER_AGENT = "cf-aigateway-sdk/0.1 (python)"


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
        "_gateway_token",
        "_owns_client",
        "_provider_keys",
        "_started",
        "_transport",
        "account_id",
        "api_base_url",
        "base_url",
        "ensure_gateway",
        "gateway_id",
        "limits",
        "max_event_bytes",
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
        self.spec = spec
        if ensure_gateway and spec is None:
            raise ValidationError(
                [FieldError(("ensure_gateway",), "needs spec=AiGateway(...) to apply")],
                what="gateway binding",
            )
        self.ensure_gateway = ensure_gateway
        self._started = False
        self._transport = transport
        self._client = client
        self._owns_client = client is None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> GatewayBinding:
        """A binding from `CLOUDFLARE_ACCOUNT_ID`, `CLOUDFLARE_API_TOKEN`, `AIGATEWAY_GATEWAY_ID`
        (default "default"), `CLOUDFLARE_GATEWAY_TOKEN` (optional), `AIGATEWAY_BASE_URL`
        (optional); keyword arguments win."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {
            "account_id": env.get("CLOUDFLARE_ACCOUNT_ID", ""),
            "gateway_id": env.get("AIGATEWAY_GATEWAY_ID") or None,
            "api_token": env.get("CLOUDFLARE_API_TOKEN") or None,
            "gateway_token": env.get("CLOUDFLARE_GATEWAY_TOKEN") or None,
            "base_url": env.get("AIGATEWAY_BASE_URL") or None,
            "api_base_url": env.get("AIGATEWAY_API_BASE_URL") or None,
        }
        values.update(overrides)
        return cls(**values)

    # -- models -------------------------------------------------------------------------

    def model(
        self,
        model: str,
        parameters: ModelParameters | None = None,
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
        """The pooled client, created on first use."""
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

    async def aclose(self) -> None:
        """Close the client if the binding made it. A later call opens a new one."""
        client, self._client = self._client, None
        if client is not None and self._owns_client:
            await client.aclose()
        elif client is not None:
            self._client = client

    async def start(self) -> None:
        """Acquire the binding's resources. With `ensure_gateway=True` this applies `spec` to the
        control plane (create or update in place) once, the way an Effect layer acquires its
        resource; otherwise it does nothing. `async with binding:` calls it."""
        if self._started or not self.ensure_gateway or self.spec is None:
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
