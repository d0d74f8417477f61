"""`Endpoint`: what a model needs of the gateway it calls, and nothing more.

A `GatewayLanguageModel` depends on this value, not on `GatewayBinding`: the gateway's URL, the
credentials its requests carry, a way to get the pooled client, and the defaults a model starts
from. `GatewayBinding.model()` builds one for each model it makes (`GatewayBinding.endpoint()`),
so the binding imports the model and the model never imports the binding. Which credential a
request carries is the codec's choice (`Codec.provider_key`); the endpoint only holds them.
Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

import attrs
import httpx

from aigateway_sdk.options import GatewayOptions
from aigateway_sdk.transport.http import DEFAULT_MAX_RESPONSE_BYTES
from aigateway_sdk.transport.retry import DEFAULT_RETRY, RetryPolicy
from aigateway_sdk.transport.sse import DEFAULT_MAX_EVENT_BYTES

USER_AGENT = "cf-aigateway-sdk/0.1 (python)"


def _hidden(value: object) -> str:
    return "***" if value else repr(value)


def _hidden_keys(keys: Mapping[str, str]) -> str:
    return "{" + ", ".join(f"{name!r}: '***'" for name in keys) + "}"


@attrs.frozen(slots=True, kw_only=True)
class Credentials:
    """The secrets requests may carry; `repr` shows none of them.

    `api_token` is the Cloudflare API token (Workers AI's credential too), `gateway_token`
    the gateway's own (`cf-aig-authorization`), `provider_keys` a key per provider name
    (`{"openai": "sk-..."}`)."""

    api_token: str | None = attrs.field(default=None, repr=_hidden)
    gateway_token: str | None = attrs.field(default=None, repr=_hidden)
    provider_keys: Mapping[str, str] = attrs.field(factory=dict, repr=_hidden_keys)

    def provider_key(self, provider: str) -> str | None:
        """The key given for `provider` in `provider_keys`, if any."""
        return self.provider_keys.get(provider)


class Startup(Protocol):
    """Work to do once before the first call (a binding with `ensure_gateway=True`)."""

    @property
    def needs_start(self) -> bool:
        """True while the work has not been done."""
        ...

    async def ensure_started(self) -> None:
        """Do the work unless it is done (once, even for concurrent callers); `RuntimeError`
        when the owner is closed."""
        ...


@attrs.frozen(slots=True, kw_only=True)
class Endpoint:
    """One gateway's data plane as a model sees it."""

    url: str
    """The gateway's URL, `{base_url}/{account_id}/{gateway_id}`; routes go below it."""
    client: Callable[[], httpx.AsyncClient] = attrs.field(repr=False)
    """Returns the pooled client to send with (its owner may make it on first use, per event
    loop, and raise `RuntimeError` once closed)."""
    credentials: Credentials = Credentials()
    options: GatewayOptions = attrs.field(factory=GatewayOptions)
    """Gateway options every model starts from (a model's and a call's win field by field)."""
    retry: RetryPolicy = DEFAULT_RETRY
    total_timeout: float | None = None
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    startup: Startup | None = attrs.field(default=None, repr=False)
    """Run before a call while `startup.needs_start` (None: nothing to run)."""

    def url_for(self, path: str) -> str:
        """The URL of a route below the gateway (`workers-ai/@cf/...`)."""
        return f"{self.url}/{path}"

    def headers(self, provider_key: str | None, options: GatewayOptions) -> dict[str, str]:
        """Request headers: content type, user agent, the provider's key (`authorization`),
        the gateway token (`cf-aig-authorization`) and the `cf-aig-*` options."""
        headers = {"content-type": "application/json", "user-agent": USER_AGENT}
        if provider_key:
            headers["authorization"] = f"Bearer {provider_key}"
        gateway_token = self.credentials.gateway_token
        if gateway_token:
            headers["cf-aig-authorization"] = f"Bearer {gateway_token}"
        headers.update(options.headers())
        return headers


__all__ = ["USER_AGENT", "Credentials", "Endpoint", "Startup"]
