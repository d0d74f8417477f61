"""The codecs with tools, structured output and images: the exact request bodies on each route,
and every reply shape a tool call or a JSON-mode answer comes in (malformed ones included)."""

from __future__ import annotations

import json
from types import MappingProxyType
from typing import Any

import pytest

from aigateway_sdk.codecs import ToolCallChunk, codec_for
from aigateway_sdk.codecs.base import Chunk
from aigateway_sdk.content import ImagePart, TextPart, ToolCall, ToolResult
from aigateway_sdk.prompt import Message
from aigateway_sdk.request import OutputFormat, ToolDefinition, ToolsRequest

MODEL = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
COMPAT_MODEL = "openai/gpt-4o-mini"
WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}
WEATHER = ToolDefinition("get_weather", "The weather in a city", WEATHER_SCHEMA)
TIME = ToolDefinition("get_time", None, MappingProxyType({"type": "object", "properties": {}}))
PERSON = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


def body_of(route: str, messages: list[Message] | None = None, **kwargs: Any) -> dict[str, Any]:
    codec = codec_for(route)  # type: ignore[arg-type]
    model = COMPAT_MODEL if route == "compat" else MODEL
    extra = kwargs.pop("extra", None)
    raw = codec.encode(model, messages or [Message.user("hi")], {}, False, extra, **kwargs)
    decoded: dict[str, Any] = json.loads(raw)
    return decoded


OPENAI_ROUTES = pytest.mark.parametrize("route", ["compat", "workers-ai-openai"])


# -- requests: OpenAI's shapes ----------------------------------------------------------------


@OPENAI_ROUTES
def test_openai_routes_send_tools_in_openai_shape(route: str) -> None:
    body = body_of(route, tools=ToolsRequest((WEATHER, TIME)))
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "The weather in a city",
                "parameters": WEATHER_SCHEMA,
            },
        },
        # no description: none is sent; a read-only mapping is written as an object
        {"type": "function", "function": {"name": "get_time", "parameters": TIME.parameters}},
    ]
    assert body["tool_choice"] == "auto"
    assert "parallel_tool_calls" not in body
    assert "response_format" not in body


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("none", "none"),
        ("required", "required"),
        ("get_weather", {"type": "function", "function": {"name": "get_weather"}}),
    ],
)
def test_compat_tool_choice(choice: str, wire: object) -> None:
    assert body_of("compat", tools=ToolsRequest((WEATHER,), choice))["tool_choice"] == wire


def test_compat_strict_tools_and_parallel_tool_calls() -> None:
    strict = ToolDefinition("get_weather", "w", WEATHER_SCHEMA, strict=True)
    body = body_of("compat", tools=ToolsRequest((strict,), parallel=False))
    assert body["tools"][0]["function"]["strict"] is True
    assert body["parallel_tool_calls"] is False
    assert body_of("compat", tools=ToolsRequest((strict,), parallel=True))["parallel_tool_calls"]


def test_no_tool_definitions_sends_no_tools() -> None:
    # OpenAI refuses an empty `tools` list; an empty request is no tools at all
    for route in ("compat", "workers-ai"):
        body = body_of(route, tools=ToolsRequest((), "none"))
        assert "tools" not in body
        assert "tool_choice" not in body


@OPENAI_ROUTES
def test_openai_routes_send_response_format(route: str) -> None:
    schema = body_of(route, output=OutputFormat(PERSON, "person"))
    assert schema["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "person", "schema": PERSON},
    }
    full = body_of(route, output=OutputFormat(PERSON, "person", "A person.", strict=True))
    assert full["response_format"]["json_schema"] == {
        "name": "person",
        "description": "A person.",
        "schema": PERSON,
        "strict": True,
    }
    assert body_of(route, output=OutputFormat(None))["response_format"] == {"type": "json_object"}


def test_extra_body_merges_over_tools_and_response_format() -> None:
    body = body_of(
        "compat",
        tools=ToolsRequest((WEATHER,)),
        output=OutputFormat(None),
        extra={"tool_choice": "required", "response_format": {"type": "text"}},
    )
    assert body["tool_choice"] == "required"
    assert body["response_format"] == {"type": "text"}
    native = body_of("workers-ai", tools=ToolsRequest((WEATHER,)), extra={"tools": []})
    assert native["tools"] == []


# -- requests: Workers AI's native shapes -----------------------------------------------------


def test_native_route_sends_traditional_tools() -> None:
    body = body_of("workers-ai", tools=ToolsRequest((WEATHER, TIME), parallel=True))
    assert body["tools"] == [
        {
            "name": "get_weather",
            "description": "The weather in a city",
            "parameters": WEATHER_SCHEMA,
        },
        {"name": "get_time", "description": "", "parameters": {"type": "object", "properties": {}}},
    ]
    # "auto" is the default there: not sent; parallel_tool_calls has no place in the native API
    assert "tool_choice" not in body
    assert "parallel_tool_calls" not in body


def test_native_route_sends_tool_choice_when_not_auto() -> None:
    assert body_of("workers-ai", tools=ToolsRequest((WEATHER,), "required"))["tool_choice"] == (
        "required"
    )
    named = body_of("workers-ai", tools=ToolsRequest((WEATHER,), "get_weather"))
    assert named["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}


def test_native_route_sends_json_mode_with_the_schema_itself() -> None:
    body = body_of("workers-ai", output=OutputFormat(PERSON, "person", "A person.", strict=True))
    assert body["response_format"] == {"type": "json_schema", "json_schema": PERSON}
    assert body_of("workers-ai", output=OutputFormat(None))["response_format"] == {
        "type": "json_object"
    }


# -- requests: messages -----------------------------------------------------------------------

CONVERSATION = [
    Message.system("Be brief."),
    Message.user("What is in this picture?", ImagePart("https://example.com/cat.png", "low")),
    Message.assistant("", [ToolCall.of("call_1", "get_weather", {"city": "Paris"})]),
    Message.tool(ToolResult(call_id="call_1", name="get_weather", value=21, content="21")),
    Message.assistant("It is 21 degrees."),
]
CONVERSATION_JSON = [
    {"role": "system", "content": "Be brief."},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is in this picture?"},
            {
                "type": "image_url",
                "image_url": {"url": "https://example.com/cat.png", "detail": "low"},
            },
        ],
    },
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
            }
        ],
    },
    {"role": "tool", "content": "21", "tool_call_id": "call_1"},
    {"role": "assistant", "content": "It is 21 degrees."},
]


@pytest.mark.parametrize("route", ["compat", "workers-ai-openai", "workers-ai"])
def test_images_tool_calls_and_tool_results_in_openai_message_shape(route: str) -> None:
    assert body_of(route, CONVERSATION)["messages"] == CONVERSATION_JSON


def test_image_bytes_go_as_a_data_url() -> None:
    image = ImagePart.from_bytes(b"\x89PNG", "image/png")
    body = body_of("workers-ai", [Message.user(TextPart("look"), image)])
    part = body["messages"][0]["content"][1]
    assert part == {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw=="}}


def test_text_messages_stay_role_and_content() -> None:
    for route in ("compat", "workers-ai"):
        body = body_of(route, [Message.system("s"), Message.user("u")])
        assert body["messages"] == [
            {"role": "system", "content": "s"},
            {"role": "user", "content": "u"},
        ]


# -- replies: OpenAI's shape ------------------------------------------------------------------


def compat_reply(message: dict[str, Any], finish: str | None = "tool_calls") -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "model": "gpt-4o-mini",
        "choices": [
            {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5},
    }


def openai_call(call_id: str | None, name: str, arguments: object) -> dict[str, Any]:
    call: dict[str, Any] = {"type": "function", "function": {"name": name, "arguments": arguments}}
    if call_id is not None:
        call["id"] = call_id
    return call


@OPENAI_ROUTES
def test_openai_reply_with_tool_calls(route: str) -> None:
    reply = compat_reply(
        {
            "content": None,
            "tool_calls": [
                openai_call("call_a", "get_weather", '{"city": "Paris"}'),
                openai_call("call_b", "get_time", ""),
            ],
        }
    )
    decoded = codec_for(route).decode(reply, None)  # type: ignore[arg-type]
    assert decoded.text == ""
    assert decoded.finish_reason == "tool-calls"
    assert decoded.tool_calls == (
        ToolCall(id="call_a", name="get_weather", arguments_json='{"city": "Paris"}'),
        ToolCall(id="call_b", name="get_time", arguments_json=""),
    )
    assert decoded.tool_calls[0].arguments == {"city": "Paris"}
    assert decoded.tool_calls[1].arguments == {}  # empty arguments: no arguments


def test_openai_reply_with_text_and_calls_and_no_finish_reason() -> None:
    reply = compat_reply(
        {"content": "Let me look.", "tool_calls": [openai_call(None, "get_time", {"tz": "UTC"})]},
        finish=None,
    )
    decoded = codec_for("compat").decode(reply, None)
    assert decoded.text == "Let me look."
    assert decoded.finish_reason == "tool-calls"  # calls and no reason: the model wants them run
    call = decoded.tool_calls[0]
    assert (call.id, call.name, call.arguments) == ("call_0", "get_time", {"tz": "UTC"})


def test_openai_reply_with_arguments_that_are_not_json_keeps_them() -> None:
    reply = compat_reply({"content": None, "tool_calls": [openai_call("c", "f", "{nope")]})
    call = codec_for("compat").decode(reply, None).tool_calls[0]
    assert call.arguments is None
    assert call.arguments_json == "{nope"
    assert call.parse_error


def test_openai_reply_without_calls_has_none() -> None:
    decoded = codec_for("compat").decode(compat_reply({"content": "hi"}, "stop"), None)
    assert decoded.tool_calls == ()
    assert decoded.finish_reason == "stop"


@pytest.mark.parametrize(
    ("tool_calls", "error"),
    [
        ({"id": "c"}, TypeError),  # not a list
        (["call"], TypeError),  # an entry that is not an object
        ([{"id": "c", "type": "function", "function": {"arguments": "{}"}}], KeyError),
        ([{"id": "c", "function": {"name": 7, "arguments": "{}"}}], TypeError),
        ([{"id": 7, "function": {"name": "f", "arguments": "{}"}}], TypeError),
    ],
)
def test_malformed_openai_tool_calls_raise(tool_calls: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        codec_for("compat").decode(compat_reply({"content": None, "tool_calls": tool_calls}), None)


# -- replies: Workers AI's native shape -------------------------------------------------------


def native_reply(result: dict[str, Any]) -> dict[str, Any]:
    usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    return {"result": {**result, "usage": usage}, "success": True, "errors": [], "messages": []}


def test_native_reply_with_traditional_tool_calls_gets_ids() -> None:
    reply = native_reply(
        {
            "response": None,
            "tool_calls": [
                {"name": "get_weather", "arguments": {"city": "Paris"}},
                {"name": "get_time", "arguments": "{}"},
            ],
        }
    )
    decoded = codec_for("workers-ai").decode(reply, None)
    assert decoded.text == ""
    assert decoded.finish_reason == "tool-calls"
    assert [(c.id, c.name, c.arguments) for c in decoded.tool_calls] == [
        ("call_0", "get_weather", {"city": "Paris"}),
        ("call_1", "get_time", {}),
    ]
    assert decoded.tool_calls[0].arguments_json == '{"city":"Paris"}'
    # the same reply decodes to the same ids every time
    assert codec_for("workers-ai").decode(reply, None).tool_calls == decoded.tool_calls


def test_native_reply_with_openai_shaped_calls_and_no_response() -> None:
    reply = native_reply(
        {"tool_calls": [openai_call("chatcmpl-tool-9", "get_weather", '{"city":"Oslo"}')]}
    )
    decoded = codec_for("workers-ai").decode(reply, None)
    assert decoded.text == ""
    call = decoded.tool_calls[0]
    assert (call.id, call.name, call.arguments) == (
        "chatcmpl-tool-9",
        "get_weather",
        {"city": "Oslo"},
    )


def test_native_reply_keeps_a_reported_finish_reason() -> None:
    reply = native_reply(
        {"response": "", "finish_reason": "length", "tool_calls": [{"name": "f", "arguments": {}}]}
    )
    assert codec_for("workers-ai").decode(reply, None).finish_reason == "length"


def test_native_json_mode_reply_is_compact_json_text() -> None:
    value = {"name": "Ada", "languages": ["en", "fr"], "note": "é"}
    decoded = codec_for("workers-ai").decode(native_reply({"response": value}), None)
    assert decoded.text == '{"name":"Ada","languages":["en","fr"],"note":"é"}'
    assert json.loads(decoded.text) == value
    assert decoded.finish_reason == "stop"
    listed = codec_for("workers-ai").decode(native_reply({"response": [1, 2]}), None)
    assert listed.text == "[1,2]"
    # a JSON-mode answer that came as text stays as it came
    text = codec_for("workers-ai").decode(native_reply({"response": '{"a": 1}'}), None)
    assert text.text == '{"a": 1}'


@pytest.mark.parametrize(
    "result",
    [
        {"response": 42},  # neither text nor a JSON object or array
        {"response": True},
        {},  # no response and no calls
        {"response": "", "tool_calls": {"name": "f"}},  # calls not a list
        {"response": "", "tool_calls": [{"arguments": {}}]},  # a call without a name
        {"response": "", "tool_calls": [["f"]]},
    ],
)
def test_malformed_native_replies_raise(result: dict[str, Any]) -> None:
    with pytest.raises((TypeError, KeyError, ValueError)):
        codec_for("workers-ai").decode(native_reply(result), None)


# -- stream chunks ----------------------------------------------------------------------------


def frame(delta: dict[str, Any], finish: str | None = None) -> bytes:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return json.dumps({"id": "chatcmpl-1", "choices": [choice]}).encode()


def test_openai_stream_pieces() -> None:
    decode = codec_for("compat").decode_chunk
    first = decode(
        frame(
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_a",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": ""},
                    }
                ],
            }
        )
    )
    assert first == Chunk(
        response_id="chatcmpl-1", tool_calls=(ToolCallChunk(0, "call_a", "get_weather", ""),)
    )
    later = decode(frame({"tool_calls": [{"index": 1, "function": {"arguments": '{"ci'}}]}))
    assert later is not None
    assert later.tool_calls == (ToolCallChunk(1, None, None, '{"ci'),)
    end = decode(frame({}, "tool_calls"))
    assert end == Chunk(finish_reason="tool-calls", response_id="chatcmpl-1")


def test_text_frames_carry_no_tool_pieces() -> None:
    chunk = codec_for("compat").decode_chunk(frame({"content": "Hi"}))
    assert chunk == Chunk("Hi", response_id="chatcmpl-1")
    assert codec_for("workers-ai").decode_chunk(b'{"response": "Hi"}') == Chunk("Hi")


@pytest.mark.parametrize(
    "pieces",
    [
        {"index": 0},  # not a list
        [{"index": "0", "function": {"arguments": "{}"}}],
        [{"index": -1, "function": {"arguments": "{}"}}],
        [{"index": 0, "function": {"arguments": {"a": 1}}}],  # arguments must be text here
        [{"index": 0, "function": "f"}],
        ["piece"],
    ],
)
def test_malformed_openai_stream_pieces_raise(pieces: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        codec_for("compat").decode_chunk(frame({"tool_calls": pieces}))


def test_native_stream_frame_with_whole_calls() -> None:
    data = json.dumps(
        {
            "response": "",
            "tool_calls": [
                {"name": "get_weather", "arguments": {"city": "Paris"}},
                {"id": "x1", "name": "get_time", "arguments": "{}"},
                openai_call("x2", "get_date", '{"tz":"UTC"}'),
            ],
        }
    ).encode()
    chunk = codec_for("workers-ai").decode_chunk(data)
    assert chunk == Chunk(
        tool_calls=(
            ToolCallChunk(None, None, "get_weather", '{"city":"Paris"}'),
            ToolCallChunk(None, "x1", "get_time", "{}"),
            ToolCallChunk(None, "x2", "get_date", '{"tz":"UTC"}'),
        )
    )


def test_malformed_native_stream_calls_raise() -> None:
    decode = codec_for("workers-ai").decode_chunk
    with pytest.raises(KeyError):
        decode(b'{"tool_calls": [{"arguments": {}}]}')
    with pytest.raises(TypeError):
        decode(b'{"tool_calls": "get_weather"}')
