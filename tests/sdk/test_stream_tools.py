"""Tool calls through the stream pipeline: the assembler over pieces (OpenAI's deltas split and
interleaved, Workers AI's whole calls, text and calls together), `SseParts` over bytes cut
anywhere, `AiStream.collect()` over one step and over a tool loop's several, `sse_encode` of
the tool parts, and `step` / `stream_step` / `generate_text` / `stream_text` over a mock
transport."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from aigateway_sdk import AiError, MalformedOutput, NetworkError
from aigateway_sdk.codecs import OpenAICompatCodec, ToolCallChunk, WorkersAiCodec
from aigateway_sdk.codecs.base import Chunk, Decoded
from aigateway_sdk.content import ToolCall, ToolResult
from aigateway_sdk.gateway_model import NO_SETTINGS, CallSettings, settings_of
from aigateway_sdk.parameters import ModelParameters
from aigateway_sdk.parts import (
    Finish,
    ResponseMetadata,
    StreamPart,
    TextDelta,
    TextEnd,
    TextStart,
    ToolCallPart,
    ToolParamsDelta,
    ToolParamsEnd,
    ToolParamsStart,
    ToolResultPart,
)
from aigateway_sdk.prompt import Message
from aigateway_sdk.request import OutputFormat, ToolDefinition, ToolsRequest
from aigateway_sdk.response import InputTokens, OutputTokens, ReplyHead, Step, Usage
from aigateway_sdk.result import AiStream
from aigateway_sdk.sse_response import sse_encode
from aigateway_sdk.streaming import SseParts, StreamAssembler
from aigateway_sdk.transport.sse import SseDecoder

from .helpers import MODEL, Recorder, binding_for, sse, workers_ai_reply

pytestmark = pytest.mark.anyio

HEAD = ReplyHead(cache_status="MISS", log_id="01LOG")
USAGE = Usage(InputTokens(3), OutputTokens(2))
SSE_HEADERS = {"content-type": "text/event-stream", "cf-aig-log-id": "01LOG"}
WEATHER = ToolDefinition(
    "get_weather", "The weather", {"type": "object", "properties": {"city": {"type": "string"}}}
)


def assemble(chunks: list[Chunk], *, ended: bool = True) -> list[StreamPart]:
    assembler = StreamAssembler(MODEL, HEAD)
    parts: list[StreamPart] = []
    for chunk in chunks:
        assembler.add(chunk, parts)
    return parts + assembler.end(ended=ended)


def calls_of(parts: list[StreamPart]) -> list[ToolCall]:
    return [p.call for p in parts if isinstance(p, ToolCallPart)]


def pieces(*items: ToolCallChunk, finish: Any = None, usage: Usage | None = None) -> Chunk:
    return Chunk(None, usage, finish, tool_calls=items)


# -- the assembler ----------------------------------------------------------------------------


def test_openai_deltas_split_and_interleaved_become_whole_calls_in_index_order() -> None:
    parts = assemble(
        [
            pieces(ToolCallChunk(1, "call_b", "get_time", "")),
            pieces(ToolCallChunk(0, "call_a", "get_weather", '{"ci')),
            pieces(ToolCallChunk(1, None, None, '{"tz":')),
            pieces(ToolCallChunk(0, None, None, 'ty": "Pa')),
            pieces(ToolCallChunk(0, None, None, 'ris"}'), ToolCallChunk(1, None, None, '"UTC"}')),
            pieces(finish="tool-calls"),
            Chunk(None, USAGE),
        ]
    )
    assert parts == [
        ToolParamsStart(id="call_b", name="get_time"),
        ToolParamsStart(id="call_a", name="get_weather"),
        ToolParamsDelta("call_a", '{"ci'),
        ToolParamsDelta("call_b", '{"tz":'),
        ToolParamsDelta("call_a", 'ty": "Pa'),
        ToolParamsDelta("call_a", 'ris"}'),
        ToolParamsDelta("call_b", '"UTC"}'),
        ToolParamsEnd("call_a"),
        ToolCallPart(ToolCall(id="call_a", name="get_weather", arguments_json='{"city": "Paris"}')),
        ToolParamsEnd("call_b"),
        ToolCallPart(ToolCall(id="call_b", name="get_time", arguments_json='{"tz":"UTC"}')),
        Finish(reason="tool-calls", usage=USAGE),
    ]
    assert [c.arguments for c in calls_of(parts)] == [{"city": "Paris"}, {"tz": "UTC"}]


def test_text_and_tool_calls_in_one_reply() -> None:
    parts = assemble(
        [
            Chunk("Let me check."),
            pieces(ToolCallChunk(0, "c1", "get_weather", '{"city":"Oslo"}')),
            Chunk(None, USAGE),  # no finish reason reported
        ]
    )
    assert [type(p) for p in parts] == [
        TextStart,
        TextDelta,
        ToolParamsStart,
        ToolParamsDelta,
        TextEnd,
        ToolParamsEnd,
        ToolCallPart,
        Finish,
    ]
    finish = parts[-1]
    assert isinstance(finish, Finish)
    assert finish.reason == "tool-calls"  # calls and no reason: the model wants them run


def test_native_whole_calls_are_numbered_across_frames() -> None:
    parts = assemble(
        [
            pieces(
                ToolCallChunk(None, None, "get_weather", '{"city":"Paris"}'),
                ToolCallChunk(None, "own-id", "get_time", "{}"),
            ),
            pieces(ToolCallChunk(None, None, "get_weather", '{"city":"Rome"}')),
            Chunk(None, USAGE),
        ]
    )
    assert [(c.id, c.name, c.arguments) for c in calls_of(parts)] == [
        ("call_0", "get_weather", {"city": "Paris"}),
        ("own-id", "get_time", {}),
        ("call_2", "get_weather", {"city": "Rome"}),
    ]
    assert parts[:2] == [
        ToolParamsStart(id="call_0", name="get_weather"),
        ToolParamsDelta("call_0", '{"city":"Paris"}'),
    ]


def test_a_reused_index_with_another_id_is_another_call() -> None:
    # some OpenAI-compatible providers number every call 0 and tell them apart by id
    parts = assemble(
        [
            pieces(ToolCallChunk(0, "a", "f", "{}")),
            pieces(ToolCallChunk(0, "b", "g", '{"x":1}')),
            pieces(ToolCallChunk(0, "b", None, "")),  # the id repeated: the same call
            pieces(ToolCallChunk(0, None, None, "")),  # no id: the index's latest call
            pieces(ToolCallChunk(1, "c", "h", "{")),
            pieces(ToolCallChunk(0, "a", None, "")),  # back to the first by its id
            pieces(ToolCallChunk(1, None, None, "}")),
            pieces(finish="tool-calls"),
        ]
    )
    assert [(c.id, c.name, c.arguments) for c in calls_of(parts)] == [
        ("a", "f", {}),
        ("b", "g", {"x": 1}),
        ("c", "h", {}),
    ]


def test_a_call_without_an_id_gets_one_and_bad_arguments_are_kept() -> None:
    parts = assemble([pieces(ToolCallChunk(3, None, "f", "{not json")), Chunk(None, USAGE)])
    (call,) = calls_of(parts)
    assert call.id == "call_3"
    assert call.arguments is None
    assert call.arguments_json == "{not json"
    assert call.parse_error


def test_a_piece_for_a_call_that_never_began_is_refused() -> None:
    assembler = StreamAssembler(MODEL, HEAD)
    with pytest.raises(ValueError, match="tool call 0 has no tool name"):
        assembler.add(pieces(ToolCallChunk(0, None, None, '{"a":1}')), [])


def test_a_stream_cut_before_a_finish_is_still_refused_with_calls() -> None:
    with pytest.raises(AiError) as caught:
        assemble([pieces(ToolCallChunk(0, "c", "f", "{"))], ended=False)
    assert isinstance(caught.value.reason, NetworkError)


def test_whole_reply_gives_the_parts_a_stream_gives() -> None:
    calls = (ToolCall.of("call_0", "get_weather", {"city": "Paris"}), ToolCall.of("x", "g", {}))
    reply = Decoded("Sure.", USAGE, "tool-calls", tool_calls=calls)
    whole = StreamAssembler(MODEL, HEAD).whole(reply)
    streamed = assemble(
        [
            Chunk("Sure."),
            pieces(ToolCallChunk(0, "call_0", "get_weather", '{"city":"Paris"}')),
            pieces(ToolCallChunk(1, "x", "g", "{}")),
            Chunk(None, USAGE, "tool-calls"),
        ]
    )
    assert whole == streamed
    assert calls_of(whole) == list(calls)
    assert calls_of(whole)[0] is calls[0]  # the decoded call, not parsed again


# -- SseParts: bytes cut anywhere -------------------------------------------------------------


def openai_frame(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"id": "chatcmpl-1", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def tool_delta(
    index: int, arguments: str, call_id: str | None = None, name: str | None = None
) -> dict[str, Any]:
    piece: dict[str, Any] = {"index": index, "function": {"arguments": arguments}}
    if call_id is not None:
        piece["id"] = call_id
        piece["type"] = "function"
        piece["function"]["name"] = name
    return openai_frame({"tool_calls": [piece]})


OPENAI_TOOL_STREAM = sse(
    openai_frame({"role": "assistant", "content": "On it."}),
    tool_delta(0, "", "call_a", "get_weather"),
    tool_delta(1, "", "call_b", "get_weather"),
    tool_delta(0, '{"city":'),
    tool_delta(1, '{"city":"Rome"}'),
    tool_delta(0, '"Paris"}'),
    openai_frame({}, "tool_calls"),
    {"id": "chatcmpl-1", "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 4}},
    "[DONE]",
)


def feed_all(codec: Any, pieces_of_bytes: list[bytes]) -> list[StreamPart]:
    events = SseParts(codec, StreamAssembler(MODEL, HEAD), 4096, headers=httpx.Headers(SSE_HEADERS))
    parts: list[StreamPart] = []
    for raw in pieces_of_bytes:
        parts += events.feed(raw)
    return parts + events.end()


@pytest.mark.parametrize("size", [1, 7, 64, len(OPENAI_TOOL_STREAM)])
def test_openai_tool_stream_over_bytes_cut_anywhere(size: int) -> None:
    cut = [OPENAI_TOOL_STREAM[i : i + size] for i in range(0, len(OPENAI_TOOL_STREAM), size)]
    parts = feed_all(OpenAICompatCodec(), cut)
    assert [(c.id, c.arguments) for c in calls_of(parts)] == [
        ("call_a", {"city": "Paris"}),
        ("call_b", {"city": "Rome"}),
    ]
    assert "".join(p.delta for p in parts if isinstance(p, TextDelta)) == "On it."
    assert parts[-1] == Finish(reason="tool-calls", usage=Usage(InputTokens(9), OutputTokens(4)))


def test_native_tool_stream_over_bytes() -> None:
    body = sse(
        {"response": "", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]},
        {"response": "", "usage": {"prompt_tokens": 5, "completion_tokens": 3}},
        "[DONE]",
    )
    parts = feed_all(WorkersAiCodec(), [body])
    assert parts == [
        ToolParamsStart(id="call_0", name="get_weather"),
        ToolParamsDelta("call_0", '{"city":"Oslo"}'),
        ToolParamsEnd("call_0"),
        ToolCallPart(ToolCall.of("call_0", "get_weather", {"city": "Oslo"})),
        Finish(reason="tool-calls", usage=Usage(InputTokens(5), OutputTokens(3))),
    ]


def test_a_stream_piece_for_an_unknown_call_is_malformed_output() -> None:
    body = sse(tool_delta(0, '{"a":1}'), "[DONE]")
    with pytest.raises(AiError) as caught:
        feed_all(OpenAICompatCodec(), [body])
    assert isinstance(caught.value.reason, MalformedOutput)
    assert "no tool name" in caught.value.message
    assert caught.value.log_id == "01LOG"


# -- collect: one step, and a tool loop's steps -----------------------------------------------


def canned(parts: list[StreamPart]) -> AiStream:
    async def open_parts() -> AsyncIterator[StreamPart]:
        for part in parts:
            yield part

    return AiStream(open_parts)


def meta(response_id: str) -> ResponseMetadata:
    return ResponseMetadata(model=MODEL, response_id=response_id, log_id=f"log-{response_id}")


CALL = ToolCall.of("call_0", "get_weather", {"city": "Paris"})
RESULT = ToolResult(call_id="call_0", name="get_weather", value={"c": 21}, content='{"c":21}')


async def test_collect_gathers_the_tool_calls_of_one_call() -> None:
    response = await canned(
        [
            meta("r1"),
            ToolParamsStart(id="call_0", name="get_weather"),
            ToolParamsDelta("call_0", CALL.arguments_json),
            ToolParamsEnd("call_0"),
            ToolCallPart(CALL),
            Finish(reason="tool-calls", usage=USAGE),
        ]
    ).collect()
    assert response.tool_calls == (CALL,)
    assert response.tool_results == ()
    assert response.steps == ()  # one model call: no steps, as before
    assert (response.text, response.finish_reason, response.usage) == ("", "tool-calls", USAGE)
    assert (response.response_id, response.log_id) == ("r1", "log-r1")


async def test_collect_of_a_tool_loop_gives_every_step() -> None:
    second_usage = Usage(InputTokens(10, cached=4), OutputTokens(5))
    response = await canned(
        [
            meta("r1"),
            TextStart(),
            TextDelta("Checking."),
            TextEnd(),
            ToolCallPart(CALL),
            Finish(reason="tool-calls", usage=USAGE),
            ToolResultPart(RESULT),  # after the Finish of the step that asked for it
            meta("r2"),
            TextStart(),
            TextDelta("It is "),
            TextDelta("21."),
            TextEnd(),
            Finish(reason="stop", usage=second_usage),
        ]
    ).collect()
    assert response.text == "It is 21."
    assert response.finish_reason == "stop"
    assert response.tool_calls == ()
    assert response.tool_results == ()
    assert (response.response_id, response.log_id) == ("r2", "log-r2")
    assert response.usage == Usage(InputTokens(13, cached=4), OutputTokens(7))
    assert response.steps == (
        Step(
            text="Checking.",
            tool_calls=(CALL,),
            tool_results=(RESULT,),
            usage=USAGE,
            finish_reason="tool-calls",
            model=MODEL,
            response_id="r1",
            log_id="log-r1",
        ),
        Step(
            text="It is 21.",
            usage=second_usage,
            finish_reason="stop",
            model=MODEL,
            response_id="r2",
            log_id="log-r2",
        ),
    )


async def test_collect_keeps_the_results_of_a_loop_that_stopped_after_running_tools() -> None:
    response = await canned(
        [
            meta("r1"),
            ToolCallPart(CALL),
            Finish(reason="tool-calls", usage=USAGE),
            ToolResultPart(RESULT),
        ]
    ).collect()
    assert (response.tool_calls, response.tool_results) == ((CALL,), (RESULT,))
    assert response.steps == ()


# -- sse_encode of the tool parts -------------------------------------------------------------


async def test_sse_encode_writes_the_tool_parts_and_reads_back_the_same() -> None:
    bad = ToolCall.from_json("call_1", "f", "{oops")
    parts: list[StreamPart] = [
        meta("r1"),
        ToolParamsStart(id="call_0", name="get_weather"),
        ToolParamsDelta("call_0", CALL.arguments_json),
        ToolParamsEnd("call_0"),
        ToolCallPart(CALL),
        ToolCallPart(bad),
        Finish(reason="tool-calls", usage=USAGE),
        ToolResultPart(RESULT),
        ToolResultPart(
            ToolResult(call_id="call_1", name="f", value=None, content="no", is_error=True)
        ),
    ]
    raw = b"".join([chunk async for chunk in sse_encode(canned(parts))])
    events = SseDecoder().feed(raw)
    read = [json.loads(e.data) for e in events]
    assert read == [json.loads(json.dumps(p.to_json())) for p in parts]
    assert read[4] == {
        "type": "tool-call",
        "id": "call_0",
        "name": "get_weather",
        "params": {"city": "Paris"},
    }
    assert read[5]["params"] == "{oops"  # arguments that were not JSON go as their text
    assert read[8] == {
        "type": "tool-result",
        "id": "call_1",
        "name": "f",
        "result": "no",
        "isFailure": True,
    }


# -- the model: step, stream_step, generate_text, stream_text ---------------------------------


def native_tool_reply() -> dict[str, Any]:
    reply = workers_ai_reply("")
    reply["result"]["response"] = None
    reply["result"]["tool_calls"] = [{"name": "get_weather", "arguments": {"city": "Paris"}}]
    return reply


def test_settings_of_checks_and_gives_no_settings_for_none() -> None:
    assert settings_of() is NO_SETTINGS
    settings = settings_of({"max_tokens": 5}, extra_body={"a": 1}, extra_headers={"x-a": "b"})
    assert settings == CallSettings(ModelParameters(max_tokens=5), None, {"a": 1}, {"x-a": "b"})


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_step_sends_tools_and_gives_the_tool_calls() -> None:
    recorder = Recorder(httpx.Response(200, json=native_tool_reply()))
    lm = binding_for(recorder).model(MODEL)
    messages = (Message.system("s"), Message.user("weather in Paris?"))
    response = await lm.step(
        messages, settings_of({"max_tokens": 50}), tools=ToolsRequest((WEATHER,), "required")
    )
    assert response.tool_calls == (ToolCall.of("call_0", "get_weather", {"city": "Paris"}),)
    assert response.finish_reason == "tool-calls"
    assert response.text == ""
    (body,) = recorder.bodies()
    assert body["tools"] == [
        {"name": "get_weather", "description": "The weather", "parameters": WEATHER.parameters}
    ]
    assert body["tool_choice"] == "required"
    assert body["max_tokens"] == 50
    assert body["messages"] == [m.to_json() for m in messages]


async def test_step_asks_for_json_output() -> None:
    reply = workers_ai_reply("")
    reply["result"]["response"] = {"name": "Ada"}
    recorder = Recorder(httpx.Response(200, json=reply))
    lm = binding_for(recorder).model(MODEL)
    schema = {"type": "object", "properties": {"name": {"type": "string"}}}
    response = await lm.step((Message.user("who?"),), output=OutputFormat(schema))
    assert response.text == '{"name":"Ada"}'
    assert recorder.bodies()[0]["response_format"] == {"type": "json_schema", "json_schema": schema}


async def test_generate_text_gives_tool_calls_of_a_reply_that_has_them() -> None:
    recorder = Recorder(httpx.Response(200, json=native_tool_reply()))
    response = await binding_for(recorder).model(MODEL).generate_text(prompt="hi")
    assert [c.name for c in response.tool_calls] == ["get_weather"]
    assert "tools" not in recorder.bodies()[0]  # a plain call offers none


async def test_a_malformed_tool_call_is_malformed_output() -> None:
    reply = native_tool_reply()
    reply["result"]["tool_calls"] = [{"arguments": {}}]
    lm = binding_for(Recorder(httpx.Response(200, json=reply))).model(MODEL)
    with pytest.raises(AiError) as caught:
        await lm.step((Message.user("hi"),))
    assert isinstance(caught.value.reason, MalformedOutput)


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_stream_step_yields_tool_parts_on_compat() -> None:
    recorder = Recorder(httpx.Response(200, content=OPENAI_TOOL_STREAM, headers=SSE_HEADERS))
    lm = binding_for(recorder).model("openai/gpt-4o-mini")
    parts = [
        p async for p in lm.stream_step((Message.user("weather?"),), tools=ToolsRequest((WEATHER,)))
    ]
    assert isinstance(parts[0], ResponseMetadata)
    assert [c.id for c in calls_of(parts)] == ["call_a", "call_b"]
    body = recorder.bodies()[0]
    assert body["tools"][0]["function"]["name"] == "get_weather"
    assert body["stream"] is True
    collected = await AiStream(
        lambda: lm.stream_step((Message.user("weather?"),), tools=ToolsRequest((WEATHER,)))
    ).collect()
    assert [c.arguments for c in collected.tool_calls] == [{"city": "Paris"}, {"city": "Rome"}]
    assert collected.finish_reason == "tool-calls"


async def test_stream_text_of_a_json_reply_with_tool_calls() -> None:
    # a stream answered with one JSON body (a cache hit) gives the same tool parts
    recorder = Recorder(httpx.Response(200, json=native_tool_reply()))
    parts = [p async for p in binding_for(recorder).model(MODEL).stream_text(prompt="hi")]
    assert [type(p) for p in parts] == [
        ResponseMetadata,
        ToolParamsStart,
        ToolParamsDelta,
        ToolParamsEnd,
        ToolCallPart,
        Finish,
    ]


class RecordingSpec:
    """A gateway spec that records being applied (a binding with `ensure_gateway=True`)."""

    gateway_id = "declared"

    def __init__(self) -> None:
        self.applied = 0

    async def ensure(self, **where: object) -> None:
        self.applied += 1


async def test_step_and_stream_step_start_a_binding_that_must_start_first() -> None:
    recorder = Recorder(
        httpx.Response(200, json=native_tool_reply()),
        httpx.Response(200, content=sse({"response": "hi"}, "[DONE]"), headers=SSE_HEADERS),
    )
    spec = RecordingSpec()
    binding = binding_for(recorder, spec=spec, ensure_gateway=True)
    lm = binding.model(MODEL)
    assert binding.needs_start
    response = await lm.step((Message.user("hi"),), tools=ToolsRequest((WEATHER,)))
    assert response.tool_calls
    assert spec.applied == 1
    assert not binding.needs_start
    parts = [p async for p in lm.stream_step((Message.user("hi"),))]
    assert isinstance(parts[-1], Finish)
    assert spec.applied == 1
    await binding.aclose()


async def test_collect_starts_a_new_step_at_any_part_after_a_finish() -> None:
    response = await canned(
        [
            TextDelta("one"),
            Finish(reason="stop", usage=USAGE),
            TextDelta("two"),
            Finish(reason="stop", usage=USAGE),
        ]
    ).collect()
    assert response.text == "two"
    assert [s.text for s in response.steps] == ["one", "two"]
    assert response.usage == Usage(InputTokens(6), OutputTokens(4))
