"""`SseParts`: an event stream's bytes in, its parts out. Pure: no I/O, no clock.

The middle of the stream pipeline (`aigateway_sdk.streaming`): each chunk of bytes goes through
the SSE decoder (`transport/sse.py`), each event through the codec (`Codec.decode_event`: a
chunk, the end marker, nothing, or a failure the provider reported), each chunk through the
`StreamAssembler`. Events are handled one at a time and in order, so where the network cut
the bytes never changes the parts or the failure.

A failure stops the stream: `feed` returns the parts of the events before it, `stopped` turns
true, and `end()` raises it. `end()` also decides whether a stream that stopped without its end
marker is complete (`StreamAssembler.end`), or ended in the middle of an event.
"""

from __future__ import annotations

import attrs
import httpx

from aigateway_sdk.codecs.base import DONE, Chunk, Codec
from aigateway_sdk.errors import AiError, Reason
from aigateway_sdk.parts import StreamPart
from aigateway_sdk.streaming.assembler import StreamAssembler
from aigateway_sdk.transport.failures import malformed
from aigateway_sdk.transport.sse import SseDecoder, SseError

DECODE_ERRORS = (KeyError, TypeError, ValueError, IndexError, AttributeError, SseError)
"""What a codec (or the SSE decoder) raises for bytes of the wrong shape."""


class SseParts:
    """The parts of one event stream, fed chunk by chunk."""

    __slots__ = ("_assembler", "_decode", "_decoder", "_failure", "_headers", "_status", "done")

    def __init__(
        self,
        codec: Codec,
        assembler: StreamAssembler,
        max_event_bytes: int,
        *,
        status: int = 200,
        headers: httpx.Headers | None = None,
    ) -> None:
        self._decode = codec.decode_event
        self._assembler = assembler
        self._decoder = SseDecoder(max_event_bytes)
        self._status = status
        self._headers = headers
        self._failure: Reason | None = None
        self.done = False
        """The end marker (`[DONE]`) came: nothing after it is read."""

    @property
    def stopped(self) -> bool:
        """The end marker came, or a failure: feed no more, call `end()`."""
        return self.done or self._failure is not None

    def feed(self, raw: bytes) -> list[StreamPart]:
        """The parts completed by `raw`, in order (up to the end marker or a failure)."""
        parts: list[StreamPart] = []
        try:
            for event in self._decoder.feed(raw):
                decoded = self._decode(event)
                if decoded is None:
                    continue
                if decoded is DONE:
                    self.done = True
                    break
                if isinstance(decoded, Chunk):
                    self._assembler.add(decoded, parts)
                else:
                    self._failure = attrs.evolve(decoded, log_id=self._assembler.head.log_id)
                    break
        except DECODE_ERRORS as error:
            self._failure = self._malformed(f"bad stream event ({type(error).__name__}: {error})")
        return parts

    def end(self) -> list[StreamPart]:
        """The closing parts once the stream is over (after the end marker, or when the body
        ended); the failure that stopped it, raised as an `AiError`."""
        if self._failure is not None:
            raise AiError(self._failure)
        if not self.done and self._decoder.has_partial:
            raise AiError(self._malformed("the stream ended in the middle of an event"))
        return self._assembler.end(ended=self.done)

    def _malformed(self, message: str) -> Reason:
        return malformed(message[:300], status=self._status, headers=self._headers)


__all__ = ["DECODE_ERRORS", "SseParts"]
