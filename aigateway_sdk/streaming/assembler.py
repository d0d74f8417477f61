"""`StreamAssembler`: decoded chunks in, the stream's parts out. Pure: no I/O, no clock.

It writes the frame every stream has, whatever the API or the transport:

    ResponseMetadata -> TextStart -> TextDelta* -> TextEnd -> Finish

`start()` gives the metadata, `add()` the parts a chunk carries (`TextStart` before the first
text), `end()` the closing parts once the stream is over, and `whole()` all of them for a reply
that came in one piece. `end()` is where completeness is decided: a stream that stopped without
its end marker counts only if it reported a finish reason or usage; otherwise it was cut short
and `end()` raises `AiError(NetworkError)`.
"""

from __future__ import annotations

from collections.abc import Mapping

from aigateway_sdk.codecs.base import Chunk, Decoded, finish_from_usage
from aigateway_sdk.errors import AiError, NetworkError
from aigateway_sdk.parts import Finish, ResponseMetadata, StreamPart, TextDelta, TextEnd, TextStart
from aigateway_sdk.response import EMPTY_USAGE, FinishReason, ReplyHead, Usage


class StreamAssembler:
    """The parts of one stream of `model`, whose reply headers said `head`."""

    __slots__ = ("_finish", "_max_tokens", "_started", "_usage", "head", "model")

    def __init__(self, model: str, head: ReplyHead, max_tokens: int | None = None) -> None:
        self.model = model
        self.head = head
        self._max_tokens = max_tokens
        self._started = False
        self._usage: Usage | None = None
        self._finish: FinishReason | None = None

    def start(
        self, status: int | None = None, headers: Mapping[str, str] | None = None
    ) -> ResponseMetadata:
        """The first part: what the gateway said about the reply (its status and headers)."""
        head = self.head
        return ResponseMetadata(
            model=self.model,
            cache_status=head.cache_status,
            log_id=head.log_id,
            step=head.step,
            status=status,
            headers=headers,
        )

    def add(self, chunk: Chunk, out: list[StreamPart]) -> None:
        """Append the parts `chunk` carries to `out`; keep its usage and finish reason."""
        delta = chunk.delta
        if delta is not None:
            if not self._started:
                self._started = True
                out.append(TextStart())
            out.append(TextDelta(delta))
        if chunk.usage is not None:
            self._usage = chunk.usage
        if chunk.finish_reason is not None:
            self._finish = chunk.finish_reason

    def end(self, *, ended: bool = True) -> list[StreamPart]:
        """The closing parts: `TextEnd` (when text began) and `Finish`. `ended`: the stream
        sent its end marker; without one, a stream that reported neither a finish reason nor
        usage was cut short (`AiError(NetworkError)`)."""
        usage, finish = self._usage, self._finish
        if not ended and finish is None and usage is None:
            raise AiError(
                NetworkError(
                    message="the stream ended before it was complete", log_id=self.head.log_id
                )
            )
        parts: list[StreamPart] = [TextEnd()] if self._started else []
        parts.append(
            Finish(
                reason=finish or finish_from_usage(usage, self._max_tokens),
                usage=usage or EMPTY_USAGE,
            )
        )
        return parts

    def whole(self, reply: Decoded) -> list[StreamPart]:
        """The parts after `start()` of a reply that came in one piece."""
        parts: list[StreamPart] = []
        self.add(Chunk(reply.text or None, reply.usage, reply.finish_reason), parts)
        return parts + self.end()


__all__ = ["StreamAssembler"]
