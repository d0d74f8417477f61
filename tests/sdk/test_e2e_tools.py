"""One model call with tools, JSON mode and images, over real HTTP against the local gateway,
on both routes, streamed and not, on asyncio and trio: what the codecs send reaches the built-in
model (its documented rule answers it) and what it answers comes back as tool calls, tool parts
and JSON text."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aigateway_sdk import GatewayBinding, Message
from aigateway_sdk.content import ImagePart, ToolCall, ToolResult
from aigateway_sdk.gateway_model import GatewayLanguageModel, settings_of
from aigateway_sdk.local import LocalGateway, LocalGatewayConfig
from aigateway_sdk.parts import (
    Finish,
    ResponseMetadata,
    StreamPart,
    TextDelta,
    ToolCallPart,
    ToolParamsDelta,
    ToolParamsEnd,
    ToolParamsStart,
)
from aigateway_sdk.request import OutputFormat, ToolDefinition, ToolsRequest
from aigateway_sdk.result import AiStream

pytestmark = pytest.mark.anyio

ACCOUNT = "acct-tools"
TOKEN = "tools-token"
NATIVE = "@cf/meta/llama-3.1-8b-instruct"
MODELS = pytest.mark.parametrize(
    "model", [NATIVE, f"workers-ai/{NATIVE}"], ids=["native", "compat"]
)
BOTH = pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
WEATHER = ToolDefinition(
    "get_weather",
    "The weather in a city",
    {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1}},
        "required": ["city", "days"],
    },
)
TIME = ToolDefinition("get_time", None, {"type": "object", "properties": {}})
PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
    "required": ["name", "age"],
}
ASK = (Message.user("Use get_weather for city=Paris days=3, please."),)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalGateway]:
    db = Path(tmp_path_factory.mktemp("e2e-tools")) / "gw.db"
    with LocalGateway(LocalGatewayConfig(db_path=db, api_token=TOKEN)) as gw:
        reply = httpx.post(
            f"{gw.api_url}/accounts/{ACCOUNT}/ai-gateway/gateways",
            json={
                "id": "open",
                "cache_ttl": 0,
                "cache_invalidate_on_update": False,
                "collect_logs": True,
                "rate_limiting_interval": 0,
                "rate_limiting_limit": 0,
            },
            headers={"authorization": f"Bearer {TOKEN}"},
        )
        assert reply.status_code == 200, reply.text
        yield gw


@pytest.fixture
async def binding(gateway: LocalGateway) -> AsyncIterator[GatewayBinding]:
    async with GatewayBinding(
        account_id=ACCOUNT, gateway_id="open", api_token=TOKEN, base_url=gateway.data_url
    ) as b:
        yield b


async def parts_of(stream: AsyncIterator[StreamPart]) -> list[StreamPart]:
    return [part async for part in stream]


def calls_in(parts: list[StreamPart]) -> list[ToolCall]:
    return [p.call for p in parts if isinstance(p, ToolCallPart)]


# -- tool calls -------------------------------------------------------------------------------


@BOTH
@MODELS
async def test_a_tool_call_reply_decodes_into_tool_calls(
    binding: GatewayBinding, model: str
) -> None:
    lm = binding.model(model)
    assert isinstance(lm, GatewayLanguageModel)
    response = await lm.step(ASK, tools=ToolsRequest((TIME, WEATHER)))
    assert response.finish_reason == "tool-calls"
    assert response.text == ""
    (call,) = response.tool_calls
    assert call.name == "get_weather"
    assert call.arguments == {"city": "Paris", "days": 3}  # name=value pairs of the prompt
    assert call.id.startswith("call_")
    assert response.log_id


@BOTH
@MODELS
async def test_a_streamed_tool_call_gives_the_tool_parts(
    binding: GatewayBinding, model: str
) -> None:
    lm = binding.model(model)
    assert isinstance(lm, GatewayLanguageModel)
    tools = ToolsRequest((WEATHER,))
    parts = await parts_of(lm.stream_step(ASK, tools=tools))
    assert isinstance(parts[0], ResponseMetadata)
    kinds = [type(p) for p in parts[1:]]
    assert kinds[0] is ToolParamsStart
    assert set(kinds[1:-3]) == {ToolParamsDelta}  # arguments as they came: whole or in pieces
    assert kinds[-3:] == [ToolParamsEnd, ToolCallPart, Finish]
    deltas = "".join(p.delta for p in parts if isinstance(p, ToolParamsDelta))
    (call,) = calls_in(parts)
    assert json.loads(deltas) == call.arguments == {"city": "Paris", "days": 3}
    finish = parts[-1]
    assert isinstance(finish, Finish)
    assert finish.reason == "tool-calls"
    assert finish.usage.output_tokens.total > 0
    # the same request unstreamed: the same call (the built-in model is deterministic)
    whole = await lm.step(ASK, tools=tools)
    assert whole.tool_calls == (call,)
    collected = await AiStream(lambda: lm.stream_step(ASK, tools=tools)).collect()
    assert collected.tool_calls == (call,)
    assert collected.finish_reason == "tool-calls"


@MODELS
async def test_tool_choice_and_results_reach_the_model(binding: GatewayBinding, model: str) -> None:
    lm = binding.model(model)
    assert isinstance(lm, GatewayLanguageModel)
    plain = (Message.user("Hello there."),)
    none = await lm.step(plain, tools=ToolsRequest((WEATHER,), "none"))
    assert none.tool_calls == ()
    assert none.text
    named = await lm.step(plain, tools=ToolsRequest((WEATHER, TIME), "get_time"))
    assert [c.name for c in named.tool_calls] == ["get_time"]
    (call,) = (await lm.step(ASK, tools=ToolsRequest((WEATHER,)))).tool_calls
    result = ToolResult(call_id=call.id, name=call.name, value=21, content="21 C and sunny")
    answer = await lm.step(
        (*ASK, Message.assistant("", [call]), Message.tool(result)),
        settings_of({"max_tokens": 60}),
        tools=ToolsRequest((WEATHER,)),
    )
    assert answer.tool_calls == ()
    assert answer.finish_reason == "stop"
    assert answer.text == "Tool results: get_weather returned 21 C and sunny."


@MODELS
async def test_generate_text_without_tools_is_unchanged(
    binding: GatewayBinding, model: str
) -> None:
    lm = binding.model(model)
    response = await lm.generate_text(prompt="Use get_weather for Paris.")
    assert response.tool_calls == ()  # no tools offered: a text reply
    assert response.text.startswith('You said: "Use get_weather for Paris."')


# -- images -----------------------------------------------------------------------------------


@BOTH
@MODELS
async def test_an_image_part_reaches_the_gateway(binding: GatewayBinding, model: str) -> None:
    lm = binding.model(model)
    text_only = await lm.generate_text(prompt="What is this?")
    prompt: list[Message | dict[str, Any]] = [
        Message.user("What is this?", ImagePart("https://example.com/cat.png", "low")),
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "And these?"},
                {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
            ],
        },
        Message.user("And these?", ImagePart.from_bytes(b"\x89PNG\r\n", "image/png")),
    ]
    response = await lm.generate_text(prompt=prompt)
    assert response.text.startswith('You said: "And these?" [1 image].')
    # every image counts 85 prompt tokens at the built-in model
    assert response.usage.input_tokens.total >= text_only.usage.input_tokens.total + 3 * 85
    streamed = await lm.stream_text(prompt=prompt).collect()
    assert streamed.text == response.text


# -- JSON mode --------------------------------------------------------------------------------


@BOTH
@MODELS
async def test_json_mode_output_is_json_text_valid_for_the_schema(
    binding: GatewayBinding, model: str
) -> None:
    lm = binding.model(model)
    assert isinstance(lm, GatewayLanguageModel)
    ask = (Message.user("Who wrote the first program? name=Ada"),)
    output = OutputFormat(PERSON, "person")
    response = await lm.step(ask, output=output)
    value: Any = json.loads(response.text)
    assert value["name"] == "Ada"
    assert isinstance(value["age"], int)
    assert value["age"] >= 0
    assert set(value) == {"name", "age"}
    assert response.text == json.dumps(value, separators=(",", ":"))  # compact on both routes
    parts = await parts_of(lm.stream_step(ask, output=output))
    assert "".join(p.delta for p in parts if isinstance(p, TextDelta)) == response.text


@MODELS
async def test_json_object_mode_answers_an_object(binding: GatewayBinding, model: str) -> None:
    lm = binding.model(model)
    assert isinstance(lm, GatewayLanguageModel)
    response = await lm.step((Message.user("Anything."),), output=OutputFormat(None))
    assert isinstance(json.loads(response.text), dict)
