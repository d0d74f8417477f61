"""The stream pipeline's parts, each without I/O: the chunk reader over a plain async
iterator, the codecs' `decode_event`, `SseParts` over bytes, the assembler over chunks; and,
through `stream_text`, that where the network cuts the bytes never changes the outcome."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import anyio
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aigateway_sdk import (
    AiError,
    Finish,
    MalformedOutput,
    NetworkError,
    ProviderError,
    ResponseMetadata,
    TextDelta,
    TextEnd,
    TextStart,
    Timeout,
)
from aigateway_sdk.codecs import OpenAICompatCodec, WorkersAiCodec, codec_for
from aigateway_sdk.codecs.base import DONE, Chunk
from aigateway_sdk.endpoint import Credentials, Endpoint
from aigateway_sdk.parts import StreamPart
from aigateway_sdk.response import InputTokens, OutputTokens, ReplyHead, Usage
from aigateway_sdk.streaming import ChunkReader, Deadline, SseParts, StreamAssembler
from aigateway_sdk.transport.sse import SseEvent

from .helpers import MODEL, Recorder, binding_for, sse

pytestmark = pytest.mark.anyio

HEAD = ReplyHead(cache_status="MISS", log_id="01LOG", step=None)
USAGE = Usage(InputTokens(3), OutputTokens(2))
SSE_HEADERS = httpx.Headers({"content-type": "text/event-stream", "cf-aig-log-id": "01LOG"})


def kinds(parts: list[StreamPart]) -> list[str]:
    return [p.type for p in parts]


# -- the assembler: chunks in, parts out ------------------------------------------------------


def assemble(
    chunks: list[Chunk], *, ended: bool = True, max_tokens: int | None = None
) -> list[StreamPart]:
    assembler = StreamAssembler(MODEL, HEAD, max_tokens)
    parts: list[StreamPart] = [assembler.start()]
    for chunk in chunks:
        assembler.add(chunk, parts)
    return parts + assembler.end(ended=ended)


def test_assembler_frames_the_text() -> None:
    parts = assemble([Chunk("Hel"), Chunk(None, USAGE), Chunk("lo", finish_reason="stop")])
    assert kinds(parts) == [
        "response-metadata",
        "text-start",
        "text-delta",
        "text-delta",
        "text-end",
        "finish",
    ]
    meta, finish = parts[0], parts[-1]
    assert isinstance(meta, ResponseMetadata)
    assert (meta.model, meta.log_id, meta.cache_status) == (MODEL, "01LOG", "MISS")
    assert finish == Finish(reason="stop", usage=USAGE)


def test_assembler_without_text_has_no_text_block() -> None:
    assert kinds(assemble([Chunk(None, USAGE)])) == ["response-metadata", "finish"]


def test_assembler_infers_length_from_usage_at_max_tokens() -> None:
    assert assemble([Chunk("x", USAGE)], max_tokens=2)[-1] == Finish(reason="length", usage=USAGE)
    assert assemble([Chunk("x", USAGE)], max_tokens=3)[-1] == Finish(reason="stop", usage=USAGE)


def test_assembler_refuses_a_stream_cut_before_a_finish_or_usage() -> None:
    with pytest.raises(AiError) as caught:
        assemble([Chunk("x")], ended=False)
    assert isinstance(caught.value.reason, NetworkError)
    assert caught.value.log_id == "01LOG"
    # usage or a finish reason makes a stream without its end marker complete
    assert kinds(assemble([Chunk("x", USAGE)], ended=False))[-1] == "finish"
    assert kinds(assemble([Chunk("x", finish_reason="stop")], ended=False))[-1] == "finish"


def test_assembler_gives_a_whole_reply_the_same_frame() -> None:
    from aigateway_sdk.codecs.base import Decoded

    assembler = StreamAssembler(MODEL, HEAD)
    parts = assembler.whole(Decoded(text="hi", usage=USAGE, finish_reason="length"))
    assert parts == [TextStart(), TextDelta("hi"), TextEnd(), Finish(reason="length", usage=USAGE)]
    empty = StreamAssembler(MODEL, HEAD).whole(Decoded("", USAGE, "stop"))
    assert empty == [Finish(reason="stop", usage=USAGE)]


# -- the codecs: an event is a chunk, the end, nothing, or a failure -----------------------


@pytest.mark.parametrize("codec", [WorkersAiCodec(), OpenAICompatCodec()], ids=["wai", "compat"])
def test_decode_event_reports_error_events_and_error_frames(codec: object) -> None:
    decode = codec.decode_event  # type: ignore[attr-defined]
    assert decode(SseEvent(b"[DONE]")) is DONE
    named = decode(SseEvent(b'{"message": "overloaded"}', "error"))
    assert isinstance(named, ProviderError)
    assert named.message == "the stream failed: overloaded"
    framed = decode(SseEvent(b'{"errors": [{"code": 3040, "message": "capacity"}]}'))
    assert isinstance(framed, ProviderError)
    assert (framed.code, framed.message) == (3040, "the stream failed: capacity")
    assert decode(SseEvent(b"{}")) is None


def test_text_that_mentions_error_is_text() -> None:
    chunk = WorkersAiCodec().decode_event(SseEvent(b'{"response": "\\"error\\": none"}'))
    assert chunk == Chunk('"error": none')


def test_each_codec_chooses_the_credential() -> None:
    keys = Credentials(api_token="cf", provider_keys={"openai": "sk-o"})
    assert codec_for("workers-ai").provider_key(MODEL, keys) == "cf"
    assert codec_for("workers-ai-openai").provider_key(MODEL, keys) == "cf"
    assert codec_for("compat").provider_key("openai/gpt-4o-mini", keys) == "sk-o"
    assert codec_for("compat").provider_key("anthropic/claude", keys) is None
    assert codec_for("compat").provider_key(f"workers-ai/{MODEL}", keys) == "cf"
    own = Credentials(api_token="cf", provider_keys={"workers-ai": "wai"})
    assert codec_for("compat").provider_key(f"workers-ai/{MODEL}", own) == "wai"
    assert codec_for("workers-ai").provider_key(MODEL, own) == "wai"


# -- SseParts: bytes in, parts out ------------------------------------------------------------


def sse_parts() -> SseParts:
    return SseParts(WorkersAiCodec(), StreamAssembler(MODEL, HEAD), 1024, headers=SSE_HEADERS)


def test_sse_parts_stop_at_done_and_ignore_what_follows() -> None:
    events = sse_parts()
    parts = events.feed(sse({"response": "a"}, "[DONE]", {"response": "late"}))
    assert parts == [TextStart(), TextDelta("a")]
    assert events.done
    assert events.stopped
    assert kinds(events.end()) == ["text-end", "finish"]


def test_sse_parts_deliver_the_events_before_a_failure_then_raise_it() -> None:
    events = sse_parts()
    parts = events.feed(sse({"response": "a"}, {"error": "boom"}, {"response": "b"}))
    assert parts == [TextStart(), TextDelta("a")]
    assert events.stopped
    assert not events.done
    with pytest.raises(AiError) as caught:
        events.end()
    assert isinstance(caught.value.reason, ProviderError)
    assert caught.value.log_id == "01LOG"


def test_sse_parts_name_a_bad_event_malformed_with_status_and_log_id() -> None:
    events = sse_parts()
    assert events.feed(sse({"response": "a"}) + b"data: {bad\n\n") == [TextStart(), TextDelta("a")]
    with pytest.raises(AiError) as caught:
        events.end()
    assert isinstance(caught.value.reason, MalformedOutput)
    assert caught.value.message.startswith("bad stream event (")
    assert (caught.value.status, caught.value.log_id) == (200, "01LOG")


def test_sse_parts_refuse_a_stream_ending_inside_an_event() -> None:
    events = sse_parts()
    events.feed(sse({"response": "a", "usage": {"completion_tokens": 1}}) + b'data: {"resp')
    with pytest.raises(AiError) as caught:
        events.end()
    assert caught.value.message == "the stream ended in the middle of an event"


def test_sse_parts_refuse_an_event_over_the_limit() -> None:
    events = sse_parts()
    assert events.feed(b"data: " + b"x" * 2000) == []
    with pytest.raises(AiError) as caught:
        events.end()
    assert "larger than 1024" in caught.value.message


# -- the chunk reader: the deadline and the transport's errors --------------------------------


async def chunks_then(error: BaseException | None, *chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk
    if error is not None:
        raise error


async def read_all(reader: ChunkReader) -> list[bytes]:
    return [chunk async for chunk in reader]


async def test_chunk_reader_passes_chunks_through() -> None:
    assert await read_all(ChunkReader(chunks_then(None, b"a", b"b"), None)) == [b"a", b"b"]


async def test_chunk_reader_names_an_interrupted_stream() -> None:
    reset = httpx.ReadError("connection reset")
    reader = ChunkReader(chunks_then(reset, b"a"), Deadline.after(60), "01LOG")
    with pytest.raises(AiError) as caught:
        await read_all(reader)
    assert isinstance(caught.value.reason, NetworkError)
    assert caught.value.message.startswith("stream interrupted: ")
    assert caught.value.log_id == "01LOG"
    assert caught.value.__cause__ is reset


async def test_chunk_reader_stops_at_the_deadline() -> None:
    async def endless() -> AsyncIterator[bytes]:
        yield b"a"
        await anyio.sleep_forever()
        yield b"never"  # pragma: no cover

    passed = Deadline(time.monotonic() - 1, 5.0)
    reader = ChunkReader(endless(), passed, "01LOG")
    with pytest.raises(AiError) as caught:
        await read_all(reader)
    assert isinstance(caught.value.reason, Timeout)
    assert caught.value.message == "stream not complete within 5.0 s"
    assert caught.value.log_id == "01LOG"


async def test_chunk_reader_without_a_deadline_reports_a_timeout_as_an_interruption() -> None:
    reader = ChunkReader(chunks_then(TimeoutError()), None)
    with pytest.raises(AiError) as caught:
        await read_all(reader)
    assert isinstance(caught.value.reason, Timeout)
    assert caught.value.message.startswith("stream interrupted: ")


async def test_chunk_reader_drains_the_rest_and_ignores_its_failure() -> None:
    rest = [b"1", b"2"]

    async def body() -> AsyncIterator[bytes]:
        yield b"first"
        while rest:
            yield rest.pop(0)
        raise httpx.ReadError("gone")

    reader = ChunkReader(body(), None)
    assert await reader.__anext__() == b"first"
    await reader.drain(5)
    assert rest == []


def test_deadline() -> None:
    assert Deadline.after(None) is None
    deadline = Deadline.after(30)
    assert deadline is not None
    assert 0 < deadline.remaining() <= 30
    assert Deadline(time.monotonic() - 1, 1).remaining() == 0


# -- the endpoint -----------------------------------------------------------------------------


def test_endpoint_headers_and_repr_hide_no_header_but_every_secret() -> None:
    endpoint = Endpoint(
        url="http://gw/v1/a/g",
        client=httpx.AsyncClient,
        credentials=Credentials(
            api_token="cf-secret", gateway_token="gw-secret", provider_keys={"openai": "sk-s"}
        ),
    )
    headers = endpoint.headers("sk-s", endpoint.options)
    assert headers["authorization"] == "Bearer sk-s"
    assert headers["cf-aig-authorization"] == "Bearer gw-secret"
    assert endpoint.url_for("workers-ai/@cf/x") == "http://gw/v1/a/g/workers-ai/@cf/x"
    text = repr(endpoint)
    assert "openai" in text
    assert not any(secret in text for secret in ("cf-secret", "gw-secret", "sk-s"))


# -- through stream_text: the outcome does not depend on where the bytes were cut -------------

FRAMES = st.sampled_from(
    [
        b'data: {"response": "a"}\n\n',
        b'data: {"response": "b", "usage": {"prompt_tokens": 1, "completion_tokens": 2}}\n\n',
        b"data: [DONE]\n\n",
        b"data: {bad\n\n",
        b'data: {"error": "boom"}\n\n',
        b"event: error\ndata: {}\n\n",
        b": keep-alive\n\n",
        b'data: {"response"',
    ]
)


async def outcome(pieces: list[bytes]) -> tuple[list[StreamPart], str | None]:
    async def body() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece

    recorder = Recorder(
        lambda request: httpx.Response(  # type: ignore[arg-type]
            200, content=body(), headers={"content-type": "text/event-stream"}
        )
    )
    parts: list[StreamPart] = []
    try:
        async for part in binding_for(recorder).model(MODEL).stream_text("hi"):
            parts.append(part)
    except AiError as error:
        return parts, f"{error.reason.tag}: {error.message}"
    return parts, None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(FRAMES, max_size=6), st.data())
def test_where_the_bytes_are_cut_never_changes_the_parts_or_the_failure(
    frames: list[bytes], data: st.DataObject
) -> None:
    raw = b"".join(frames)
    cuts = sorted(set(data.draw(st.lists(st.integers(0, len(raw)), max_size=8))))
    pieces = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]
    whole = anyio.run(outcome, [raw])
    assert anyio.run(outcome, pieces) == whole
    assert anyio.run(outcome, [raw[i : i + 1] for i in range(len(raw))]) == whole
