"""Choosing an upstream per model (fnmatch over the routing table) and calling it with the
request's timeout and retry policy (`cf-aig-request-timeout`, `-max-attempts`, `-retry-delay`,
`-backoff`, else the gateway's `retry_*` settings)."""

from __future__ import annotations

import fnmatch
from collections.abc import AsyncIterator

import anyio
import attrs

from aigateway_sdk.control.spec import GatewaySettings
from aigateway_sdk.local.config import LocalGatewayConfig, UpstreamRoute
from aigateway_sdk.local.headers import RequestOptions
from aigateway_sdk.local.upstreams.base import (
    ChatRequest,
    Completion,
    StreamEvent,
    Upstream,
    UpstreamError,
)
from aigateway_sdk.local.upstreams.builtin import BuiltinModel
from aigateway_sdk.local.upstreams.fault import FaultUpstream
from aigateway_sdk.local.upstreams.forward import OpenAIForwarder


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


class Router:
    """The upstream of every model: the first matching route, else the built-in model."""

    def __init__(self, config: LocalGatewayConfig) -> None:
        self.builtin = BuiltinModel(
            latency_ms=config.builtin_latency_ms, token_latency_ms=config.builtin_token_latency_ms
        )
        self._routes: list[tuple[UpstreamRoute, Upstream]] = [
            (route, self._build(route)) for route in config.upstreams
        ]
        self._memo: dict[tuple[str, str], Upstream] = {}

    def _build(self, route: UpstreamRoute) -> Upstream:
        if route.kind == "openai":
            return OpenAIForwarder(route)
        model = BuiltinModel(latency_ms=route.latency_ms, token_latency_ms=route.token_latency_ms)
        if route.kind == "fault":
            return FaultUpstream(route.status, route.fail_times, model)
        return model

    def upstream_for(self, provider: str, model: str) -> Upstream:
        key = (provider, model)
        found = self._memo.get(key)
        if found is None:
            found = self.builtin
            qualified = f"{provider}/{model}"
            for route, upstream in self._routes:
                if fnmatch.fnmatchcase(model, route.pattern) or fnmatch.fnmatchcase(
                    qualified, route.pattern
                ):
                    found = upstream
                    break
            if len(self._memo) < 10_000:
                self._memo[key] = found
        return found

    async def aclose(self) -> None:
        for _route, upstream in self._routes:
            await upstream.aclose()


def _timeout_error(policy: CallPolicy) -> UpstreamError:
    return UpstreamError(504, f"upstream did not answer within {policy.timeout_ms} ms")


async def complete(upstream: Upstream, request: ChatRequest, policy: CallPolicy) -> Completion:
    """One call with retries; raises the last UpstreamError when every attempt failed."""
    attempt = 1
    while True:
        try:
            if policy.timeout_ms is None:
                return await upstream.complete(request)
            with anyio.fail_after(policy.timeout_ms / 1000):
                return await upstream.complete(request)
        except TimeoutError:
            error = _timeout_error(policy)
        except UpstreamError as failure:
            error = failure
        if not error.retryable or attempt >= policy.max_attempts:
            raise error
        await anyio.sleep(policy.delay(attempt))
        attempt += 1


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


__all__ = ["DEFAULT_POLICY", "CallPolicy", "Router", "complete", "open_stream"]
