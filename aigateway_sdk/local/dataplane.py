"""The data plane, `/v1/{account_id}/{gateway_id}/...`: Workers AI, OpenAI-compatible routes
and the Universal endpoint, with authentication, rate limiting, caching, retries and logs.

Order of checks for one request: gateway exists (404) -> gateway authentication (401, 2009)
-> `cf-aig-*` headers (400) -> body size (413) -> rate limit (429, 2003; logged) -> JSON and
fields (400; logged) -> provider auth (401; logged) -> cache -> upstream.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from typing import Any, Literal

import anyio
import attrs
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from aigateway_sdk._json import dumps
from aigateway_sdk.local.body import parse_json, read_body
from aigateway_sdk.local.cache import CachedReply, cache_key
from aigateway_sdk.local.errors import (
    CODE_AUTH_ERROR,
    CODE_INVALID,
    CODE_TIMEOUT,
    CODE_UPSTREAM,
    JSON,
    ApiError,
    gateway_unauthorized,
    rate_limited,
)
from aigateway_sdk.local.gateways import LiveGateway
from aigateway_sdk.local.headers import RequestOptions, header_map, parse_options
from aigateway_sdk.local.logbook import cap_body
from aigateway_sdk.local.records import LogRecord
from aigateway_sdk.local.state import AppState
from aigateway_sdk.local.upstreams.base import Delta, StreamEvent, UpstreamError
from aigateway_sdk.local.upstreams.router import CallPolicy, complete, open_stream
from aigateway_sdk.local.wire import (
    DONE_FRAME,
    SSE,
    OpenAIChunks,
    native_body,
    native_delta,
    native_finish,
    openai_body,
    parse_native,
    parse_openai,
)

CUSTOM_KEY_DEFAULT_TTL = 300
"""Seconds an entry lives when only `cf-aig-cache-key` opted the request into caching."""

Shape = Literal["native", "openai"]


@attrs.frozen(slots=True)
class Target:
    """What a request (or a Universal step) addresses."""

    shape: Shape
    provider: str
    path: str
    model: str = ""
    fixed_provider: str | None = None
    """OpenAI shape: the provider the model belongs to; None means `{provider}/{model}`."""


@attrs.define(slots=True)
class Exchange:
    """One logged unit of work: a request, or one step of a Universal request."""

    live: LiveGateway
    options: RequestOptions
    log_id: str
    created_at: float
    started: float
    collect: bool
    provider: str
    model: str
    path: str
    request_body: bytes
    step: int | None = None


@attrs.frozen(slots=True)
class Reply:
    status: int
    body: bytes
    content_type: str = JSON
    cached: bool = False
    tokens_in: int | None = None
    tokens_out: int | None = None
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def error(cls, error: ApiError) -> Reply:
        return cls(error.status, error.body(), headers=tuple(error.headers.items()))


@attrs.define(slots=True)
class StreamReply:
    events: AsyncIterator[StreamEvent]
    shape: Shape
    chunks: OpenAIChunks | None
    tokens_in: int | None = None
    tokens_out: int | None = None


def _upstream_error(error: UpstreamError) -> ApiError:
    status = error.status if 400 <= error.status <= 599 else 502
    code = CODE_TIMEOUT if status == 504 else CODE_UPSTREAM
    return ApiError(status, code, error.message)


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name and isinstance(value, str):
            return value
    return None


def step_target(provider: str, endpoint: str) -> Target | None:
    endpoint = endpoint.strip("/")
    path = f"{provider}/{endpoint}"
    if provider == "workers-ai":
        if endpoint == "v1/chat/completions":
            return Target("openai", provider, path, fixed_provider="workers-ai")
        return Target("native", provider, path, model=endpoint) if endpoint else None
    if provider == "compat":
        return Target("openai", provider, path) if endpoint == "chat/completions" else None
    if endpoint in ("chat/completions", "v1/chat/completions"):
        return Target("openai", provider, path, fixed_provider=provider)
    return None


class DataPlane:
    def __init__(self, state: AppState) -> None:
        self.state = state
        self.config = state.config

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

    async def provider_openai(self, request: Request) -> Response:
        provider = request.path_params["provider"]
        target = Target("openai", provider, f"{provider}/chat/completions", fixed_provider=provider)
        return await self._single(request, target)

    async def universal(self, request: Request) -> Response:
        try:
            live, options, body, _headers = await self._admit(request)
        except ApiError as error:
            return _error_response(error)
        first = self._exchange(live, options, "universal", "", "", body, step=0)
        limited = self._rate_limit(live)
        if limited is not None:
            return await self._finish(first, Reply.error(limited))
        try:
            steps = parse_json(body)
        except ApiError as error:
            return await self._finish(first, Reply.error(error))
        if isinstance(steps, dict):
            steps = [steps]
        if not isinstance(steps, list) or not steps:
            shape = ApiError(400, CODE_INVALID, "Universal body must be a non-empty array of steps")
            return await self._finish(first, Reply.error(shape))
        last: Response | None = None
        for index, step in enumerate(steps):
            exchange = (
                first if index == 0 else self._exchange(live, options, "", "", "", b"", index)
            )
            try:
                target, step_body, authorization, policy = self._step(step, index, live, options)
                exchange.provider, exchange.path = target.provider, target.path
                exchange.model, exchange.request_body = target.model, step_body
                outcome = await self._attempt(exchange, target, step_body, authorization, policy)
            except ApiError as error:
                last = await self._finish(
                    exchange, Reply.error(error), extra=(("cf-aig-step", str(index)),)
                )
                continue
            return await self._finish(exchange, outcome, extra=(("cf-aig-step", str(index)),))
        assert last is not None
        return last

    # --- the pipeline ------------------------------------------------------------------------

    async def _admit(
        self, request: Request
    ) -> tuple[LiveGateway, RequestOptions, bytes, dict[str, str]]:
        params = request.path_params
        live = await self.state.data_gateway(params["account_id"], params["gateway_id"])
        headers = header_map(request.scope)
        if live.settings.authentication and not self.state.tokens.accepts(
            headers.get("cf-aig-authorization")
        ):
            raise gateway_unauthorized()
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
            return _error_response(error)
        exchange = self._exchange(live, options, target.provider, target.model, target.path, body)
        limited = self._rate_limit(live)
        if limited is not None:
            return await self._finish(exchange, Reply.error(limited))
        policy = CallPolicy.of(options, live.settings)
        try:
            outcome = await self._attempt(
                exchange, target, body, headers.get("authorization"), policy
            )
        except ApiError as error:
            return await self._finish(exchange, Reply.error(error))
        return await self._finish(exchange, outcome)

    def _step(
        self, step: object, index: int, live: LiveGateway, options: RequestOptions
    ) -> tuple[Target, bytes, str | None, CallPolicy]:
        def bad(message: str) -> ApiError:
            return ApiError(400, CODE_INVALID, f"step {index}: {message}", path=(str(index),))

        if not isinstance(step, dict):
            raise bad("must be an object")
        provider, endpoint = step.get("provider"), step.get("endpoint")
        if not isinstance(provider, str) or not isinstance(endpoint, str):
            raise bad("provider and endpoint must be strings")
        target = step_target(provider, endpoint)
        if target is None:
            raise bad(f"unsupported provider/endpoint {provider}/{endpoint}")
        headers = step.get("headers") or {}
        if not isinstance(headers, dict):
            raise bad("headers must be an object")
        config = step.get("config") or {}
        if not isinstance(config, dict):
            raise bad("config must be an object")
        policy = CallPolicy.of(options, live.settings)
        changes: dict[str, Any] = {}
        for key, field, kind in (
            ("requestTimeout", "timeout_ms", int),
            ("maxAttempts", "max_attempts", int),
            ("retryDelay", "retry_delay_ms", int),
            ("backoff", "backoff", str),
        ):
            if key in config:
                value = config[key]
                if not isinstance(value, kind) or isinstance(value, bool):
                    raise bad(f"config.{key} has the wrong type")
                changes[field] = value
        if changes:
            policy = attrs.evolve(policy, **changes)
        return target, dumps(step.get("query")), _header(headers, "authorization"), policy

    async def _attempt(
        self,
        exchange: Exchange,
        target: Target,
        body: bytes,
        authorization: str | None,
        policy: CallPolicy,
    ) -> Reply | StreamReply:
        state, live, options = self.state, exchange.live, exchange.options
        payload = parse_json(body)
        include_usage = False
        if target.shape == "native":
            chat = parse_native(
                payload, provider=target.provider, model=target.model, authorization=authorization
            )
            label = chat.model
        else:
            chat, label, include_usage = parse_openai(
                payload, provider=target.fixed_provider, authorization=authorization
            )
        exchange.provider, exchange.model = chat.provider, chat.model
        provider_checked = chat.provider == "workers-ai" and not state.tokens.open
        if provider_checked and not state.tokens.accepts(authorization):
            raise ApiError(401, CODE_AUTH_ERROR, "Authentication error")
        settings = live.settings
        ttl = options.cache_ttl or settings.cache_ttl or 0
        if not ttl and options.cache_key is not None:
            ttl = CUSTOM_KEY_DEFAULT_TTL
        now = state.clock.now()
        key: bytes | None = None
        if ttl > 0 and not chat.stream and not options.skip_cache:
            key = cache_key(
                live.scope,
                provider=target.provider,
                path=target.path,
                model=chat.model,
                provider_auth=authorization or "",
                gateway_auth=(options.gateway_authorization or "")
                if settings.authentication
                else "",
                body=body,
                custom_key=options.cache_key,
            )
            hit = state.cache.get(key, now)
            if hit is not None:
                return Reply(
                    hit.status,
                    hit.body,
                    hit.content_type,
                    cached=True,
                    tokens_in=hit.tokens_in,
                    tokens_out=hit.tokens_out,
                )
        upstream = state.router.upstream_for(chat.provider, chat.model)
        try:
            if chat.stream:
                events = await open_stream(upstream, chat, policy)
                chunks = None
                if target.shape == "openai":
                    chunks = OpenAIChunks(
                        f"chatcmpl-{exchange.log_id}", int(now), label, include_usage
                    )
                return StreamReply(events, target.shape, chunks)
            completion = await complete(upstream, chat, policy)
        except UpstreamError as error:
            raise _upstream_error(error) from None
        if target.shape == "native":
            reply_body = native_body(completion)
        else:
            reply_body = openai_body(f"chatcmpl-{exchange.log_id}", int(now), label, completion)
        reply = Reply(
            200,
            reply_body,
            tokens_in=completion.prompt_tokens,
            tokens_out=completion.completion_tokens,
        )
        if key is not None:
            state.cache.put(
                key,
                CachedReply(
                    reply_body,
                    200,
                    JSON,
                    completion.prompt_tokens,
                    completion.completion_tokens,
                    live.scope,
                    now + ttl,
                ),
            )
        return reply

    # --- answering and logging ---------------------------------------------------------------

    def _record(
        self,
        exchange: Exchange,
        *,
        status: int,
        cached: bool,
        tokens_in: int | None,
        tokens_out: int | None,
        response_body: bytes,
        response_type: str,
    ) -> LogRecord:
        cap = self.config.log_body_cap
        request_body, request_cut = cap_body(exchange.request_body, cap)
        response_kept, response_cut = cap_body(response_body, cap)
        custom = exchange.options.custom_cost
        return LogRecord(
            id=exchange.log_id,
            account_id=exchange.live.record.account_id,
            gateway_id=exchange.live.record.id,
            created_at=exchange.created_at,
            provider=exchange.provider,
            model=exchange.model,
            path=exchange.path,
            success=200 <= status < 400,
            cached=cached,
            status_code=status,
            duration=int((time.perf_counter() - exchange.started) * 1000),
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost=custom.cost(tokens_in, tokens_out) if custom is not None else 0.0,
            custom_cost=custom is not None,
            metadata=exchange.options.metadata,
            event_id=exchange.options.event_id,
            step=exchange.step,
            model_type="text-generation",
            request_type="universal" if exchange.step is not None else "standard",
            request_content_type="application/json",
            response_content_type=response_type,
            request_body=request_body,
            request_size=len(exchange.request_body),
            request_truncated=request_cut,
            response_body=response_kept,
            response_size=len(response_body),
            response_truncated=response_cut,
        )

    async def _finish(
        self,
        exchange: Exchange,
        outcome: Reply | StreamReply,
        extra: tuple[tuple[str, str], ...] = (),
    ) -> Response:
        if isinstance(outcome, StreamReply):
            return self._stream_response(exchange, outcome, extra)
        headers = {"cf-aig-cache-status": "HIT" if outcome.cached else "MISS"}
        headers.update(outcome.headers)
        headers.update(extra)
        if exchange.collect:
            record = self._record(
                exchange,
                status=outcome.status,
                cached=outcome.cached,
                tokens_in=outcome.tokens_in,
                tokens_out=outcome.tokens_out,
                response_body=outcome.body,
                response_type=outcome.content_type,
            )
            if await self.state.logbook.write(record, exchange.live.cap):
                headers["cf-aig-log-id"] = exchange.log_id
        return Response(
            outcome.body,
            status_code=outcome.status,
            headers=headers,
            media_type=outcome.content_type,
        )

    def _stream_response(
        self, exchange: Exchange, reply: StreamReply, extra: tuple[tuple[str, str], ...]
    ) -> Response:
        headers = {"cf-aig-cache-status": "MISS", "cache-control": "no-cache"}
        headers.update(extra)
        if exchange.collect:
            headers["cf-aig-log-id"] = exchange.log_id
        return StreamingResponse(self._frames(exchange, reply), headers=headers, media_type=SSE)

    async def _frames(self, exchange: Exchange, reply: StreamReply) -> AsyncIterator[bytes]:
        kept = bytearray()
        keep = self.config.log_body_cap + 1
        total = 0
        status = 499  # the client went away before the end, unless changed below
        logged = False

        def remember(frame: bytes) -> bytes:
            nonlocal total
            total += len(frame)
            if len(kept) < keep:
                kept.extend(frame[: keep - len(kept)])
            return frame

        try:
            if reply.chunks is not None:
                yield remember(reply.chunks.role())
            try:
                async for event in reply.events:
                    if isinstance(event, Delta):
                        if reply.chunks is None:
                            yield remember(native_delta(event.text))
                        else:
                            yield remember(reply.chunks.delta(event.text))
                    else:
                        reply.tokens_in = event.prompt_tokens
                        reply.tokens_out = event.completion_tokens
                        if reply.chunks is None:
                            yield remember(native_finish(event))
                        else:
                            yield remember(reply.chunks.finish(event))
            except UpstreamError:
                status = 502
                return
            status = 200
            remember(DONE_FRAME)
            if exchange.collect:
                logged = True
                record = self._stream_record(exchange, reply, status, kept, total)
                await self.state.logbook.write(record, exchange.live.cap)
            yield DONE_FRAME
        finally:
            close = getattr(reply.events, "aclose", None)
            if close is not None:
                with anyio.CancelScope(shield=True):
                    await close()
            if exchange.collect and not logged:
                record = self._stream_record(exchange, reply, status, kept, total)
                self.state.logbook.write_nowait(record, exchange.live.cap)

    def _stream_record(
        self, exchange: Exchange, reply: StreamReply, status: int, kept: bytearray, total: int
    ) -> LogRecord:
        record = self._record(
            exchange,
            status=status,
            cached=False,
            tokens_in=reply.tokens_in,
            tokens_out=reply.tokens_out,
            response_body=bytes(kept),
            response_type=SSE,
        )
        return attrs.evolve(record, response_size=total)


def _error_response(error: ApiError) -> Response:
    """An error before any log exists (unknown gateway, authentication, headers, size)."""
    return error.response({"cf-aig-cache-status": "MISS"})


__all__ = ["DataPlane", "Target", "step_target"]
