"""The SSE decoder's fast path (whole one-line `data:` events) must give exactly what the
general path gives. Byte-by-byte feeding never takes the fast path, so it is the reference."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aigateway_sdk.transport.sse import SseDecoder, SseError, SseEvent

LINES = st.sampled_from(
    [
        b"data: {}",
        b'data: {"response":" tok"}',
        b"data:no-space",
        b"data: ",
        b"data",
        b"event: delta",
        b"id: 7",
        b": a comment",
        b"retry: 10",
        b"",
    ]
)
ENDINGS = st.sampled_from([b"\n", b"\n", b"\n", b"\r\n", b"\r"])


def events_of(chunks: list[bytes]) -> list[tuple[bytes, str, str | None]]:
    decoder = SseDecoder()
    out: list[SseEvent] = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
    return [(e.data, e.event, e.id) for e in out]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(LINES, ENDINGS), max_size=30),
    st.lists(st.integers(min_value=0, max_value=400), max_size=8),
)
def test_fast_path_matches_the_general_path(
    lines: list[tuple[bytes, bytes]], cuts: list[int]
) -> None:
    stream = b"".join(line + ending for line, ending in lines)
    points = sorted({min(c, len(stream)) for c in cuts} | {0, len(stream)})
    chunks = [stream[a:b] for a, b in itertools.pairwise(points)]
    assert events_of(chunks) == events_of([stream[i : i + 1] for i in range(len(stream))])


def test_fast_path_events() -> None:
    decoder = SseDecoder()
    assert decoder.feed(b"data: a\n\ndata: b\n\n") == [SseEvent(b"a"), SseEvent(b"b")]
    assert decoder.feed(b"data: c\n\ndata: d") == [SseEvent(b"c")]
    assert decoder.has_partial
    assert decoder.feed(b"\n\n") == [SseEvent(b"d")]
    assert decoder.feed(b"id: 1\n\ndata: e\n\n") == [SseEvent(b"e", id="1")]
    assert decoder.feed(b"data: f\n\n") == [SseEvent(b"f", id="1")]


def test_fast_path_keeps_the_size_limit() -> None:
    assert SseDecoder(10).feed(b"data: 012345678\n\n") == [SseEvent(b"012345678")]
    with pytest.raises(SseError):
        SseDecoder(9).feed(b"data: 012345678\n\n")
