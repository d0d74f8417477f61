"""Running a dynamic route for a `compat` call to `dynamic/<route name>`: the walk over the
deployed graph (`policies/routes.py`) with its model calls made through the upstream router.

Each model element is one call with `retries` more attempts and `timeout` ms per attempt (for a
stream: until its first event); its failure takes the `fallback` output. The reply is the last
model's, with `model` set to `provider/model` and the headers `cf-aig-dynamic-route` (the
route's name) and `cf-aig-model` (`provider/model`), both this gateway's own (Cloudflare
documents none); the log row names that provider and model. When a model fails with no
fallback the reply is a 502 whose envelope lists the models tried (`route.tried`, ours).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping

import attrs

from aigateway_sdk._json import dumps, loads
from aigateway_sdk.contract.routes import DYNAMIC_MODEL_PREFIX, Model
from aigateway_sdk.local.dataplane.exchange import Exchange, Reply, StreamReply
from aigateway_sdk.local.dataplane.frames import OpenAIChunks
from aigateway_sdk.local.dataplane.wire import openai_body
from aigateway_sdk.local.policies.routes import (
    CallModel,
    Done,
    Failed,
    Refused,
    Walk,
    facts_of,
)
from aigateway_sdk.local.state import AppState
from aigateway_sdk.local.storage.routes import quoted
from aigateway_sdk.local.upstreams.base import (
    ChatRequest,
    Completion,
    Finish,
    StreamEvent,
    UpstreamError,
)
from aigateway_sdk.local.upstreams.router import CallPolicy, Choice, complete, open_stream
from aigateway_sdk.local.web.errors import ApiError, rate_limited
from aigateway_sdk.validation import FieldError

CODE_ROUTE_FAILED = 2020
"""This gateway's code for a route whose models all failed (Cloudflare documents none)."""
ROUTE_HEADER = "cf-aig-dynamic-route"
MODEL_HEADER = "cf-aig-model"
COMPAT_CHAT = "compat/chat/completions"

KeyCheck = Callable[[Choice, str, "str | None"], None]


def dynamic_name(model: str) -> str | None:
    """The route a model id names (`dynamic/<name>`), or None."""
    if model.startswith(DYNAMIC_MODEL_PREFIX):
        return model[len(DYNAMIC_MODEL_PREFIX) :]
    return None


def refuse_off_compat(model: str, path: str) -> None:
    """`dynamic/<name>` is for `compat` chat completions only: elsewhere a 400."""
    if dynamic_name(model) is not None and path != COMPAT_CHAT:
        problem = "dynamic routes (dynamic/<name>) are served on compat/chat/completions only"
        raise ApiError.invalid([FieldError(("model",), problem)])


def route_failed(name: str, tried: list[str], last: UpstreamError | None) -> ApiError:
    """The 502 of a route whose models all failed: Cloudflare's envelope, plus `route`."""
    cause = f": {last.message}" if last is not None else ""
    message = f"Dynamic route {name!r} failed: every model it tried failed{cause}"
    body = {
        "success": False,
        "errors": [{"code": CODE_ROUTE_FAILED, "message": message}],
        "messages": [],
        "result": None,
        "route": {"name": name, "tried": tried},
    }
    return ApiError(502, CODE_ROUTE_FAILED, message, raw=dumps(body))


@attrs.define(slots=True)
class _Served:
    model: Model
    reply: Completion | AsyncIterator[StreamEvent]


class DynamicRoutes:
    def __init__(self, state: AppState, check_key: KeyCheck) -> None:
        self.state = state
        self.check_key = check_key

    async def run(
        self,
        exchange: Exchange,
        chat: ChatRequest,
        payload: object,
        body: bytes,
        headers: Mapping[str, str],
        include_usage: bool,
    ) -> Reply | StreamReply:
        name = chat.model  # the compat model `dynamic/<name>` parses as provider `dynamic`
        book = self.state.routes
        route = book.by_name(exchange.live.scope, name)
        if route is None or route.graph is None:
            raise ApiError.not_found(f"Dynamic route {quoted(name)}")
        metadata_text = exchange.options.metadata
        metadata = loads(metadata_text) if metadata_text else None
        facts = facts_of(metadata_text, metadata, payload, body, headers)
        now = self.state.clock.now()
        walk = Walk(route.graph, facts, book.rates, (*route.scope, route.record.id), now)
        served: _Served | None = None
        tried: list[str] = []
        last: UpstreamError | None = None
        decision = walk.step()
        while isinstance(decision, CallModel):
            element = decision.element
            tried.append(f"{element.provider}/{element.model}")
            if served is not None and not isinstance(served.reply, Completion):
                await _close(served.reply)
            try:
                served = _Served(element, await self._call(element, chat, exchange))
            except UpstreamError as error:
                last = error
                decision = walk.step(False)
                continue
            decision = walk.step(True)
        if isinstance(decision, Refused):
            raise rate_limited(decision.retry_after)
        if isinstance(decision, Failed) or served is None:
            assert isinstance(decision, Failed | Done)
            raise route_failed(name, tried, last)
        return self._reply(exchange, walk, name, served, include_usage)

    async def _call(
        self, element: Model, chat: ChatRequest, exchange: Exchange
    ) -> Completion | AsyncIterator[StreamEvent]:
        request = attrs.evolve(chat, provider=element.provider, model=element.model)
        target, live = (element.provider, element.model), exchange.live
        limits, metadata = live.settings.spend_limits, exchange.options.metadata
        if not self.state.spend.admit(
            live.scope, limits, target, metadata, self.state.clock.now()
        ).allowed:
            raise UpstreamError(
                429, f"spend limit exceeded for {'/'.join(target)}", retryable=False
            )
        request = self.state.stored_keys.inject(request, exchange.live, exchange.options)
        choice = self.state.router.choose(element.provider, element.model)
        # A caller of a route need not know its providers: the gateway token stands in for
        # a provider key (on Cloudflare, routes use the gateway's stored keys).
        authorization = chat.authorization
        if not self.state.tokens.accepts(authorization):
            authorization = exchange.options.gateway_authorization
        self.check_key(choice, element.provider, authorization)
        policy = CallPolicy(timeout_ms=element.timeout, max_attempts=element.retries + 1)
        if chat.stream:
            return await open_stream(choice.upstream, request, policy)
        return await complete(choice.upstream, request, policy)

    def _reply(
        self, exchange: Exchange, walk: Walk, name: str, served: _Served, include_usage: bool
    ) -> Reply | StreamReply:
        model = served.model
        label = f"{model.provider}/{model.model}"
        exchange.provider, exchange.model = model.provider, model.model
        headers = ((ROUTE_HEADER, name), (MODEL_HEADER, label))
        now = self.state.clock.now()
        reply_id = f"chatcmpl-{exchange.log_id}"
        cost = exchange.options.custom_cost
        if isinstance(served.reply, Completion):
            completion = served.reply
            tokens = (completion.prompt_tokens, completion.completion_tokens)
            walk.charge(cost.cost(*tokens) if cost is not None else 0.0, now)
            body = openai_body(reply_id, int(now), label, completion)
            return Reply(200, body, tokens_in=tokens[0], tokens_out=tokens[1], headers=headers)
        events = _charging(served.reply, walk, exchange, self.state.clock.now)
        frames = OpenAIChunks(reply_id, int(now), label, include_usage)
        return StreamReply(events, frames, headers=headers)


async def _charging(
    events: AsyncIterator[StreamEvent], walk: Walk, exchange: Exchange, clock: Callable[[], float]
) -> AsyncIterator[StreamEvent]:
    """The stream's events; its cost charged to the route's cost limits once it finishes."""
    try:
        async for event in events:
            if isinstance(event, Finish) and walk.cost_keys:
                cost = exchange.options.custom_cost
                if cost is not None:
                    walk.charge(cost.cost(event.prompt_tokens, event.completion_tokens), clock())
            yield event
    finally:
        await _close(events)


async def _close(events: AsyncIterator[StreamEvent]) -> None:
    close = getattr(events, "aclose", None)
    if close is not None:
        await close()


__all__ = [
    "CODE_ROUTE_FAILED",
    "MODEL_HEADER",
    "ROUTE_HEADER",
    "DynamicRoutes",
    "dynamic_name",
    "refuse_off_compat",
    "route_failed",
]
