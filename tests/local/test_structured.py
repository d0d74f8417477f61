"""JSON mode and image input on both wire shapes, streamed and not: the built-in model's JSON
value is valid against the requested schema (Workers AI's `response` holds the value itself,
OpenAI's `content` its JSON text), and image parts are counted and mentioned."""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs
import pytest

from aigateway_sdk.local.upstreams.builtin import IMAGE_TOKENS, count_tokens
from tests.local.helpers import Api
from tests.local.test_tools import compat, frames, native, user

pytestmark = pytest.mark.anyio

COUNTRY = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "capital": {"type": "string"},
        "languages": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "population": {"type": "integer", "minimum": 0},
    },
    "required": ["name", "capital", "languages"],
    "additionalProperties": False,
}
ASK = "Tell me about India: name=India population=1400000000"
OPENAI_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "country", "schema": COUNTRY, "strict": True},
}
NATIVE_FORMAT = {"type": "json_schema", "json_schema": COUNTRY}


def check(value: Any) -> None:
    assert jsonschema_rs.is_valid(COUNTRY, value), value
    assert value["name"] == "India"
    assert value["population"] == 1_400_000_000


async def test_native_json_mode_answers_the_value(api: Api) -> None:
    response = await native(api, messages=user(ASK), response_format=NATIVE_FORMAT)
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    check(result["response"])
    text = json.dumps(result["response"], separators=(",", ":"))
    assert result["usage"]["completion_tokens"] == count_tokens(text)
    assert "tool_calls" not in result


async def test_native_json_mode_takes_openai_wrapper_too(api: Api) -> None:
    wrapped = await native(api, messages=user(ASK), response_format=OPENAI_FORMAT)
    check(wrapped.json()["result"]["response"])


async def test_native_json_mode_streams_the_json_text(api: Api) -> None:
    whole = (await native(api, messages=user(ASK), response_format=NATIVE_FORMAT)).json()
    streamed = await native(api, messages=user(ASK), response_format=NATIVE_FORMAT, stream=True)
    events = frames(streamed)
    pieces = [event["response"] for event in events[:-1]]
    assert len(pieces) > 10
    assert json.loads("".join(pieces)) == whole["result"]["response"]
    assert events[-1] == {"response": "", "usage": whole["result"]["usage"]}


async def test_compat_json_mode_answers_json_text(api: Api) -> None:
    response = await compat(api, messages=user(ASK), response_format=OPENAI_FORMAT)
    [choice] = response.json()["choices"]
    assert choice["finish_reason"] == "stop"
    check(json.loads(choice["message"]["content"]))
    streamed = await compat(api, messages=user(ASK), response_format=OPENAI_FORMAT, stream=True)
    chunks = frames(streamed)
    text = "".join(chunk["choices"][0]["delta"].get("content", "") for chunk in chunks)
    assert text == choice["message"]["content"]


async def test_json_object_wraps_the_text_reply(api: Api) -> None:
    plain = await compat(api, messages=user("hello there"), seed=4)
    wrapped = await compat(
        api, messages=user("hello there"), seed=4, response_format={"type": "json_object"}
    )
    value = json.loads(wrapped.json()["choices"][0]["message"]["content"])
    assert list(value) == ["response"]
    assert value["response"].startswith('You said: "hello there".')
    native_value = await native(
        api, messages=user("hello there"), response_format={"type": "json_object"}
    )
    assert native_value.json()["result"]["response"]["response"].startswith("You said:")
    text = await compat(api, messages=user("hello"), response_format={"type": "text"})
    assert text.json()["choices"][0]["message"]["content"].startswith("You said:")
    assert plain.status_code == 200


async def test_a_big_schema_is_not_cut_by_the_default_max_tokens(api: Api) -> None:
    schema = {
        "type": "object",
        "properties": {f"field_{i}": {"type": "string"} for i in range(60)},
        "required": [f"field_{i}" for i in range(60)],
    }
    form = {"type": "json_schema", "json_schema": schema}
    response = await native(api, messages=user("all of it"), response_format=form)
    result = response.json()["result"]
    assert result["usage"]["completion_tokens"] > 256
    assert jsonschema_rs.is_valid(schema, result["response"])


async def test_an_explicit_max_tokens_cuts_json(api: Api) -> None:
    response = await compat(
        api, messages=user(ASK), response_format=OPENAI_FORMAT, max_tokens=5, stop=["India"]
    )
    [choice] = response.json()["choices"]
    assert choice["finish_reason"] == "length"
    assert choice["message"]["content"] == '{"name":"India"'[: len(choice["message"]["content"])]
    assert response.json()["usage"]["completion_tokens"] == 5
    cut = await native(api, messages=user(ASK), response_format=NATIVE_FORMAT, max_tokens=3)
    assert cut.json()["result"]["response"] == '{"name'  # not JSON: the text as it is


async def test_stop_does_not_apply_to_json(api: Api) -> None:
    response = await compat(api, messages=user(ASK), response_format=OPENAI_FORMAT, stop="India")
    check(json.loads(response.json()["choices"][0]["message"]["content"]))


async def test_tool_calls_come_before_json(api: Api) -> None:
    tools = [{"type": "function", "function": {"name": "lookup"}}]
    response = await compat(
        api, messages=user("lookup India"), tools=tools, response_format=OPENAI_FORMAT
    )
    [choice] = response.json()["choices"]
    assert choice["finish_reason"] == "tool_calls"


# --- images --------------------------------------------------------------------------------

PNG = "https://example.com/cat.png"
DATA = "data:image/png;base64,iVBORw0KGgo="


def parts(text: str, *urls: str) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = [{"type": "text", "text": text}]
    content += [{"type": "image_url", "image_url": {"url": url, "detail": "low"}} for url in urls]
    return [{"role": "user", "content": content}]


async def test_images_are_counted_and_mentioned(api: Api) -> None:
    one = (await native(api, messages=parts("What is this?", PNG))).json()["result"]
    assert one["response"].startswith('You said: "What is this?" [1 image]. ')
    assert one["usage"]["prompt_tokens"] == count_tokens("What is this?") + IMAGE_TOKENS
    two = await compat(api, messages=parts("Compare", PNG, DATA))
    body = two.json()
    assert body["choices"][0]["message"]["content"].startswith('You said: "Compare" [2 images].')
    assert body["usage"]["prompt_tokens"] == 1 + 2 * IMAGE_TOKENS


async def test_text_parts_are_joined_and_earlier_images_only_counted(api: Api) -> None:
    messages = [
        *parts("first", PNG),
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": [{"type": "text", "text": "one "}, "two"]},
    ]
    result = (await native(api, messages=messages)).json()["result"]
    assert result["response"].startswith('You said: "one two". ')
    assert result["usage"]["prompt_tokens"] == 4 + IMAGE_TOKENS


async def test_images_stream_and_change_the_reply(api: Api) -> None:
    streamed = await native(api, messages=parts("look", PNG), stream=True)
    text = "".join(frame["response"] for frame in frames(streamed))
    assert text.startswith('You said: "look" [1 image].')
    other = (await native(api, messages=parts("look", DATA))).json()["result"]["response"]
    assert other != text  # another image, another reply
