"""Hostile input on the tool, JSON-mode and image paths of the local gateway, on both routes,
streamed and not: a schema the built-in model cannot satisfy cheaply is a 400 naming the field
(never a 500, never a server busy for minutes), odd keyword values and huge numbers get a value,
prompt text is read in linear time, no regular expression a request supplies is run, image data
must be base64, and a forwarding upstream cannot make the gateway hold an unbounded reply or
relay thousands of tool calls.

The built-in model's budget per request is `schema_value.MAX_VALUES` values, `MAX_CHARS`
characters, `MAX_WORK` steps and `MAX_NESTING` levels; these tests ask for far more."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from typing import Any

import attrs
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aigateway_sdk import _json
from aigateway_sdk.local import LocalGateway, LocalGatewayConfig, UpstreamRoute
from aigateway_sdk.local.upstreams.forward import MAX_LINE_CHARS, MAX_REPLY_BYTES, MAX_TOOL_CALLS
from aigateway_sdk.local.upstreams.schema_value import (
    MAX_NESTING,
    MAX_VALUES,
    CannotGenerate,
    generate,
)
from aigateway_sdk.local.upstreams.toolrule import named_values
from tests.local.helpers import AUTH, GW_AUTH, Api
from tests.local.test_tools import compat, frames, native, user
from tests.reliability.faultserver import FaultServer, reply, sse

pytestmark = pytest.mark.anyio

ROUTES = [
    pytest.param(route, stream, id=f"{route}-{'stream' if stream else 'whole'}")
    for route in ("native", "compat")
    for stream in (False, True)
]


def tools(parameters: Any, name: str = "t") -> list[dict[str, Any]]:
    return [{"type": "function", "function": {"name": name, "parameters": parameters}}]


def schema_format(schema: Any) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "out", "schema": schema}}


async def ask(api: Api, route: str, stream: bool, text: str, **body: Any) -> httpx.Response:
    send = native if route == "native" else compat
    return await send(api, messages=user(text), stream=stream, **body)


def tool_arguments(response: httpx.Response, route: str, stream: bool) -> Any:
    """The first tool call's arguments, on either route, streamed or not."""
    assert response.status_code == 200, response.text
    if route == "native":
        result = frames(response)[0] if stream else response.json()["result"]
        return result["tool_calls"][0]["arguments"]
    if not stream:
        return json.loads(
            response.json()["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]
        )
    pieces = [
        item["function"].get("arguments", "")
        for chunk in frames(response)
        if chunk["choices"]
        for item in chunk["choices"][0]["delta"].get("tool_calls", [])
    ]
    return json.loads("".join(pieces))


def json_reply(response: httpx.Response, route: str, stream: bool) -> Any:
    """The JSON-mode reply's value."""
    assert response.status_code == 200, response.text
    if route == "native":
        if not stream:
            return response.json()["result"]["response"]
        return json.loads("".join(f["response"] for f in frames(response)))
    if not stream:
        return json.loads(response.json()["choices"][0]["message"]["content"])
    text = "".join(
        chunk["choices"][0]["delta"].get("content") or ""
        for chunk in frames(response)
        if chunk["choices"]
    )
    return json.loads(text)


def assert_400(response: httpx.Response, field: str, *words: str) -> str:
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["path"] == [field]
    message: str = error["message"]
    assert message.startswith(field + " ")
    for word in words:
        assert word in message, message
    return message


# --- schemas the built-in model cannot satisfy cheaply: a 400 naming the field -----------------

RECURSIVE_REQUIRED = {  # every Node needs a Node: no finite value
    "$defs": {
        "Node": {
            "type": "object",
            "properties": {"next": {"$ref": "#/$defs/Node"}},
            "required": ["next"],
        }
    },
    "$ref": "#/$defs/Node",
}
ANY_OF_CYCLE = {"type": "object", "properties": {"a": {"anyOf": [{"$ref": "#/properties/a"}]}}}

UNSATISFIABLE = [
    pytest.param(
        {"type": "object", "properties": {"a": {"type": "array", "minItems": 10**9}}},
        ("$.a", "minItems 1000000000"),
        id="minItems",
    ),
    pytest.param(
        {"type": "object", "properties": {"a": {"type": "string", "minLength": 10**9}}},
        ("$.a", "minLength 1000000000"),
        id="minLength",
    ),
    pytest.param(
        {"type": "object", "minProperties": 10**9},
        ("minProperties 1000000000",),
        id="minProperties",
    ),
    pytest.param(RECURSIVE_REQUIRED, ("$.next.next", f"{MAX_NESTING} levels"), id="recursive-ref"),
    pytest.param(ANY_OF_CYCLE, ("$.a", f"{MAX_NESTING} levels"), id="anyOf-cycle"),
    pytest.param(
        {"type": "array", "minItems": 5000, "uniqueItems": True, "items": {"type": "boolean"}},
        (f"{MAX_VALUES} values",),
        id="unique-booleans",
    ),
    pytest.param(
        {"type": "array", "minItems": 1000, "items": {"type": "array", "minItems": 1000}},
        ("$[9]", "minItems 1000"),
        id="nested-minItems",
    ),
]


@pytest.mark.parametrize(("schema", "words"), UNSATISFIABLE)
@pytest.mark.parametrize(("route", "stream"), ROUTES)
async def test_a_tool_schema_the_builtin_model_cannot_satisfy_is_a_400(
    api: Api, route: str, stream: bool, schema: Any, words: tuple[str, ...]
) -> None:
    response = await ask(api, route, stream, "call t", tools=tools(schema))
    assert_400(response, "tools[0]", "(tool 't')", "cannot generate", *words)
    assert (await api.run()).status_code == 200  # the server is free for the next request


@pytest.mark.parametrize(("schema", "words"), UNSATISFIABLE[:5])
@pytest.mark.parametrize(("route", "stream"), ROUTES)
async def test_a_response_schema_the_builtin_model_cannot_satisfy_is_a_400(
    api: Api, route: str, stream: bool, schema: Any, words: tuple[str, ...]
) -> None:
    response = await ask(api, route, stream, "hi", response_format=schema_format(schema))
    assert_400(response, "response_format.json_schema", "cannot generate", *words)


async def test_the_budget_is_one_per_request_across_its_tools(api: Api) -> None:
    """128 tools, each within the budget on its own (60 strings of 500 characters and more),
    all named in the prompt: together they ask for far more than one request may generate."""
    schema = {
        "type": "object",
        "properties": {"p": {"type": "array", "minItems": 60, "items": {"minLength": 500}}},
    }
    many = [
        {"type": "function", "function": {"name": f"t{i}", "parameters": schema}}
        for i in range(128)
    ]
    one = await compat(api, messages=user("t5"), tools=many)
    assert len(tool_arguments(one, "compat", False)["p"]) >= 60
    every = " ".join(f"t{i}" for i in range(128))
    response = await compat(api, messages=user(every), tools=many)
    message = assert_400(response, response.json()["errors"][0]["path"][0], "cannot generate")
    assert "characters of strings" in message


# --- odd and extreme keyword values: a value, never a 500 --------------------------------------

NULLABLE_RECURSION = {  # pydantic's Optional["Node"], required: null ends it
    "$defs": {
        "Node": {
            "type": "object",
            "properties": {"next": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]}},
            "required": ["next"],
        }
    },
    "$ref": "#/$defs/Node",
}


def depth(value: Any) -> int:
    return 1 + depth(value["next"]) if isinstance(value, dict) else 0


SERVED: list[Any] = [
    pytest.param(
        {"type": "object", "properties": {"a": {"type": "integer", "minimum": 1e300}}},
        lambda v: v == {"a": 1e300},
        id="integer-minimum-1e300",
    ),
    pytest.param(
        {
            "type": "object",
            "properties": {"a": {"type": "number", "minimum": 1e300, "multipleOf": 1e-300}},
        },
        lambda v: v["a"] >= 1e300,
        id="multipleOf-1e-300-huge-range",
    ),
    pytest.param(
        {"type": "object", "properties": {"a": {"type": "number", "multipleOf": 5e-324}}},
        lambda v: 0 <= v["a"] <= 100,
        id="multipleOf-denormal",
    ),
    pytest.param(
        {"type": "object", "properties": {"a": {"type": "string"}}, "required": 5},
        lambda v: isinstance(v["a"], str),
        id="required-not-a-list",
    ),
    pytest.param(
        {"type": "object", "properties": 3, "allOf": [{"properties": {"a": {"type": "boolean"}}}]},
        lambda v: isinstance(v["a"], bool),
        id="allOf-over-bad-properties",
    ),
    pytest.param(
        {"type": "object", "required": True, "allOf": [{"required": ["a"]}]},
        lambda v: "a" in v,
        id="allOf-over-bad-required",
    ),
    pytest.param(NULLABLE_RECURSION, lambda v: 5 <= depth(v) <= 8, id="nullable-recursion"),
    pytest.param(
        {"type": "object", "properties": {"a": {"enum": list(range(100_000))}}},
        lambda v: v == {"a": 0},
        id="enum-of-100000",
    ),
    pytest.param(
        {"type": "object", "properties": {"a": {"anyOf": [{"type": "null"}] * 50_000 + [{}]}}},
        lambda v: isinstance(v["a"], str),
        id="anyOf-50000-branches",
    ),
]


@pytest.mark.parametrize(("schema", "check"), SERVED)
@pytest.mark.parametrize(("route", "stream"), ROUTES)
async def test_odd_and_extreme_schemas_get_a_value(
    api: Api, route: str, stream: bool, schema: Any, check: Any
) -> None:
    response = await ask(api, route, stream, "call t", tools=tools(schema))
    assert check(tool_arguments(response, route, stream))


@pytest.mark.parametrize(("route", "stream"), ROUTES)
async def test_json_mode_with_extreme_numbers_is_served(api: Api, route: str, stream: bool) -> None:
    schema = {"type": "integer", "minimum": -1e308, "maximum": 1e308}
    response = await ask(api, route, stream, "hi", response_format=schema_format(schema))
    assert -1e308 <= json_reply(response, route, stream) <= 1e308


# --- values given in the prompt -------------------------------------------------------------

INTEGER = {"type": "object", "properties": {"a": {"type": "integer"}}}
NUMBER_STEP = {"type": "object", "properties": {"a": {"type": "number", "multipleOf": 1e-300}}}


@pytest.mark.parametrize(
    ("schema", "text", "expected"),
    [
        pytest.param(INTEGER, "a=99999999999999999999", 1e20, id="past-64-bits"),
        pytest.param(INTEGER, "a=" + "9" * 5000, None, id="5000-digits"),
        pytest.param(NUMBER_STEP, "a=1e300", None, id="quotient-overflows"),
    ],
)
@pytest.mark.parametrize(("route", "stream"), ROUTES)
async def test_extreme_given_numbers_are_served(
    api: Api, route: str, stream: bool, schema: Any, text: str, expected: Any
) -> None:
    response = await ask(api, route, stream, f"call t {text}", tools=tools(schema))
    value = tool_arguments(response, route, stream)["a"]
    if expected is not None:
        assert value == expected
    assert isinstance(value, int | float)


@pytest.mark.parametrize(("route", "stream"), ROUTES)
async def test_no_regular_expression_of_the_request_is_run(
    api: Api, route: str, stream: bool
) -> None:
    """`(a+)+$` against 40 `a`s and a `b` backtracks for longer than anyone waits: the pattern
    is not checked, and the given value is taken."""
    schema = {"type": "object", "properties": {"a": {"type": "string", "pattern": "^(a+)+$"}}}
    given = "a" * 40 + "b"
    response = await ask(api, route, stream, f"call t a={given}", tools=tools(schema))
    assert tool_arguments(response, route, stream) == {"a": given}


async def test_a_prompt_of_overlapping_pairs_is_read_in_linear_time(api: Api) -> None:
    """`a=a=a=...`: every `a` starts a pair whose value runs to the end of the text; read as
    overlapping runs it took time quadratic in the prompt (minutes for this one)."""
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    text = "call t b=" + "a=" * 450_000 + "x"
    response = await compat(api, messages=user(text), tools=tools(schema))
    value = tool_arguments(response, "compat", False)["a"]
    assert value == "a=" * 449_999 + "x"


# --- tool choice, assistant tool calls, tool results, images -----------------------------------


@pytest.mark.parametrize(
    "choice",
    [
        [],
        5,
        True,
        {},
        {"type": "function"},
        {"type": "function", "function": "t"},
        {"type": "function", "function": {"name": ["t"]}},
        {"type": ["function"]},
        "AUTO",
    ],
    ids=repr,
)
@pytest.mark.parametrize(("route", "stream"), ROUTES)
async def test_odd_tool_choices_are_a_400(api: Api, route: str, stream: bool, choice: Any) -> None:
    response = await ask(api, route, stream, "call t", tools=tools({}), tool_choice=choice)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["path"][0].startswith("tool_choice")


@pytest.mark.parametrize(("route", "stream"), ROUTES)
async def test_thousands_of_calls_with_arguments_that_are_not_json_are_answered(
    api: Api, route: str, stream: bool
) -> None:
    calls = [
        {"id": f"c{i}", "type": "function", "function": {"name": "t", "arguments": "{{ not json"}}
        for i in range(5000)
    ]
    messages = [
        {"role": "user", "content": "call t"},
        {"role": "assistant", "content": None, "tool_calls": calls},
        *({"role": "tool", "tool_call_id": f"c{i}", "content": "r" * 100} for i in range(1000)),
    ]
    send = native if route == "native" else compat
    response = await send(api, messages=messages, tools=tools({}), stream=stream)
    assert response.status_code == 200, response.text
    if stream:
        assert frames(response)  # whole, up to its [DONE]
    else:
        assert "Tool results: t returned r" in json.dumps(response.json())


BAD_DATA_URLS = [
    "data:image/png;base64,!!!not base64!!!",
    "data:image/png;base64,",
    "data:image/png;base64,AAA",  # unpadded
    "data:,hello",  # not base64 at all
]


@pytest.mark.parametrize("url", BAD_DATA_URLS)
@pytest.mark.parametrize(("route", "stream"), ROUTES)
async def test_an_image_data_url_must_carry_base64(
    api: Api, route: str, stream: bool, url: str
) -> None:
    content = [{"type": "text", "text": "what?"}, {"type": "image_url", "image_url": {"url": url}}]
    send = native if route == "native" else compat
    response = await send(api, messages=[{"role": "user", "content": content}], stream=stream)
    assert_400(response, "messages[0].content[1].image_url.url")


# --- a forwarding upstream that answers too much ------------------------------------------------

FORWARDED = "@cf/forwarded/m"


@pytest.fixture
def upstream() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


@pytest.fixture
def front(config: LocalGatewayConfig, upstream: FaultServer) -> Iterator[LocalGateway]:
    route = UpstreamRoute("@cf/forwarded/*", kind="openai", base_url=upstream.url)
    with LocalGateway(attrs.evolve(config, upstreams=(route,))) as gateway:
        yield gateway


def forwarded(front: LocalGateway, http: httpx.AsyncClient, route: str, stream: bool) -> Any:
    """A chat request to the forwarded model on `route`."""
    api = Api(front, http)
    if route == "native":
        url, body = api.data("default", f"workers-ai/{FORWARDED}"), {}
    else:
        url, body = (
            api.data("default", "compat/chat/completions"),
            {"model": f"workers-ai/{FORWARDED}"},
        )
    body.update(messages=user("hi"), stream=stream)
    return http.post(url, json=body, headers={**AUTH, **GW_AUTH})


def openai_reply(calls: int) -> dict[str, Any]:
    listed = [
        {"id": f"c{i}", "type": "function", "function": {"name": "t", "arguments": "{}"}}
        for i in range(calls)
    ]
    message = {"role": "assistant", "content": None, "tool_calls": listed}
    return {"choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}]}


def call_frames(calls: int) -> list[bytes]:
    """An OpenAI stream with one call per index, in frames of 100 chunks."""
    chunks = [
        b"data: "
        + _json.dumps(
            {
                "choices": [
                    {
                        "index": 0,
                        "delta": {
                            "tool_calls": [
                                {
                                    "index": i,
                                    "id": f"c{i}",
                                    "function": {"name": "t", "arguments": "{}"},
                                }
                            ]
                        },
                    }
                ]
            }
        )
        + b"\n\n"
        for i in range(calls)
    ]
    chunks.append(b"data: [DONE]\n\n")
    return [b"".join(chunks[i : i + 100]) for i in range(0, len(chunks), 100)]


@pytest.mark.parametrize("route", ["native", "compat"])
async def test_a_forwarded_reply_with_too_many_tool_calls_is_a_502(
    front: LocalGateway, upstream: FaultServer, http: httpx.AsyncClient, route: str
) -> None:
    upstream.script(
        reply(200, openai_reply(MAX_TOOL_CALLS)), reply(200, openai_reply(MAX_TOOL_CALLS + 1))
    )
    assert (await forwarded(front, http, route, False)).status_code == 200
    response = await forwarded(front, http, route, False)
    assert response.status_code == 502, response.text
    assert f"more than {MAX_TOOL_CALLS} tool calls" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("route", ["native", "compat"])
async def test_a_forwarded_stream_with_too_many_tool_calls_is_cut(
    front: LocalGateway, upstream: FaultServer, http: httpx.AsyncClient, route: str
) -> None:
    upstream.script(sse(call_frames(MAX_TOOL_CALLS + 1)))
    response = await forwarded(front, http, route, True)
    assert response.status_code == 200  # the stream had begun
    assert "[DONE]" not in response.text
    assert len(re.findall(r'"id":"c\d+"', response.text)) <= MAX_TOOL_CALLS


@pytest.mark.parametrize("route", ["native", "compat"])
async def test_a_forwarded_reply_larger_than_the_limit_is_a_502(
    front: LocalGateway, upstream: FaultServer, http: httpx.AsyncClient, route: str
) -> None:
    big = {"choices": [{"message": {"content": "x" * MAX_REPLY_BYTES}, "finish_reason": "stop"}]}
    upstream.script(reply(200, big))
    response = await forwarded(front, http, route, False)
    assert response.status_code == 502, response.text
    assert f"larger than {MAX_REPLY_BYTES} bytes" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("route", ["native", "compat"])
async def test_a_forwarded_stream_line_longer_than_the_limit_is_a_502(
    front: LocalGateway, upstream: FaultServer, http: httpx.AsyncClient, route: str
) -> None:
    piece = b"data: " + b"x" * (1 << 20)
    upstream.script(sse([piece] * (MAX_LINE_CHARS // (1 << 20) + 2)))
    response = await forwarded(front, http, route, True)
    assert response.status_code == 502, response.text
    assert "stream line longer than" in response.json()["errors"][0]["message"]


# --- any schema at all -------------------------------------------------------------------------

KEYWORDS = [
    "type", "properties", "required", "items", "prefixItems", "additionalItems",
    "additionalProperties", "minItems", "maxItems", "minLength", "maxLength", "minProperties",
    "maxProperties", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
    "enum", "const", "anyOf", "oneOf", "allOf", "$ref", "$defs", "format", "pattern",
    "uniqueItems", "contains", "a",
]  # fmt: skip
ODD_VALUES = st.sampled_from(
    [0, 1, 3, -1, 10**9, 2**63, 2**64 - 1, 1e-300, 5e-324, 1e300, -1.7e308, 0.1, "object",
     "array", "string", "integer", "number", "null", "#", "#/$defs/a", "#/properties/a", "x"]
)  # fmt: skip
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False,
    allow_infinity=False) | ODD_VALUES | st.text(max_size=4),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(KEYWORDS), children, max_size=6),
    max_leaves=30,
)  # fmt: skip
PROMPTS = st.sampled_from(["", "a=1", "a=1e300 b=true", "a=" + "9" * 30, "A='x y' b: -5"])


@settings(max_examples=400, deadline=None)
@given(JSON_VALUES, st.integers(0, 2**32), PROMPTS)
def test_any_schema_gets_a_value_json_can_write_or_cannot_generate(
    schema: Any, seed: int, prompt: str
) -> None:
    """Whatever a request's JSON holds where a schema goes (any keyword with any value): a
    value the gateway can write, or `CannotGenerate` (the 400); never another exception."""
    try:
        value = generate(schema, random.Random(seed), named_values(prompt))
    except CannotGenerate:
        return
    _json.dumps(value)
