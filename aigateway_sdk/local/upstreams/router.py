"""Choosing an upstream per model (fnmatch over the routing table), deciding who may call it,
and calling it with the request's timeout and retry policy (`cf-aig-request-timeout`,
`-max-attempts`, `-retry-delay`, `-backoff`, else the gateway's `retry_*` settings)."""

from __future__ import annotations

import fnmatch
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import TypeVar

import anyio
import attrs

from aigateway_sdk.contract.gateway import GatewaySettings
from aigateway_sdk.local.config import LocalGatewayConfig, UpstreamRoute
from aigateway_sdk.local.dataplane.headers import RequestOptions
from aigateway_sdk.local.upstreams.base import (
    ChatRequest,
    Completion,
    Embedder,
    Embeddings,
    EmbedRequest,
    StreamEvent,
    Upstream,
    UpstreamError,
)
from aigateway_sdk.local.upstreams.builtin import BuiltinModel
from aigateway_sdk.local.upstreams.catalog import is_unknown_workers_ai_model
from aigateway_sdk.local.upstreams.fault import FaultUpstream
from aigateway_sdk.local.upstreams.forward import OpenAIForwarder
from aigateway_sdk.local.upstreams.redact import Redactor

WORKERS_AI = "workers-ai"


def is_workers_ai(provider: str) -> bool:
    """Provider names are case-insensitive (`Workers-AI` is `workers-ai`)."""
    return provider.lower() == WORKERS_AI


@attrs.frozen(slots=True)
class CallPolicy:
    timeout_ms: int | None = None
    max_attempts: int = 1
    retry_delay_ms: int = 0
    backoff: str = "constant"

    @classmethod
    def of(cls, options: RequestOptions, settings: GatewaySettings) -> CallPolicy:
        return cls(
            timeout_ms=options.request_timeout_ms,
            max_attempts=options.max_attempts or settings.retry_max_attempts or 1,
            retry_delay_ms=(
                options.retry_delay_ms
                if options.retry_delay_ms is not None
                else settings.retry_delay or 0
            ),
            backoff=options.backoff or settings.retry_backoff or "constant",
        )

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1 = the second attempt)."""
        base = self.retry_delay_ms / 1000
        if self.backoff == "linear":
            return base * retry
        if self.backoff == "exponential":
            return base * float(2 ** (retry - 1))
        return base


DEFAULT_POLICY = CallPolicy()


@attrs.frozen(slots=True)
class Choice:
    """The upstream that answers a call, and whether it sends a key the server holds (an
    `openai` route with an `api_key`) instead of the caller's own `Authorization`."""

    upstream: Upstream
    server_key: bool = False

    def needs_api_token(self, provider: str) -> bool:
        """Whether the caller's provider `Authorization` must be `Bearer <api token>`.

        Two reasons, checked on the upstream actually chosen, whatever route or provider name
        led to it: Workers AI's provider key is the account's API token (Cloudflare's rule;
        here the api token stands for it), and the server's own keys are for api token
        holders only (anyone else could spend them through any provider name or path that
        reaches the route).
        """
        return self.server_key or is_workers_ai(provider)


class Router:
    """The upstream of every model: the first matching route, else the built-in model."""

    def __init__(self, config: LocalGatewayConfig) -> None:
        self.builtin = Choice(
            BuiltinModel(
                latency_ms=config.builtin_latency_ms,
                token_latency_ms=config.builtin_token_latency_ms,
            )
        )
        self._own_keys = Redactor(route.api_key for route in config.upstreams)
        self.redactor = self._own_keys
        """Every key the server holds: removed from all that upstreams send back, and from
        the bodies kept in the request log."""
        self._routes: list[tuple[UpstreamRoute, Choice]] = [
            (route, self._build(route)) for route in config.upstreams
        ]
        self._memo: dict[tuple[str, str], Choice] = {}
        self.allow_unknown_models = config.allow_unknown_models

    def redact_stored(self, keys: Iterable[str]) -> None:
        """Redact the routes' keys and these (the provider keys stored on the control plane
        right now, replacing the last set: a rotated or deleted key's secret does not stay
        behind), from now on, in all that upstreams send back and in the request log."""
        self.redactor = self._own_keys.extended(keys)
        for _route, choice in self._routes:
            if isinstance(choice.upstream, OpenAIForwarder):
                choice.upstream.redactor = self.redactor

    def _build(self, route: UpstreamRoute) -> Choice:
        if route.kind == "openai":
            return Choice(OpenAIForwarder(route, self.redactor), server_key=bool(route.api_key))
        model = BuiltinModel(latency_ms=route.latency_ms, token_latency_ms=route.token_latency_ms)
        if route.kind == "fault":
            return Choice(FaultUpstream(route.status, route.fail_times, model))
        return Choice(model)

    def choose(self, provider: str, model: str) -> Choice:
        """The first route whose pattern matches the model, or `provider/model` (the provider
        in lower case), else the built-in model."""
        key = (provider.lower(), model)
        found = self._memo.get(key)
        if found is None:
            found = self.builtin
            qualified = f"{key[0]}/{model}"
            for route, choice in self._routes:
                if fnmatch.fnmatchcase(model, route.pattern) or fnmatch.fnmatchcase(
                    qualified, route.pattern
                ):
                    found = choice
                    break
            if len(self._memo) < 10_000:
                self._memo[key] = found
        return found

    def unknown_model(self, choice: Choice, provider: str, model: str) -> bool:
        """Whether Workers AI would answer "No such model": a `workers-ai` call to an `@cf/...`
        id the built-in catalog does not list, left to the built-in model (no route names it),
        unless `allow_unknown_models`."""
        return (
            not self.allow_unknown_models
            and choice is self.builtin
            and is_workers_ai(provider)
            and is_unknown_workers_ai_model(model)
        )

    async def aclose(self) -> None:
        for _route, choice in self._routes:
            await choice.upstream.aclose()


T = TypeVar("T")


def _timeout_error(policy: CallPolicy) -> UpstreamError:
    return UpstreamError(504, f"upstream did not answer within {policy.timeout_ms} ms")


async def _with_retries(call: Callable[[], Awaitable[T]], policy: CallPolicy) -> T:
    """`call` with the policy's timeout per attempt and its retries; raises the last
    UpstreamError when every attempt failed."""
    attempt = 1
    while True:
        try:
            if policy.timeout_ms is None:
                return await call()
            with anyio.fail_after(policy.timeout_ms / 1000):
                return await call()
        except TimeoutError:
            error = _timeout_error(policy)
        except UpstreamError as failure:
            error = failure
        if not error.retryable or attempt >= policy.max_attempts:
            raise error
        await anyio.sleep(policy.delay(attempt))
        attempt += 1


async def complete(upstream: Upstream, request: ChatRequest, policy: CallPolicy) -> Completion:
    """One call with retries; raises the last UpstreamError when every attempt failed."""
    return await _with_retries(lambda: upstream.complete(request), policy)


async def embed(upstream: Upstream, request: EmbedRequest, policy: CallPolicy) -> Embeddings:
    """An embeddings call with retries, like `complete`; an upstream that serves no
    embeddings answers 400."""
    if not isinstance(upstream, Embedder):
        raise UpstreamError(400, f"{request.model} does not serve embeddings here", retryable=False)
    embedder = upstream
    return await _with_retries(lambda: embedder.embed(request), policy)


async def open_stream(
    upstream: Upstream, request: ChatRequest, policy: CallPolicy
) -> AsyncIterator[StreamEvent]:
    """A stream whose first event has already arrived (within the timeout, with retries).

    Nothing is retried once the first event is in hand.
    """
    attempt = 1
    while True:
        events = upstream.stream(request)
        try:
            if policy.timeout_ms is None:
                first = await anext(events)
            else:
                with anyio.fail_after(policy.timeout_ms / 1000):
                    first = await anext(events)
            return _chain(first, events)
        except TimeoutError:
            error = _timeout_error(policy)
        except UpstreamError as failure:
            error = failure
        except StopAsyncIteration:
            error = UpstreamError(502, "upstream closed the stream without a reply")
        await events.aclose()  # type: ignore[attr-defined]
        if not error.retryable or attempt >= policy.max_attempts:
            raise error
        await anyio.sleep(policy.delay(attempt))
        attempt += 1


async def _chain(
    first: StreamEvent, rest: AsyncIterator[StreamEvent]
) -> AsyncIterator[StreamEvent]:
    try:
        yield first
        async for event in rest:
            yield event
    finally:
        await rest.aclose()  # type: ignore[attr-defined]


__all__ = [
    "DEFAULT_POLICY",
    "WORKERS_AI",
    "CallPolicy",
    "Choice",
    "Router",
    "complete",
    "embed",
    "is_workers_ai",
    "open_stream",
]
