"""Property-based tests (hypothesis): whatever bytes a server sends, however they are chunked,
the SSE decoder and the stream readers give parts or a typed `AiError`, never another
exception; every gateway spec either validates or fails with field-named errors; values
survive a round trip through the wire codecs and the SSE encoder."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import anyio
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aigateway_sdk import (
    AiError,
    AiGateway,
    Finish,
    GatewayBinding,
    GatewaySettings,
    MalformedOutput,
    Message,
    NetworkError,
    ResponseMetadata,
    RetryPolicy,
    StreamPart,
    TextDelta,
    TextEnd,
    TextStart,
    ValidationError,
    sse_encode,
)
from aigateway_sdk.codecs import OpenAICompatCodec, WorkersAiCodec
from aigateway_sdk.codecs.base import DONE
from aigateway_sdk.control.spec import SETTINGS_RULES, check_settings_json
from aigateway_sdk.response import InputTokens, OutputTokens, Usage
from aigateway_sdk.transport.sse import SseDecoder, SseError, SseEvent

PROPERTY = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MODEL = "@cf/meta/llama-3.1-8b-instruct"

# -- strategies ---------------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
line_text = st.text(
    st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]), max_size=30
)
line_end = st.sampled_from([b"\n", b"\r\n", b"\r"])


@st.composite
def cuts(draw: st.DrawFn, data: bytes) -> list[bytes]:
    """`data` split at random places (any chunking, including empty chunks)."""
    points = sorted(draw(st.lists(st.integers(0, len(data)), max_size=12)))
    pieces, start = [], 0
    for point in points:
        pieces.append(data[start:point])
        start = point
    pieces.append(data[start:])
    return pieces


BOM = b"\xef\xbb\xbf"


@st.composite
def sse_stream(draw: st.DrawFn) -> tuple[bytes, list[SseEvent]]:
    """A well-formed SSE byte stream (LF, CRLF or CR line ends; comments, event names; maybe a
    byte order mark first; bare `data` lines, without a colon) and its events. One stream
    keeps one line end: a CR then an LF would be one CRLF, not two ends."""
    out = bytearray(BOM if draw(st.booleans()) else b"")
    expected: list[SseEvent] = []
    end = draw(line_end)
    for _ in range(draw(st.integers(0, 5))):
        if draw(st.booleans()):
            out += b":" + draw(line_text).encode() + end
        name = draw(st.none() | st.from_regex(r"[a-z]{1,8}", fullmatch=True))
        if name is not None:
            out += b"event: " + name.encode() + end
        lines = draw(st.lists(st.none() | line_text, min_size=1, max_size=3))
        for line in lines:
            out += (b"data" if line is None else b"data: " + line.encode()) + end
        out += end
        data = "\n".join(line or "" for line in lines)
        expected.append(SseEvent(data.encode(), name or "message"))
    return bytes(out), expected


def feed_all(decoder: SseDecoder, pieces: Sequence[bytes]) -> list[SseEvent]:
    events: list[SseEvent] = []
    for piece in pieces:
        events.extend(decoder.feed(piece))
    return events


def outcome(pieces: Sequence[bytes], max_event_bytes: int) -> list[SseEvent] | str:
    try:
        return feed_all(SseDecoder(max_event_bytes), pieces)
    except SseError:
        return "SseError"


# -- the SSE decoder ----------------------------------------------------------------------------


@PROPERTY
@given(st.data(), st.binary(max_size=400) | sse_stream().map(lambda s: s[0]))
def test_decoder_accepts_any_bytes_in_any_chunking(data: st.DataObject, raw: bytes) -> None:
    """Only events or `SseError`; and the chunking never changes the result."""
    pieces = data.draw(cuts(raw))
    whole = outcome([raw], 1 << 20)
    assert outcome(pieces, 1 << 20) == whole
    small = outcome(pieces, data.draw(st.integers(1, 64)))
    assert small == "SseError" or all(isinstance(e, SseEvent) for e in small)


@PROPERTY
@given(st.data(), sse_stream())
def test_decoder_recovers_exactly_the_events_sent(
    data: st.DataObject, stream: tuple[bytes, list[SseEvent]]
) -> None:
    raw, expected = stream
    decoder = SseDecoder()
    assert feed_all(decoder, data.draw(cuts(raw))) == expected
    assert not decoder.has_partial


@pytest.mark.parametrize(
    ("pieces", "expected"),
    [
        ([b"data\n\n"], [SseEvent(b"")]),
        ([b"data\ndata: x\ndata\n\n"], [SseEvent(b"\nx\n")]),
        ([BOM + b"data: x\n\n"], [SseEvent(b"x")]),
        ([b"\xef", b"\xbb", b"\xbfdata: x\n\n"], [SseEvent(b"x")]),
        ([BOM + BOM + b"data: x\n\n"], []),  # only one BOM is dropped: the line is a field
        ([b"data: a\n\n", BOM + b"data: b\n\n"], [SseEvent(b"a")]),  # only at the start
        ([b"\xef\xbbdata: x\n\n"], []),  # half a BOM is not one
    ],
)
def test_decoder_follows_the_whatwg_rules(pieces: list[bytes], expected: list[SseEvent]) -> None:
    assert feed_all(SseDecoder(), pieces) == expected


# -- retry policy ---------------------------------------------------------------------------------


@PROPERTY
@given(
    st.builds(
        RetryPolicy,
        max_retries=st.integers(0, 50),
        initial_delay=st.floats(0, 10),
        max_delay=st.floats(0, 60),
        multiplier=st.floats(1, 1e6),
        jitter=st.floats(0, 1),
        max_retry_after=st.floats(0, 120),
        max_total_delay=st.floats(0, 120),
    ),
    st.lists(st.none() | st.floats(0, 200), min_size=60, max_size=60),
)
def test_retry_waits_never_exceed_the_policy(
    policy: RetryPolicy, retry_afters: list[float | None]
) -> None:
    """However the server answers: at most `max_retries` waits, each a `Retry-After` within
    `max_retry_after` or a backoff within `max_delay`, and `max_total_delay` in all."""
    waited, waits = 0.0, 0
    for number, retry_after in enumerate(retry_afters):
        delay = policy.delay(number, retry_after, waited)
        if delay is None:
            break
        assert delay >= 0
        assert delay <= (policy.max_retry_after if retry_after is not None else policy.max_delay)
        waited += delay
        waits += 1
    assert waits <= policy.max_retries
    assert waited <= policy.max_total_delay


# -- the stream reader, over any bytes -------------------------------------------------------

frame_pieces = st.sampled_from(
    [
        b'data: {"response": "hi"}\n\n',
        b'data: {"response": ""}\n\n',
        b'data: {"response": "x", "usage": {"prompt_tokens": 1, "completion_tokens": 2}}\n\n',
        b"data: [DONE]\n\n",
        b"data: {bad\n\n",
        b'data: {"response": 7}\n\n',
        b"data: null\n\n",
        b": keep-alive\n\n",
        b"event: ping\ndata: {}\n\n",
        b"data: \xff\xfe\n\n",
        b'data: {"response"',
        b"\r\n",
        b"",
    ]
)
body_strategy = st.binary(max_size=200) | st.lists(frame_pieces, max_size=8).map(b"".join)


def model_over(handler: httpx.MockTransport, **options: Any) -> Any:
    binding = GatewayBinding(
        account_id="acct",
        gateway_id="gw",
        api_token="tok",
        base_url="http://127.0.0.1:9/v1",
        transport=handler,
        retry=RetryPolicy(max_retries=0),
        **options,
    )
    return binding.model(MODEL)


async def read_stream(
    pieces: list[bytes], content_type: str
) -> tuple[list[StreamPart], AiError | None]:
    async def body() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": content_type}, content=body())

    lm = model_over(httpx.MockTransport(handler), max_event_bytes=256)
    parts: list[StreamPart] = []
    try:
        async for part in lm.stream_text(prompt="hi"):
            parts.append(part)
    except AiError as error:
        return parts, error
    return parts, None


@PROPERTY
@given(st.data(), body_strategy, st.sampled_from(["text/event-stream", "application/json"]))
def test_stream_reader_gives_parts_or_a_typed_error(
    data: st.DataObject, raw: bytes, content_type: str
) -> None:
    pieces = data.draw(cuts(raw))
    parts, error = anyio.run(read_stream, pieces, content_type)
    assert isinstance(parts[0], ResponseMetadata)
    if error is None:
        assert isinstance(parts[-1], Finish)
        kinds = [type(p) for p in parts[1:-1]]
        if kinds:
            assert kinds[0] is TextStart
            assert kinds[-1] is TextEnd
            assert set(kinds[1:-1]) <= {TextDelta}
    else:
        assert isinstance(error.reason, MalformedOutput | NetworkError), error
        assert not any(isinstance(p, Finish) for p in parts)
        if isinstance(error.reason, NetworkError):
            # Only a clean end of the body without [DONE] or a final frame.
            assert content_type == "text/event-stream"
            assert b"[DONE]" not in raw or b"data: [DONE]\n\n" not in raw


@PROPERTY
@given(json_values | st.binary(max_size=60))
def test_generate_text_gives_a_response_or_malformed_output(body: object) -> None:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "application/json"}, content=content)

    async def call() -> object:
        try:
            return await model_over(httpx.MockTransport(handler)).generate_text(prompt="hi")
        except AiError as error:
            return error

    result = anyio.run(call)
    if isinstance(result, AiError):
        assert isinstance(result.reason, MalformedOutput)
        assert result.status == 200
    else:
        assert isinstance(body, dict)
        assert isinstance(body["result"]["response"], str | None)


# -- gateway specs --------------------------------------------------------------------------

field_names = st.sampled_from([*SETTINGS_RULES, "id", "created_at", "bogus", ""])
spec_bodies = st.dictionaries(field_names, json_values, max_size=8)


@PROPERTY
@given(spec_bodies, st.booleans())
def test_any_settings_body_validates_or_names_its_fields(
    body: dict[str, Any], creating: bool
) -> None:
    errors = check_settings_json(body, creating=creating)
    for error in errors:
        assert error.path, "every error names a field"
        assert error.path[0] in body or error.path[0] in SETTINGS_RULES or error.path[0] == "id"
        assert error.message
    try:
        built = GatewaySettings.from_json(body, creating=creating)
    except ValidationError as caught:
        failure: ValidationError | None = caught
    else:
        failure = None
    if failure is not None:
        assert errors, "from_json failed where check_settings_json found nothing"
        assert set(failure.fields) == {".".join(e.path) for e in errors}
        return
    assert errors == []
    # What was built is valid again, and survives a round trip through its JSON.
    assert check_settings_json(built.settings_json(), creating=False) == []
    assert GatewaySettings.from_json(built.settings_json()) == built


@PROPERTY
@given(
    st.text(max_size=70),
    st.none()
    | st.text(max_size=70)
    | st.from_regex(r"[a-z0-9_]{1,10}(-[a-z0-9_]{1,5}){0,2}", fullmatch=True),
    st.dictionaries(st.sampled_from(list(SETTINGS_RULES)), json_values, max_size=6),
)
def test_any_ai_gateway_spec_builds_or_fails_naming_fields(
    name: str, gateway_id: str | None, fields: dict[str, Any]
) -> None:
    kwargs: dict[str, Any] = dict(fields)
    if gateway_id is not None:
        kwargs["id"] = gateway_id
    try:
        spec = AiGateway(name, **kwargs)
    except ValidationError as caught:
        failed: ValidationError | None = caught
    else:
        failed = None
    if failed is not None:
        assert failed.errors
        # each error names one of the fields given (a nested one by its path inside it)
        assert {error.path[0] for error in failed.errors} <= {"name", "id", *fields}
        return
    assert check_settings_json(spec.create_json(), creating=True) == []
    assert check_settings_json(fields, creating=False) == []


# -- codec round trips ------------------------------------------------------------------------

tokens = st.integers(0, 2**31)
roles = st.sampled_from(["system", "user", "assistant"])
messages = st.lists(st.builds(Message, roles, st.text(max_size=40)), min_size=1, max_size=4)
params = st.fixed_dictionaries(
    {},
    optional={
        "temperature": st.floats(0, 5),
        "max_tokens": st.integers(1, 4096),
        "top_k": st.integers(1, 50),
        "seed": st.integers(0, 2**31),
    },
)


@PROPERTY
@given(st.text(), tokens, tokens, messages, params)
def test_workers_ai_codec_round_trip(
    text: str,
    prompt_tokens: int,
    completion_tokens: int,
    msgs: list[Message],
    values: dict[str, Any],
) -> None:
    codec = WorkersAiCodec()
    sent = json.loads(codec.encode(MODEL, msgs, values, True))
    assert sent["messages"] == [m.to_json() for m in msgs]
    assert sent["stream"] is True
    assert {k: sent[k] for k in values} == values
    usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}
    decoded = codec.decode(
        json.loads(json.dumps({"result": {"response": text, "usage": usage}})), None
    )
    assert decoded.text == text
    assert decoded.usage == Usage(InputTokens(prompt_tokens), OutputTokens(completion_tokens))
    chunk = codec.decode_chunk(json.dumps({"response": text}).encode())
    assert (chunk.delta if chunk is not None else "") == text
    assert codec.decode_chunk(b"[DONE]") is DONE


@PROPERTY
@given(st.text(), tokens, tokens, messages, params, st.sampled_from(["stop", "length", None]))
def test_openai_compat_codec_round_trip(
    text: str,
    prompt_tokens: int,
    completion_tokens: int,
    msgs: list[Message],
    values: dict[str, Any],
    finish: str | None,
) -> None:
    codec = OpenAICompatCodec()
    sent = json.loads(codec.encode("openai/gpt-4o-mini", msgs, values, False))
    assert sent["model"] == "openai/gpt-4o-mini"
    assert sent["messages"] == [m.to_json() for m in msgs]
    assert "top_k" not in sent  # not an OpenAI parameter
    usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}
    reply = {
        "id": "chatcmpl-1",
        "model": "m",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}
        ],
        "usage": usage,
    }
    decoded = codec.decode(json.loads(json.dumps(reply)), None)
    assert (decoded.text, decoded.model, decoded.response_id) == (text, "m", "chatcmpl-1")
    assert decoded.finish_reason == (finish or "unknown")
    assert decoded.usage.output_tokens.total == completion_tokens
    frame = {
        "id": "c",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
    }
    chunk = codec.decode_chunk(json.dumps(frame).encode())
    assert (chunk.delta if chunk is not None else "") == text


part_strategy = st.one_of(
    st.builds(TextDelta, st.text()),
    st.just(TextStart()),
    st.just(TextEnd()),
    st.builds(
        Finish,
        reason=st.sampled_from(["stop", "length"]),
        usage=st.builds(Usage, st.builds(InputTokens, tokens), st.builds(OutputTokens, tokens)),
    ),
)


@PROPERTY
@given(st.data(), st.lists(part_strategy, max_size=8))
def test_sse_encode_then_decode_round_trip(data: st.DataObject, parts: list[StreamPart]) -> None:
    async def parts_stream() -> AsyncIterator[StreamPart]:
        for part in parts:
            yield part

    async def encode() -> bytes:
        return b"".join([chunk async for chunk in sse_encode(parts_stream())])

    raw = anyio.run(encode)
    events = feed_all(SseDecoder(), data.draw(cuts(raw)))
    assert [json.loads(e.data) for e in events] == [
        json.loads(json.dumps(p.to_json())) for p in parts
    ]


def test_chunk_strategy_sanity() -> None:
    """The chunking strategy must be able to split inside a CRLF (the hard case)."""
    decoder = SseDecoder()
    assert feed_all(decoder, [b"data: a\r", b"\n\r", b"\n"]) == [SseEvent(b"a")]
