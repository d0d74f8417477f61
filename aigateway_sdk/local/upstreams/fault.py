"""An upstream that fails on purpose (HTTP `status`), always or for its first `fail_times`
calls, then answers like the built-in model. For testing retries and fallbacks."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aigateway_sdk.local.upstreams.base import (
    ChatRequest,
    Completion,
    Embeddings,
    EmbedRequest,
    StreamEvent,
    UpstreamError,
)
from aigateway_sdk.local.upstreams.builtin import BuiltinModel


class FaultUpstream:
    def __init__(self, status: int, fail_times: int | None, model: BuiltinModel) -> None:
        self.status = status
        self.fail_times = fail_times
        self.calls = 0
        self._model = model

    def _maybe_fail(self) -> None:
        self.calls += 1
        if self.fail_times is None or self.calls <= self.fail_times:
            raise UpstreamError(
                self.status,
                f"injected upstream failure (HTTP {self.status})",
                retryable=self.status == 429 or self.status >= 500,
            )

    async def complete(self, request: ChatRequest) -> Completion:
        self._maybe_fail()
        return await self._model.complete(request)

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        self._maybe_fail()
        async for event in self._model.stream(request):
            yield event

    async def embed(self, request: EmbedRequest) -> Embeddings:
        self._maybe_fail()
        return await self._model.embed(request)

    async def aclose(self) -> None:
        return None


__all__ = ["FaultUpstream"]
