"""Tool calling on both wire shapes, streamed and not: the built-in model's rule (which tools,
which arguments, the reply after tool results), the exact reply and stream shapes, bad input,
caching and logs."""

from __future__ import annotations

import json
from typing import Any

import httpx
import jsonschema_rs
import pytest

from aigateway_sdk.local.upstreams.builtin import count_tokens
from tests.local.helpers import AUTH, GW_AUTH, MODEL, Api

pytestmark = pytest.mark.anyio

WEATHER_PARAMETERS = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "units": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
    },
    "required": ["city", "units"],
}
TIME_PARAMETERS = {
    "type": "object",
    "properties": {"zone": {"type": "string"}},
    "required": ["zone"],
}
NATIVE_TOOLS = [
    {"name": "get_weather", "description": "The weather", "parameters": WEATHER_PARAMETERS},
    {"name": "get_time", "description": "The time", "parameters": TIME_PARAMETERS},
]
OPENAI_TOOLS = [{"type": "function", "function": tool} for tool in NATIVE_TOOLS]
ASK = "Call get_weather for city=Paris days: 3, please"


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


async def native(api: Api, headers: dict[str, str] | None = None, **body: Any) -> httpx.Response:
    return await api.http.post(
        api.data(body.pop("gateway", "default"), f"workers-ai/{MODEL}"),
        json=body,
        headers={**AUTH, **GW_AUTH, **(headers or {})},
    )


async def compat(api: Api, headers: dict[str, str] | None = None, **body: Any) -> httpx.Response:
    return await api.http.post(
        api.data(body.pop("gateway", "default"), "compat/chat/completions"),
        json={"model": f"workers-ai/{MODEL}", **body},
        headers={**AUTH, **GW_AUTH, **(headers or {})},
    )


def frames(response: httpx.Response) -> list[Any]:
    """The JSON of every `data:` frame, up to and checking the final `[DONE]`."""
    data = [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]
    assert data[-1] == "[DONE]"
    return [json.loads(item) for item in data[:-1]]


def valid(schema: dict[str, Any], value: Any) -> bool:
    return bool(jsonschema_rs.is_valid(schema, value))


# --- the native shape ----------------------------------------------------------------------


async def test_native_tool_call_reply(api: Api) -> None:
    response = await native(api, messages=user(ASK), tools=NATIVE_TOOLS)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    result = body["result"]
    assert result["response"] is None
    [call] = result["tool_calls"]
    assert set(call) == {"id", "name", "arguments"}
    assert call["id"].startswith("call_")
    assert len(call["id"]) == 29
    assert call["name"] == "get_weather"
    arguments = call["arguments"]
    assert arguments["city"] == "Paris"
    assert arguments["days"] == 3
    assert arguments["units"] == "celsius"  # the enum's first value: the prompt names none
    assert valid(WEATHER_PARAMETERS, arguments)
    text = json.dumps(arguments, separators=(",", ":"))
    tokens = count_tokens("get_weather") + count_tokens(text)
    assert result["usage"]["completion_tokens"] == tokens


async def test_native_takes_both_tool_shapes_alike(api: Api) -> None:
    workers = await native(api, messages=user(ASK), tools=NATIVE_TOOLS)
    openai = await native(api, messages=user(ASK), tools=OPENAI_TOOLS)
    assert workers.content == openai.content


async def test_native_streamed_tool_calls_are_one_frame_then_usage(api: Api) -> None:
    whole = (await native(api, messages=user(ASK), tools=NATIVE_TOOLS)).json()["result"]
    streamed = await native(api, messages=user(ASK), tools=NATIVE_TOOLS, stream=True)
    assert streamed.headers["content-type"].startswith("text/event-stream")
    assert frames(streamed) == [
        {"response": "", "tool_calls": whole["tool_calls"]},
        {"response": "", "usage": whole["usage"]},
    ]


async def test_the_same_request_gets_the_same_call(api: Api) -> None:
    first = await native(api, messages=user("get_time now"), tools=NATIVE_TOOLS, seed=1)
    again = await native(api, messages=user("get_time now"), tools=NATIVE_TOOLS, seed=1)
    other = await native(api, messages=user("get_time now"), tools=NATIVE_TOOLS, seed=2)
    assert first.content == again.content
    [call] = first.json()["result"]["tool_calls"]
    [other_call] = other.json()["result"]["tool_calls"]
    assert call["name"] == other_call["name"] == "get_time"
    assert call["id"] != other_call["id"]


# --- the OpenAI shape ----------------------------------------------------------------------


async def test_compat_tool_call_reply(api: Api) -> None:
    response = await compat(api, messages=user(ASK), tools=OPENAI_TOOLS)
    assert response.status_code == 200, response.text
    [choice] = response.json()["choices"]
    assert choice["finish_reason"] == "tool_calls"
    message = choice["message"]
    assert message["role"] == "assistant"
    assert message["content"] is None
    [call] = message["tool_calls"]
    assert set(call) == {"id", "type", "function"}
    assert call["type"] == "function"
    assert call["function"]["name"] == "get_weather"
    assert isinstance(call["function"]["arguments"], str)
    arguments = json.loads(call["function"]["arguments"])
    assert (arguments["city"], arguments["days"]) == ("Paris", 3)
    assert valid(WEATHER_PARAMETERS, arguments)


async def test_compat_streamed_tool_call_deltas(api: Api) -> None:
    whole = (await compat(api, messages=user(ASK), tools=OPENAI_TOOLS)).json()
    [call] = whole["choices"][0]["message"]["tool_calls"]
    streamed = await compat(
        api,
        messages=user(ASK),
        tools=OPENAI_TOOLS,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = frames(streamed)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    deltas = [
        chunk["choices"][0]["delta"]["tool_calls"]
        for chunk in chunks
        if chunk["choices"] and "tool_calls" in chunk["choices"][0]["delta"]
    ]
    first, *pieces = [item for delta in deltas for item in delta]
    assert first == {
        "index": 0,
        "id": call["id"],
        "type": "function",
        "function": {"name": "get_weather", "arguments": ""},
    }
    assert len(pieces) > 5  # one token each
    assert all(set(piece) == {"index", "function"} for piece in pieces)
    assert "".join(p["function"]["arguments"] for p in pieces) == call["function"]["arguments"]
    assert chunks[-2]["choices"] == [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == whole["usage"]


# --- which tools -------------------------------------------------------------------------

FORCE_TIME = {"tool_choice": {"type": "function", "function": {"name": "get_time"}}}


@pytest.mark.parametrize(
    ("text", "extra", "called"),
    [
        ("what are get_time and get_weather?", {}, ["get_weather", "get_time"]),
        ("GET_WEATHER please", {}, ["get_weather"]),
        ("get_weathers and my_get_time", {}, []),  # not whole words
        ("get_time, get_weather", {"parallel_tool_calls": False}, ["get_weather"]),
        ("get_weather", FORCE_TIME, ["get_time"]),
        ("nothing named", {"tool_choice": "required"}, ["get_weather"]),
        ("nothing named", {"tool_choice": "auto"}, []),
        ("get_weather", {"tool_choice": "none"}, []),
    ],
)
async def test_which_tools_are_called(
    api: Api, text: str, extra: dict[str, Any], called: list[str]
) -> None:
    response = await compat(api, messages=user(text), tools=OPENAI_TOOLS, **extra)
    assert response.status_code == 200, response.text
    [choice] = response.json()["choices"]
    calls = choice["message"].get("tool_calls") or []
    assert [call["function"]["name"] for call in calls] == called
    if called:
        assert choice["finish_reason"] == "tool_calls"
        assert len({call["id"] for call in calls}) == len(calls)
    else:
        assert choice["finish_reason"] == "stop"
        assert choice["message"]["content"].startswith('You said: "')


# --- after tool results ------------------------------------------------------------------


def round_trip(weather_result: str = '{"temp": 21}') -> list[dict[str, Any]]:
    return [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "get_weather and get_time for city=Paris"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_a",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                },
                {
                    "id": "call_b",
                    "type": "function",
                    "function": {"name": "get_time", "arguments": '{"zone":"CET"}'},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "call_a", "content": weather_result},
        {"role": "tool", "tool_call_id": "call_b", "content": [{"type": "text", "text": "12:00"}]},
    ]


EXPECTED = 'Tool results: get_weather returned {"temp": 21}; get_time returned 12:00.'


async def test_after_tool_results_the_reply_uses_them(api: Api) -> None:
    openai = await compat(api, messages=round_trip(), tools=OPENAI_TOOLS)
    [choice] = openai.json()["choices"]
    assert choice["message"]["content"] == EXPECTED
    assert choice["finish_reason"] == "stop"
    assert "tool_calls" not in choice["message"]
    workers = await native(api, messages=round_trip(), tools=NATIVE_TOOLS)
    result = workers.json()["result"]
    assert result["response"] == EXPECTED
    assert result["usage"]["completion_tokens"] == count_tokens(EXPECTED)


async def test_after_tool_results_streamed(api: Api) -> None:
    streamed = await compat(api, messages=round_trip(), tools=OPENAI_TOOLS, stream=True)
    chunks = frames(streamed)
    text = "".join(chunk["choices"][0]["delta"].get("content", "") for chunk in chunks)
    assert text == EXPECTED
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    native_stream = await native(api, messages=round_trip(), stream=True)
    assert "".join(frame["response"] for frame in frames(native_stream)) == EXPECTED


async def test_a_long_result_is_cut_and_put_on_one_line(api: Api) -> None:
    response = await compat(api, messages=round_trip("line one\n" + "x" * 500))
    text = response.json()["choices"][0]["message"]["content"]
    assert "get_weather returned line one xxx" in text
    assert "x" * 191 + "…; get_time returned 12:00." in text  # 200 characters kept
    assert "x" * 192 not in text


async def test_native_takes_workers_ai_tool_calls_back(api: Api) -> None:
    """A native client may send back the calls as the native reply gave them (arguments an
    object) and name the tool in its result."""
    messages = [
        {"role": "user", "content": "get_weather city=Oslo"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"id": "c1", "name": "get_weather", "arguments": {"city": "Oslo"}}],
        },
        {"role": "tool", "name": "get_weather", "content": "sunny"},
    ]
    response = await native(api, messages=messages, tools=NATIVE_TOOLS)
    assert response.json()["result"]["response"] == "Tool results: get_weather returned sunny."


# --- bad input -----------------------------------------------------------------------------

TOOL_MESSAGE_WITHOUT_ID = [*user("x"), {"role": "tool", "content": "r"}]
TOO_MANY = [{"type": "function", "function": {"name": f"t{i}"}} for i in range(129)]
BAD_NAME = [{"type": "function", "function": {"name": "a b"}}]
BAD_PARAMETERS = [{"type": "function", "function": {"name": "f", "parameters": 1}}]
UNKNOWN_CHOICE = {"type": "function", "function": {"name": "x"}}
NAMELESS_SCHEMA = {"type": "json_schema", "json_schema": {"schema": {}}}
BAD_SCHEMA = {"type": "json_schema", "json_schema": {"name": "x", "schema": 1}}
NATIVE_BAD_SCHEMA = {"type": "json_schema", "json_schema": "{}"}
CALL_WITHOUT_FUNCTION = [{"role": "assistant", "tool_calls": [{"id": "c", "name": "f"}]}]
IMAGE_AS_STRING = [{"role": "user", "content": [{"type": "image_url", "image_url": "u"}]}]
URL_FIELD = "messages[0].content[1].image_url.url"


def image_message(url: object) -> list[dict[str, Any]]:
    parts = [{"type": "text", "text": "see"}, {"type": "image_url", "image_url": {"url": url}}]
    return [{"role": "user", "content": parts}]


@pytest.mark.parametrize(
    ("shape", "change", "field"),
    [
        ("openai", {"tools": "get_weather"}, "tools"),
        ("openai", {"tools": BAD_NAME}, "tools[0].function.name"),
        ("native", {"tools": [{"name": "x" * 65}]}, "tools[0].name"),
        ("native", {"tools": [{"description": "no name"}]}, "tools[0].name"),
        ("openai", {"tools": [OPENAI_TOOLS[0], OPENAI_TOOLS[0]]}, "tools[1].function.name"),
        ("native", {"tools": [NATIVE_TOOLS[1], NATIVE_TOOLS[1]]}, "tools[1].name"),
        ("openai", {"tools": BAD_PARAMETERS}, "tools[0].function.parameters"),
        ("native", {"tools": [{"name": "f", "parameters": []}]}, "tools[0].parameters"),
        ("openai", {"tools": [{"type": "custom", "custom": {"name": "f"}}]}, "tools[0].type"),
        ("openai", {"tools": [{"name": "f"}]}, "tools[0].type"),
        ("openai", {"tools": TOO_MANY}, "tools"),
        ("openai", {"tools": OPENAI_TOOLS, "tool_choice": "sometimes"}, "tool_choice"),
        ("openai", {"tool_choice": "required"}, "tool_choice"),
        (
            "native",
            {"tools": NATIVE_TOOLS, "tool_choice": UNKNOWN_CHOICE},
            ("tool_choice.function.name"),
        ),
        ("openai", {"tools": OPENAI_TOOLS, "parallel_tool_calls": "yes"}, "parallel_tool_calls"),
        ("openai", {"messages": TOOL_MESSAGE_WITHOUT_ID}, "messages[1].tool_call_id"),
        (
            "openai",
            {"messages": [{"role": "assistant", "tool_calls": {}}]},
            ("messages[0].tool_calls"),
        ),
        ("openai", {"messages": CALL_WITHOUT_FUNCTION}, "messages[0].tool_calls[0].function"),
        ("openai", {"response_format": {"type": "xml"}}, "response_format.type"),
        ("openai", {"response_format": "json"}, "response_format"),
        ("native", {"response_format": NATIVE_BAD_SCHEMA}, "response_format.json_schema"),
        ("openai", {"response_format": NAMELESS_SCHEMA}, "response_format.json_schema.name"),
        ("openai", {"response_format": BAD_SCHEMA}, "response_format.json_schema.schema"),
        ("native", {"messages": image_message(5)}, URL_FIELD),
        ("openai", {"messages": image_message("ftp://host/a.png")}, URL_FIELD),
        ("native", {"messages": image_message("data:image/png;base64")}, URL_FIELD),
        ("openai", {"messages": image_message("/relative.png")}, URL_FIELD),
        ("openai", {"messages": IMAGE_AS_STRING}, "messages[0].content[0].image_url"),
        (
            "native",
            {"messages": [{"role": "user", "content": [{"type": "audio"}]}]},
            ("messages[0].content[0].type"),
        ),
        ("native", {"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
    ],
)
async def test_bad_tool_input_is_a_400_naming_the_field(
    api: Api, shape: str, change: dict[str, Any], field: str
) -> None:
    body = {"messages": user("get_weather"), **change}
    response = await (native(api, **body) if shape == "native" else compat(api, **body))
    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert error["path"] == [field]
    assert error["message"].startswith(field + " ")


async def test_at_most_128_tools_are_fine(api: Api) -> None:
    response = await compat(api, messages=user("t127 please"), tools=TOO_MANY[:128])
    [call] = response.json()["choices"][0]["message"]["tool_calls"]
    assert (call["function"]["name"], call["function"]["arguments"]) == ("t127", "{}")


# --- cache and logs ------------------------------------------------------------------------


async def test_tool_calls_are_cached_by_the_whole_body(api: Api) -> None:
    await api.create("cached", cache_ttl=300)
    for send, tools in ((native, NATIVE_TOOLS), (compat, OPENAI_TOOLS)):
        first = await send(api, gateway="cached", messages=user(ASK), tools=tools)
        again = await send(api, gateway="cached", messages=user(ASK), tools=tools)
        fewer = await send(api, gateway="cached", messages=user(ASK), tools=tools[:1])
        statuses = [r.headers["cf-aig-cache-status"] for r in (first, again, fewer)]
        assert statuses == ["MISS", "HIT", "MISS"]
        assert again.content == first.content  # the stored bytes, ids and all
        assert "tool_calls" in first.text


async def test_streamed_tool_calls_replay_identically(api: Api) -> None:
    """Streams are never cached (as at Cloudflare), but the same streamed tool request gets
    the same frames again (the OpenAI chunks differ only in their completion id)."""
    await api.create("cached", cache_ttl=300)
    native_frames = []
    openai_frames = []
    for _ in range(2):
        streamed = await native(
            api, gateway="cached", messages=user(ASK), tools=NATIVE_TOOLS, stream=True
        )
        assert streamed.headers["cf-aig-cache-status"] == "MISS"
        native_frames.append(streamed.content)
        chunks = frames(
            await compat(api, gateway="cached", messages=user(ASK), tools=OPENAI_TOOLS, stream=True)
        )
        openai_frames.append([{**chunk, "id": None} for chunk in chunks])
    assert native_frames[0] == native_frames[1]
    assert openai_frames[0] == openai_frames[1]


async def test_tool_call_replies_are_in_the_log(api: Api, http: httpx.AsyncClient) -> None:
    plain = await compat(api, messages=user(ASK), tools=OPENAI_TOOLS)
    streamed = await native(api, messages=user(ASK), tools=NATIVE_TOOLS, stream=True)
    for response in (plain, streamed):
        log_id = response.headers["cf-aig-log-id"]
        stored = await http.get(api.control(f"/default/logs/{log_id}/response"), headers=AUTH)
        assert stored.content == response.content
        assert b'"tool_calls"' in stored.content
        request = await http.get(api.control(f"/default/logs/{log_id}/request"), headers=AUTH)
        assert request.json()["tools"] in (OPENAI_TOOLS, NATIVE_TOOLS)
    logs = {log["id"]: log for log in await api.logs()}
    plain_log = logs[plain.headers["cf-aig-log-id"]]
    assert plain_log["tokens_out"] == plain.json()["usage"]["completion_tokens"]


async def test_the_workers_ai_openai_route_calls_tools_too(api: Api) -> None:
    response = await api.http.post(
        api.data("default", "workers-ai/v1/chat/completions"),
        json={"model": MODEL, "messages": user(ASK), "tools": OPENAI_TOOLS},
        headers={**AUTH, **GW_AUTH},
    )
    [choice] = response.json()["choices"]
    assert choice["finish_reason"] == "tool_calls"
    [call] = choice["message"]["tool_calls"]
    assert json.loads(call["function"]["arguments"])["city"] == "Paris"
