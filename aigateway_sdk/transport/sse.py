"""A small, fast Server-Sent Events decoder with a size limit per event.

Fed raw byte chunks as they arrive, it returns the complete events in them. Lines end in
LF, CRLF or CR (a CR at the end of a chunk ends the line at once; an LF opening the next chunk
is then skipped). As the WHATWG rules say, one UTF-8 byte order mark opening the stream is
dropped, and a line without a colon is a field with an empty value (a bare `data` line adds an
empty line to the event's data). Anything it cannot accept (an event over `max_event_bytes`,
or a line that never ends) raises `SseError`, which the stream readers turn into a
`MalformedOutput` reason.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import attrs

DEFAULT_MAX_EVENT_BYTES = 4 * 1024 * 1024
_BOM = b"\xef\xbb\xbf"


class SseError(ValueError):
    """The byte stream is not acceptable SSE."""


@attrs.frozen(slots=True)
class SseEvent:
    """One dispatched event: its `event` name ("message" when none) and its `data` bytes."""

    data: bytes
    event: str = "message"
    id: str | None = None


class SseDecoder:
    """Incremental decoder: `feed(chunk)` returns the events completed by that chunk."""

    __slots__ = ("_buffer", "_data", "_event", "_head", "_id", "_max", "_pending_cr", "_size")

    def __init__(self, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        self._max = max_event_bytes
        self._buffer = b""
        self._data: list[bytes] = []
        self._size = 0
        self._event = ""
        self._id: str | None = None
        self._pending_cr = False
        # The stream's first bytes while they may still be a byte order mark; None after.
        self._head: bytes | None = b""

    def feed(self, chunk: bytes) -> list[SseEvent]:
        events: list[SseEvent] = []
        if self._head is not None:
            chunk = self._head + chunk
            if len(chunk) < len(_BOM) and _BOM.startswith(chunk):
                self._head = chunk
                return events
            self._head = None
            if chunk.startswith(_BOM):
                chunk = chunk[len(_BOM) :]
        if not (self._buffer or self._data or self._event or self._pending_cr or b"\r" in chunk):
            # Fast path for the common shape: whole `data: ...` events of one line each, as
            # servers send them. Same result as the general path, which takes over from the
            # first thing that is not such an event (a partial one, another field, a comment).
            start, find, limit = 0, chunk.find, self._max
            while chunk.startswith(b"data: ", start):
                end = find(b"\n", start)
                if end < 0 or chunk[end + 1 : end + 2] != b"\n" or end - start - 5 > limit:
                    break
                events.append(SseEvent(chunk[start + 6 : end], "message", self._id))
                start = end + 2
            if start:
                if start == len(chunk):
                    return events
                chunk = chunk[start:]
        if self._pending_cr and chunk:
            # The last chunk ended in a CR, already taken as a line end: an LF right after it
            # is the second half of that CRLF, not another (blank) line.
            self._pending_cr = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if b"\r" in chunk:
            # A CR at the very end is a line end now (an event must not wait for more bytes).
            self._pending_cr = chunk.endswith(b"\r")
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        buffer = self._buffer + chunk if self._buffer else chunk
        start = 0
        find = buffer.find
        while True:
            end = find(b"\n", start)
            if end < 0:
                break
            line = buffer[start:end]
            start = end + 1
            if not line:
                if self._data:
                    events.append(self._dispatch())
                else:
                    self._event = ""
                continue
            if line.startswith(b"data:") or line == b"data":
                value = line[6:] if line[5:6] == b" " else line[5:]
                self._size += len(value) + 1
                if self._size > self._max:
                    raise SseError(f"an event is larger than {self._max} bytes")
                self._data.append(value)
            elif line[:1] != b":":
                self._field(line)
        rest = buffer[start:]
        if len(rest) + self._size > self._max:
            raise SseError(f"an event is larger than {self._max} bytes")
        self._buffer = rest
        return events

    def _field(self, line: bytes) -> None:
        name, _, value = line.partition(b":")
        if value[:1] == b" ":
            value = value[1:]
        if name == b"event":
            self._event = value.decode("utf-8", "replace")
        elif name == b"id" and b"\0" not in value:
            self._id = value.decode("utf-8", "replace")

    def _dispatch(self) -> SseEvent:
        data = self._data[0] if len(self._data) == 1 else b"\n".join(self._data)
        event = SseEvent(data, self._event or "message", self._id)
        self._data = []
        self._size = 0
        self._event = ""
        return event

    def close(self) -> list[SseEvent]:
        """End of stream: a final event not followed by a blank line is dropped, per the spec."""
        self._buffer = b""
        self._data = []
        self._size = 0
        self._head = None
        return []

    @property
    def has_partial(self) -> bool:
        """Whether bytes of an unfinished event are waiting (a truncated stream)."""
        return bool(self._buffer or self._data or self._head)


async def aiter_sse(
    chunks: AsyncIterator[bytes], max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
) -> AsyncIterator[SseEvent]:
    """Events from an async iterator of byte chunks."""
    decoder = SseDecoder(max_event_bytes)
    async for chunk in chunks:
        for event in decoder.feed(chunk):
            yield event


__all__ = ["DEFAULT_MAX_EVENT_BYTES", "SseDecoder", "SseError", "SseEvent", "aiter_sse"]
