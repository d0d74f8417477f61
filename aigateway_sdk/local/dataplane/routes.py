"""The data plane, `/v1/{account_id}/{gateway_id}/...`: Workers AI, OpenAI-compatible routes
and the Universal endpoint, with authentication, rate limiting, caching, retries and logs.

Order of checks for one request: gateway exists (404) -> gateway authentication (401, 2009;
an unknown `default` is created only after it) -> `cf-aig-*` headers (400) -> body size (413)
-> rate limit (429, 2003; logged) -> JSON and fields (400; logged) -> stored provider key, when
the call carries none (`policies.provider_keys`: 400/401/429; logged) -> provider auth (401;
logged) -> cache -> upstream.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Mapping
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aigateway_sdk.contract.catalog import (
    NO_SUCH_MODEL_CODE,
    NO_SUCH_MODEL_STATUS,
    no_such_model_message,
)
from aigateway_sdk.contract.gateway import GatewaySettings
from aigateway_sdk.local.dataplane.dynamic import (
    DynamicRoutes,
    dynamic_name,
    refuse_off_compat,
)
from aigateway_sdk.local.dataplane.exchange import Exchange, Reply, StreamReply, Target
from aigateway_sdk.local.dataplane.frames import Frames, NativeFrames, OpenAIChunks
from aigateway_sdk.local.dataplane.headers import (
    RequestOptions,
    header_map,
    parse_options,
    provider_authorization,
)
from aigateway_sdk.local.dataplane.responder import Responder, error_response
from aigateway_sdk.local.dataplane.universal import parse_step, step_list, without_headers
from aigateway_sdk.local.dataplane.wire import (
    native_body,
    native_embed_body,
    openai_body,
    openai_embed_body,
    parse_native,
    parse_native_embed,
    parse_openai,
    parse_openai_embed,
)
from aigateway_sdk.local.policies.cache import CachedReply, cache_key
from aigateway_sdk.local.policies.spend import spend_limited
from aigateway_sdk.local.state import AppState
from aigateway_sdk.local.storage.gateways import LiveGateway
from aigateway_sdk.local.upstreams.base import (
    ChatRequest,
    Completion,
    EmbedRequest,
    UnservableRequest,
    UpstreamError,
)
from aigateway_sdk.local.upstreams.builtin import is_embedding_model
from aigateway_sdk.local.upstreams.router import CallPolicy, Choice, complete, embed, open_stream
from aigateway_sdk.local.web.body import parse_json, read_body
from aigateway_sdk.local.web.errors import (
    CODE_AUTH_ERROR,
    CODE_TIMEOUT,
    CODE_UPSTREAM,
    JSON,
    ApiError,
    rate_limited,
)
from aigateway_sdk.validation import FieldError

T = TypeVar("T")

CUSTOM_KEY_DEFAULT_TTL = 300
"""Seconds an entry lives when only `cf-aig-cache-key` opted the request into caching."""


def _upstream_error(error: UpstreamError) -> ApiError:
    if isinstance(error, UnservableRequest):
        return ApiError.invalid([FieldError((error.field,), error.message)])
    status = error.status if 400 <= error.status <= 599 else 502
    code = CODE_TIMEOUT if status == 504 else CODE_UPSTREAM
    return ApiError(status, code, error.message)


class DataPlane:
    def __init__(self, state: AppState) -> None:
        self.state = state
        self.config = state.config
        self.responder = Responder(state)
        self.dynamic = DynamicRoutes(state, self._check_provider_key)

    def routes(self) -> list[Route]:
        base = "/v1/{account_id}/{gateway_id}"
        return [
            Route(base, self.universal, methods=["POST"]),
            Route(base + "/", self.universal, methods=["POST"]),
            Route(
                f"{base}/workers-ai/v1/chat/completions", self.workers_ai_openai, methods=["POST"]
            ),
            Route(base + "/workers-ai/{model:path}", self.workers_ai, methods=["POST"]),
            Route(f"{base}/compat/chat/completions", self.compat, methods=["POST"]),
            Route(f"{base}/compat/embeddings", self.compat_embeddings, methods=["POST"]),
            Route(base + "/{provider}/embeddings", self.provider_embeddings, methods=["POST"]),
            Route(base + "/{provider}/v1/embeddings", self.provider_embeddings, methods=["POST"]),
            Route(base + "/{provider}/chat/completions", self.provider_openai, methods=["POST"]),
            Route(base + "/{provider}/v1/chat/completions", self.provider_openai, methods=["POST"]),
        ]

    # --- route handlers ----------------------------------------------------------------------

    async def workers_ai(self, request: Request) -> Response:
        model = request.path_params["model"]
        target = Target("native", "workers-ai", f"workers-ai/{model}", model=model)
        return await self._single(request, target)

    async def workers_ai_openai(self, request: Request) -> Response:
        target = Target(
            "openai", "workers-ai", "workers-ai/v1/chat/completions", fixed_provider="workers-ai"
        )
        return await self._single(request, target)

    async def compat(self, request: Request) -> Response:
        return await self._single(request, Target("openai", "compat", "compat/chat/completions"))

    async def compat_embeddings(self, request: Request) -> Response:
        return await self._single(request, Target("openai", "compat", "compat/embeddings"))

    async def provider_embeddings(self, request: Request) -> Response:
        provider = request.path_params["provider"]
        target = Target("openai", provider, f"{provider}/embeddings", fixed_provider=provider)
        return await self._single(request, target)

    async def provider_openai(self, request: Request) -> Response:
        provider = request.path_params["provider"]
        target = Target("openai", provider, f"{provider}/chat/completions", fixed_provider=provider)
        return await self._single(request, target)

    async def universal(self, request: Request) -> Response:
        try:
            live, options, body, _headers = await self._admit(request)
        except ApiError as error:
            return error_response(error)
        first = self._exchange(live, options, "universal", "", "", without_headers(body), step=0)
        limited = self._rate_limit(live)
        if limited is not None:
            return await self.responder.finish(first, Reply.error(limited))
        try:
            steps = step_list(parse_json(body))
        except ApiError as error:
            return await self.responder.finish(first, Reply.error(error))
        policy = CallPolicy.of(options, live.settings)
        last: Response | None = None
        for index, raw in enumerate(steps):
            exchange = (
                first if index == 0 else self._exchange(live, options, "", "", "", b"", index)
            )
            extra = (("cf-aig-step", str(index)),)
            try:
                step = parse_step(raw, index, policy)
                exchange.provider, exchange.path = step.target.provider, step.target.path
                exchange.model, exchange.request_body = step.target.model, step.body
                outcome = await self._attempt(
                    exchange, step.target, step.body, step.authorization, step.policy
                )
            except ApiError as error:
                last = await self.responder.finish(exchange, Reply.error(error), extra=extra)
                continue
            return await self.responder.finish(exchange, outcome, extra=extra)
        assert last is not None
        return last

    # --- the pipeline ------------------------------------------------------------------------

    async def _admit(
        self, request: Request
    ) -> tuple[LiveGateway, RequestOptions, bytes, dict[str, str]]:
        params = request.path_params
        headers = header_map(request.scope)
        live = await self.state.data_gateway(params["account_id"], params["gateway_id"], headers)
        options = parse_options(headers)
        body = await read_body(request, self.config.max_body_bytes)
        return live, options, body, headers

    def _exchange(
        self,
        live: LiveGateway,
        options: RequestOptions,
        provider: str,
        model: str,
        path: str,
        body: bytes,
        step: int | None = None,
    ) -> Exchange:
        now = self.state.clock.now()
        collect = (
            options.collect_log if options.collect_log is not None else live.settings.collect_logs
        )
        return Exchange(
            live=live,
            options=options,
            log_id=self.state.ulids.new(now),
            created_at=now,
            started=time.perf_counter(),
            collect=collect,
            provider=provider,
            model=model,
            path=path,
            request_body=body,
            step=step,
        )

    def _rate_limit(self, live: LiveGateway) -> ApiError | None:
        decision = self.state.limiter.check(live.scope, live.rule, self.state.clock.now())
        if decision.allowed:
            return None
        return rate_limited(decision.retry_after)

    async def _single(self, request: Request, target: Target) -> Response:
        try:
            live, options, body, headers = await self._admit(request)
        except ApiError as error:
            return error_response(error)
        exchange = self._exchange(live, options, target.provider, target.model, target.path, body)
        content_type = headers.get("content-type")
        if content_type:
            exchange.request_content_type = content_type.partition(";")[0].strip() or JSON
        limited = self._rate_limit(live)
        if limited is not None:
            return await self.responder.finish(exchange, Reply.error(limited))
        policy = CallPolicy.of(options, live.settings)
        try:
            outcome = await self._attempt(
                exchange, target, body, headers.get("authorization"), policy, headers
            )
        except ApiError as error:
            return await self.responder.finish(exchange, Reply.error(error))
        return await self.responder.finish(exchange, outcome)

    async def _attempt(
        self,
        exchange: Exchange,
        target: Target,
        body: bytes,
        authorization: str | None,
        policy: CallPolicy,
        headers: Mapping[str, str] | None = None,
    ) -> Reply | StreamReply:
        authorization = provider_authorization(authorization)
        if _embeddings(target):
            return await self._embed(exchange, target, body, authorization, policy)
        payload = parse_json(body)
        chat, label, include_usage = _parse_chat(target, payload, authorization)
        exchange.provider, exchange.model = chat.provider, chat.model
        refuse_off_compat(label, target.path)  # dynamic/<route>: compat only
        if dynamic_name(label) is not None:
            args = (payload, body, headers or {}, include_usage)
            return await self.dynamic.run(exchange, chat, *args)
        chat = self.state.stored_keys.inject(chat, exchange.live, exchange.options)
        authorization = chat.authorization
        choice = self.state.router.choose(chat.provider, chat.model)
        self._check_provider_key(choice, chat.provider, authorization)
        self._check_model(choice, chat.provider, chat.model)
        self._check_spend(exchange)
        ttl = _cache_ttl(exchange.options, exchange.live.settings)
        now = self.state.clock.now()
        cacheable = ttl > 0 and not chat.stream
        key = self._cache_key(exchange, target, chat.model, authorization, body, cacheable)
        hit = self._cache_lookup(key, now)
        if hit is not None:
            return hit
        reply_id = f"chatcmpl-{exchange.log_id}"
        if chat.stream:
            events = await _upstream(open_stream(choice.upstream, chat, policy))
            frames: Frames = NativeFrames()
            if target.shape == "openai":
                frames = OpenAIChunks(reply_id, int(now), label, include_usage)
            return StreamReply(events, frames)
        completion = await _upstream(complete(choice.upstream, chat, policy))
        if target.shape == "native":
            reply_body = native_body(completion, chat.json_mode)
        else:
            reply_body = openai_body(reply_id, int(now), label, completion)
        if key is not None:
            self.state.cache.put(key, _cache_entry(exchange, reply_body, completion, now + ttl))
        return Reply(
            200,
            reply_body,
            tokens_in=completion.prompt_tokens,
            tokens_out=completion.completion_tokens,
        )

    async def _embed(
        self,
        exchange: Exchange,
        target: Target,
        body: bytes,
        authorization: str | None,
        policy: CallPolicy,
    ) -> Reply:
        """An embeddings call: checked, cached and logged like a chat call."""
        request, label, as_base64 = _parse_embed(target, parse_json(body), authorization)
        refuse_off_compat(label, target.path)
        exchange.provider, exchange.model = request.provider, request.model
        request = self.state.stored_keys.inject(request, exchange.live, exchange.options)
        authorization = request.authorization
        choice = self.state.router.choose(request.provider, request.model)
        self._check_provider_key(choice, request.provider, authorization)
        self._check_model(choice, request.provider, request.model)
        self._check_spend(exchange)
        ttl = _cache_ttl(exchange.options, exchange.live.settings)
        now = self.state.clock.now()
        key = self._cache_key(exchange, target, request.model, authorization, body, ttl > 0)
        hit = self._cache_lookup(key, now)
        if hit is not None:
            return hit
        embeddings = await _upstream(embed(choice.upstream, request, policy))
        if target.shape == "native":
            reply_body = native_embed_body(embeddings)
        else:
            reply_body = openai_embed_body(label, embeddings, as_base64)
        tokens = embeddings.prompt_tokens
        if key is not None:
            entry = CachedReply(reply_body, 200, JSON, tokens, 0, exchange.live.scope, now + ttl)
            self.state.cache.put(key, entry)
        return Reply(200, reply_body, tokens_in=tokens, tokens_out=0)

    @staticmethod
    def _cache_key(
        exchange: Exchange,
        target: Target,
        model: str,
        authorization: str | None,
        body: bytes,
        cacheable: bool,
    ) -> bytes | None:
        """The cache key of a reply that may be cached and was not asked to skip the cache."""
        if not cacheable or exchange.options.skip_cache:
            return None
        return _cache_key(exchange, target, model, authorization, body)

    def _cache_lookup(self, key: bytes | None, now: float) -> Reply | None:
        hit = self.state.cache.get(key, now) if key is not None else None
        return _cache_hit(hit) if hit is not None else None

    def _check_spend(self, exchange: Exchange) -> None:
        """Spend limits (429), once the provider and model are known (see `policies.spend`)."""
        live, target = exchange.live, (exchange.provider, exchange.model)
        limits, metadata = live.settings.spend_limits, exchange.options.metadata
        decision = self.state.spend.admit(
            live.scope, limits, target, metadata, self.state.clock.now()
        )
        if not decision.allowed:
            raise spend_limited(decision.retry_after)

    def _check_provider_key(self, choice: Choice, provider: str, authorization: str | None) -> None:
        """On the upstream chosen: a call that would use a key the server holds must carry the
        API token as its provider `Authorization` (unless the server is open)."""
        tokens = self.state.tokens
        provider_checked = choice.needs_api_token(provider) and not tokens.open
        if provider_checked and not tokens.accepts(authorization):
            raise ApiError(401, CODE_AUTH_ERROR, "Authentication error")

    def _check_model(self, choice: Choice, provider: str, model: str) -> None:
        """Workers AI's "No such model" (400, 5007) for an `@cf/...` id it does not serve."""
        if self.state.router.unknown_model(choice, provider, model):
            message = no_such_model_message(model)
            raise ApiError(NO_SUCH_MODEL_STATUS, NO_SUCH_MODEL_CODE, message)


def _parse_chat(
    target: Target, payload: object, authorization: str | None
) -> tuple[ChatRequest, str, bool]:
    """The call in the route's shape: the request, the model as the reply names it, and
    whether an OpenAI stream ends with a usage chunk."""
    if target.shape == "native":
        chat = parse_native(
            payload, provider=target.provider, model=target.model, authorization=authorization
        )
        return chat, chat.model, False
    return parse_openai(payload, provider=target.fixed_provider, authorization=authorization)


def _embeddings(target: Target) -> bool:
    """Whether a call asks for embeddings: an OpenAI `.../embeddings` path, or a native call
    to an embedding model (see `builtin.is_embedding_model`)."""
    if target.shape == "openai":
        return target.path.endswith("embeddings")
    return is_embedding_model(target.model)


def _parse_embed(
    target: Target, payload: object, authorization: str | None
) -> tuple[EmbedRequest, str, bool]:
    """The embeddings call in the route's shape, the model as the reply names it, and
    whether the vectors go back as base64."""
    if target.shape == "native":
        request = parse_native_embed(
            payload, provider=target.provider, model=target.model, authorization=authorization
        )
        return request, request.model, False
    return parse_openai_embed(payload, provider=target.fixed_provider, authorization=authorization)


def _cache_ttl(options: RequestOptions, settings: GatewaySettings) -> int:
    """Seconds a reply may be cached (0: not cached): the request's `cf-aig-cache-ttl`, else
    the gateway's, else `CUSTOM_KEY_DEFAULT_TTL` if only `cf-aig-cache-key` asks for it."""
    ttl = options.cache_ttl or settings.cache_ttl or 0
    if not ttl and options.cache_key is not None:
        return CUSTOM_KEY_DEFAULT_TTL
    return ttl


def _cache_key(
    exchange: Exchange, target: Target, model: str, authorization: str | None, body: bytes
) -> bytes:
    live, options = exchange.live, exchange.options
    return cache_key(
        live.scope,
        provider=target.provider,
        path=target.path,
        model=model,
        provider_auth=authorization or "",
        gateway_auth=(options.gateway_authorization or "") if live.settings.authentication else "",
        body=body,
        custom_key=options.cache_key,
    )


def _cache_hit(hit: CachedReply) -> Reply:
    return Reply(
        hit.status,
        hit.body,
        hit.content_type,
        cached=True,
        tokens_in=hit.tokens_in,
        tokens_out=hit.tokens_out,
    )


def _cache_entry(
    exchange: Exchange, body: bytes, completion: Completion, expires_at: float
) -> CachedReply:
    return CachedReply(
        body,
        200,
        JSON,
        completion.prompt_tokens,
        completion.completion_tokens,
        exchange.live.scope,
        expires_at,
    )


async def _upstream(call: Awaitable[T]) -> T:
    """The upstream's answer; its failure as the gateway's error reply."""
    try:
        return await call
    except UpstreamError as error:
        raise _upstream_error(error) from None


__all__ = ["DataPlane"]
