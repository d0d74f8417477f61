"""Answering a data-plane call: the HTTP response (plain or SSE), its `cf-aig-*` headers, and
its log, written before the answer is complete (see `Logbook`)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import anyio
import attrs
from starlette.responses import Response, StreamingResponse

from aigateway_sdk.local.dataplane.exchange import Exchange, Reply, StreamReply
from aigateway_sdk.local.dataplane.frames import DONE_FRAME, SSE
from aigateway_sdk.local.policies.spend import Usage, request_cost
from aigateway_sdk.local.state import AppState
from aigateway_sdk.local.storage.logbook import cap_body
from aigateway_sdk.local.storage.records import LogRecord
from aigateway_sdk.local.upstreams.base import Finish, UpstreamError
from aigateway_sdk.local.web.errors import ApiError


class Responder:
    def __init__(self, state: AppState) -> None:
        self.state = state
        self.config = state.config

    def record(
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
        redact = self.state.router.redactor  # the server's keys never reach the log
        request_body, request_cut = cap_body(redact.data(exchange.request_body), cap)
        response_kept, response_cut = cap_body(redact.data(response_body), cap)
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
            cost=request_cost(
                custom, exchange.provider, exchange.model, tokens_in, tokens_out, cached=cached
            ),
            custom_cost=custom is not None,
            metadata=redact.optional(exchange.options.metadata),
            event_id=redact.optional(exchange.options.event_id),
            step=exchange.step,
            model_type="text-generation",
            request_type="universal" if exchange.step is not None else "standard",
            request_content_type=exchange.request_content_type,
            response_content_type=response_type,
            request_body=request_body,
            request_size=len(exchange.request_body),
            request_truncated=request_cut,
            response_body=response_kept,
            response_size=len(response_body),
            response_truncated=response_cut,
        )

    def charge(
        self,
        exchange: Exchange,
        status: int,
        cached: bool,
        tokens_in: int | None,
        tokens_out: int | None,
    ) -> None:
        """Charge a completed (2xx) request's cost to the gateway's spend limits."""
        limits = exchange.live.settings.spend_limits
        if limits is None or not limits.active_rules or not 200 <= status < 300:
            return
        options, provider, model = exchange.options, exchange.provider, exchange.model
        cost = request_cost(
            options.custom_cost, provider, model, tokens_in, tokens_out, cached=cached
        )
        usage = Usage.of(provider, model, options.metadata)
        self.state.spend.charge(exchange.live.scope, limits, usage, cost, self.state.clock.now())

    async def finish(
        self,
        exchange: Exchange,
        outcome: Reply | StreamReply,
        extra: tuple[tuple[str, str], ...] = (),
    ) -> Response:
        if isinstance(outcome, StreamReply):
            return self._stream_response(exchange, outcome, extra)
        self.charge(exchange, outcome.status, outcome.cached, outcome.tokens_in, outcome.tokens_out)
        headers = {"cf-aig-cache-status": "HIT" if outcome.cached else "MISS"}
        headers.update(outcome.headers)
        headers.update(extra)
        if exchange.collect:
            record = self.record(
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
        headers.update(reply.headers)
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
            start = reply.frames.start()
            if start:
                yield remember(start)
            try:
                async for event in reply.events:
                    if isinstance(event, Finish):
                        reply.tokens_in = event.prompt_tokens
                        reply.tokens_out = event.completion_tokens
                    frames = reply.frames.event(event)
                    if frames:
                        yield remember(frames)
            except UpstreamError:
                status = 502
                return
            status = 200
            self.charge(exchange, status, False, reply.tokens_in, reply.tokens_out)
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
        record = self.record(
            exchange,
            status=status,
            cached=False,
            tokens_in=reply.tokens_in,
            tokens_out=reply.tokens_out,
            response_body=bytes(kept),
            response_type=SSE,
        )
        return attrs.evolve(record, response_size=total)


def error_response(error: ApiError) -> Response:
    """An error before any log exists (unknown gateway, authentication, headers, size)."""
    return error.response({"cf-aig-cache-status": "MISS"})


__all__ = ["Responder", "error_response"]
