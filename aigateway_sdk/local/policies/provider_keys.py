"""Stored provider keys (BYOK) on the data plane: a call that carries no provider
`Authorization` gets its provider's stored key (the default one, or the one named by
`cf-aig-byok-alias`) before it goes upstream, within the key's own rate limit.

The caller's own key wins when it sends one (the alias header is then ignored). An
`Authorization` equal to the request's `cf-aig-authorization` is the gateway token, not a
provider key (what a client such as `openai`, which always sends its `api_key`, carries when
given the gateway token alone): the stored key replaces it. A stored key is
used only by a gateway with `authentication` on (Cloudflare's prerequisite for BYOK), unless the
local server has no api token at all. An alias that names no key of the provider is a 400.
"""

from __future__ import annotations

import math
from typing import TypeVar

import attrs

from aigateway_sdk.contract.provider_keys import BYOK_ALIAS_HEADER
from aigateway_sdk.local.clock import Clock
from aigateway_sdk.local.dataplane.headers import RequestOptions
from aigateway_sdk.local.policies.auth import TokenCheck, bearer_token
from aigateway_sdk.local.policies.ratelimit import RateLimiter, Rule
from aigateway_sdk.local.storage.gateways import LiveGateway
from aigateway_sdk.local.storage.keyrecord import ProviderKeyRecord
from aigateway_sdk.local.storage.provider_keys import ProviderKeyRegistry
from aigateway_sdk.local.upstreams.base import ChatRequest, EmbedRequest
from aigateway_sdk.local.web.errors import CODE_AUTH_ERROR, ApiError, rate_limited
from aigateway_sdk.validation import FieldError

Call = TypeVar("Call", ChatRequest, EmbedRequest)


def _rule(record: ProviderKeyRecord) -> Rule | None:
    settings = record.settings
    limit, period = settings.rate_limit, settings.rate_limit_period
    if not limit or not period:
        return None
    return Rule(max(1, math.floor(limit)), max(1, math.ceil(period)), "sliding")


def _carries_key(authorization: str | None, options: RequestOptions) -> bool:
    """Whether a provider `Authorization` holds a key of the caller's own. The gateway token is
    recognised however it is spelt (`bearer`, extra spaces), as the gateway itself accepts it:
    it must never be forwarded to a provider as if it were their key."""
    value = (authorization or "").strip()
    scheme, _, token = value.partition(" ")
    if not value or (scheme.lower() == "bearer" and not token.strip()):
        return False
    gateway = (options.gateway_authorization or "").strip()
    if not gateway:
        return True
    gateway_token = bearer_token(gateway) or gateway
    return (bearer_token(value) or value) != gateway_token


class StoredKeys:
    """The keys of every gateway (`registry`, loaded on startup) and their rate limits."""

    def __init__(self, tokens: TokenCheck, clock: Clock) -> None:
        self._tokens = tokens
        self._clock = clock
        self._limiter = RateLimiter()
        self._registry: ProviderKeyRegistry | None = None

    @property
    def registry(self) -> ProviderKeyRegistry:
        assert self._registry is not None, "the app has not started"
        return self._registry

    def load(self, records: list[ProviderKeyRecord]) -> None:
        self._registry = ProviderKeyRegistry(records)

    def inject(self, call: Call, live: LiveGateway, options: RequestOptions) -> Call:
        """`call` with its provider's stored key as `Authorization`, when it has none."""
        if self._registry is None or _carries_key(call.authorization, options):
            return call
        alias = options.byok_alias
        record = self._registry.find(live.scope, call.provider, alias)
        if record is None:
            if alias is not None:
                problem = f"names no key stored for provider {call.provider.lower()!r}"
                raise ApiError.invalid([FieldError((BYOK_ALIAS_HEADER,), problem)])
            return call
        if not (live.settings.authentication or self._tokens.open):
            raise ApiError(
                401,
                CODE_AUTH_ERROR,
                "Stored provider keys are used only by a gateway with authentication on",
            )
        rule = _rule(record)
        if rule is not None:
            scope = (f"{record.account_id}\0{record.gateway_id}", record.id)
            decision = self._limiter.check(scope, rule, self._clock.now())
            if not decision.allowed:
                raise rate_limited(decision.retry_after)
        return attrs.evolve(call, authorization=f"Bearer {record.secret}")


__all__ = ["StoredKeys"]
