"""The official `openai` client works unmodified against the `compat` route: chat, streams,
embeddings, tools (streamed tool-call deltas too), structured output and image parts."""

from __future__ import annotations

import json

import openai
import pytest
from openai.types.chat import (
    ChatCompletionMessageFunctionToolCall,
    ChatCompletionMessageParam,
    ChatCompletionToolParam,
)
from pydantic import BaseModel

from aigateway_sdk.local import LocalGateway
from tests.local.helpers import MODEL, TOKEN

pytestmark = pytest.mark.anyio


def client(gw: LocalGateway, account: str, gateway_id: str = "default") -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        base_url=f"{gw.data_url}/{account}/{gateway_id}/compat",
        api_key=TOKEN,
        default_headers={"cf-aig-authorization": f"Bearer {TOKEN}"},
        max_retries=0,
    )


async def test_chat_completion(gw: LocalGateway, account: str) -> None:
    async with client(gw, account) as ai:
        raw = await ai.chat.completions.with_raw_response.create(
            model=f"workers-ai/{MODEL}",
            messages=[{"role": "user", "content": "Name a colour, please"}],
            max_tokens=64,
        )
        completion = raw.parse()
    assert raw.headers["cf-aig-cache-status"] == "MISS"
    assert completion.choices[0].message.role == "assistant"
    assert "colour" in (completion.choices[0].message.content or "")
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 5  # Name, a, colour, ",", please


async def test_streamed_chat_completion(gw: LocalGateway, account: str) -> None:
    async with client(gw, account) as ai:
        stream = await ai.chat.completions.create(
            model=f"workers-ai/{MODEL}",
            messages=[{"role": "user", "content": "stream a story"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        parts = []
        usage = None
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                parts.append(chunk.choices[0].delta.content)
            if chunk.usage is not None:
                usage = chunk.usage
    assert len(parts) > 3
    assert "story" in "".join(parts)
    assert usage is not None
    assert usage.completion_tokens == len(parts)


async def test_errors_map_to_openai_exceptions(gw: LocalGateway, account: str) -> None:
    async with client(gw, account, "missing-gateway") as ai:
        with pytest.raises(openai.NotFoundError):
            await ai.chat.completions.create(
                model=f"workers-ai/{MODEL}", messages=[{"role": "user", "content": "x"}]
            )
    async with openai.AsyncOpenAI(
        base_url=f"{gw.data_url}/{account}/default/compat",
        api_key="wrong",
        max_retries=0,
    ) as ai:
        with pytest.raises(openai.AuthenticationError):
            await ai.chat.completions.create(
                model=f"workers-ai/{MODEL}", messages=[{"role": "user", "content": "x"}]
            )


async def test_embeddings_create(gw: LocalGateway, account: str) -> None:
    """The client's default (`encoding_format` base64) and `float` give the same unit vectors,
    of the model's dimension, the same for the same text."""
    model = "workers-ai/@cf/baai/bge-small-en-v1.5"
    async with client(gw, account) as ai:
        packed = await ai.embeddings.create(model=model, input=["a cat", "a dog", "a cat"])
        floats = await ai.embeddings.create(model=model, input="a dog", encoding_format="float")
    assert [item.index for item in packed.data] == [0, 1, 2]
    vectors = [item.embedding for item in packed.data]
    assert {len(v) for v in vectors} == {384}
    assert all(abs(sum(x * x for x in v) - 1) < 1e-5 for v in vectors)
    assert vectors[0] == vectors[2] != vectors[1]
    assert floats.data[0].embedding == pytest.approx(vectors[1], abs=1e-6)
    assert packed.model == model
    assert packed.usage.prompt_tokens == 6
    assert packed.usage.total_tokens == 6


async def test_sampling_parameters_and_stop_are_accepted(gw: LocalGateway, account: str) -> None:
    async with client(gw, account) as ai:

        async def ask(stop: str | list[str] | None = None) -> str:
            completion = await ai.chat.completions.create(
                model=f"workers-ai/{MODEL}",
                messages=[{"role": "user", "content": "tell me about rivers"}],
                seed=7,
                frequency_penalty=0.5,
                presence_penalty=-0.5,
                temperature=0.2,
                stop=stop,
                extra_headers={"cf-aig-skip-cache": "true"},
            )
            assert completion.choices[0].finish_reason == "stop"
            return completion.choices[0].message.content or ""

        full = await ask()
        cut = await ask(stop=["rivers"])
        single = await ask(stop="about")
    assert cut == 'You said: "tell me about '
    assert single == 'You said: "tell me '
    assert full.startswith(cut)
    assert full != cut


# --- tools, streamed tool calls, structured output (issue 10, item 7) ------------------------

WEATHER_TOOL: ChatCompletionToolParam = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
            },
            "required": ["city", "days"],
            "additionalProperties": False,
        },
    },
}
ASK: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "What does get_weather say for city=Lisbon days=2?"}
]


async def test_tools_give_parsed_tool_calls(gw: LocalGateway, account: str) -> None:
    async with client(gw, account) as ai:
        completion = await ai.chat.completions.create(
            model=f"workers-ai/{MODEL}",
            messages=ASK,
            tools=[WEATHER_TOOL],
            tool_choice={"type": "function", "function": {"name": "get_weather"}},
        )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    [call] = choice.message.tool_calls or []
    assert isinstance(call, ChatCompletionMessageFunctionToolCall)
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Lisbon", "days": 2}


async def test_the_stream_helper_accumulates_tool_call_deltas(
    gw: LocalGateway, account: str
) -> None:
    async with (
        client(gw, account) as ai,
        ai.chat.completions.stream(
            model=f"workers-ai/{MODEL}",
            messages=ASK,
            tools=[WEATHER_TOOL],
            stream_options={"include_usage": True},
        ) as stream,
    ):
        kinds = [event.type async for event in stream]
        final = await stream.get_final_completion()
    assert kinds.count("tool_calls.function.arguments.delta") > 5
    assert kinds.count("tool_calls.function.arguments.done") == 1
    [call] = final.choices[0].message.tool_calls or []
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Lisbon", "days": 2}
    assert final.choices[0].finish_reason == "tool_calls"
    assert final.usage is not None
    assert final.usage.completion_tokens > 5


class Country(BaseModel):
    name: str
    capital: str
    languages: list[str]
    population: int | None


async def test_parse_gives_the_pydantic_value(gw: LocalGateway, account: str) -> None:
    async with client(gw, account) as ai:
        completion = await ai.chat.completions.parse(
            model=f"workers-ai/{MODEL}",
            messages=[{"role": "user", "content": "Tell me about India: name=India"}],
            response_format=Country,
        )
    country = completion.choices[0].message.parsed
    assert isinstance(country, Country)
    assert country.name == "India"
    assert country.languages


class GetWeather(BaseModel):
    city: str
    days: int


async def test_parse_gives_parsed_tool_arguments(gw: LocalGateway, account: str) -> None:
    async with client(gw, account) as ai:
        completion = await ai.chat.completions.parse(
            model=f"workers-ai/{MODEL}",
            messages=[{"role": "user", "content": "GetWeather city=Oslo days=3"}],
            tools=[openai.pydantic_function_tool(GetWeather)],
        )
    [call] = completion.choices[0].message.tool_calls or []
    assert call.function.parsed_arguments == GetWeather(city="Oslo", days=3)


async def test_a_tool_round_trip(gw: LocalGateway, account: str) -> None:
    async with client(gw, account) as ai:
        first = await ai.chat.completions.create(
            model=f"workers-ai/{MODEL}", messages=ASK, tools=[WEATHER_TOOL]
        )
        message = first.choices[0].message
        [call] = message.tool_calls or []
        history: list[ChatCompletionMessageParam] = [
            *ASK,
            message.model_dump(exclude_none=True),  # type: ignore[list-item]
            {"role": "tool", "tool_call_id": call.id, "content": '{"temp": 21}'},
        ]
        second = await ai.chat.completions.create(
            model=f"workers-ai/{MODEL}", messages=history, tools=[WEATHER_TOOL]
        )
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content == 'Tool results: get_weather returned {"temp": 21}.'
    assert not second.choices[0].message.tool_calls


async def test_image_parts_are_accepted(gw: LocalGateway, account: str) -> None:
    async with client(gw, account) as ai:
        completion = await ai.chat.completions.create(
            model=f"workers-ai/{MODEL}",
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "What is this?"},
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                    ],
                }
            ],
        )
    assert (completion.choices[0].message.content or "").startswith(
        'You said: "What is this?" [1 image].'
    )
