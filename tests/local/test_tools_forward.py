"""Forwarding tools, tool results, images and JSON mode to an OpenAI-compatible server: what
the server receives (its request log) is what the caller sent, and its tool calls come back
in the route's shape, streamed and not. The server is a second local gateway (its `compat`
route, answered by the built-in model)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import attrs
import httpx
import pytest

from aigateway_sdk.local import LocalGateway, LocalGatewayConfig, UpstreamRoute
from tests.local.helpers import AUTH, GW_AUTH, Api
from tests.local.test_structured import COUNTRY
from tests.local.test_tools import NATIVE_TOOLS, OPENAI_TOOLS, frames, round_trip

pytestmark = pytest.mark.anyio

FORWARDED = "@cf/forwarded/m"
UPSTREAM_MODEL = "workers-ai/@cf/up/m"


@pytest.fixture
def upstream(config: LocalGatewayConfig) -> Iterator[LocalGateway]:
    """The OpenAI-compatible server (no token: it takes any key, and any model id)."""
    server = attrs.evolve(config, api_token=None, db_path=None, allow_unknown_models=True)
    with LocalGateway(server) as gateway:
        yield gateway


@pytest.fixture
def front(config: LocalGatewayConfig, upstream: LocalGateway) -> Iterator[LocalGateway]:
    base = f"{upstream.data_url}/up/default/compat"
    route = UpstreamRoute("@cf/forwarded/*", kind="openai", base_url=base, model=UPSTREAM_MODEL)
    with LocalGateway(attrs.evolve(config, upstreams=(route,))) as gateway:
        yield gateway


async def received(upstream: LocalGateway, http: httpx.AsyncClient) -> list[dict[str, Any]]:
    """The bodies the server received, oldest first."""
    api = Api(upstream, http, account="up")
    bodies = []
    for log in await api.logs(order_by_direction="asc"):
        url = api.control(f"/default/logs/{log['id']}/request")
        bodies.append((await http.get(url, headers=AUTH)).json())
    return bodies


async def direct(http: httpx.AsyncClient, upstream: LocalGateway, **body: Any) -> Any:
    """What the server answers to `body` asked of it directly."""
    response = await http.post(
        f"{upstream.data_url}/up/default/compat/chat/completions",
        json={"model": UPSTREAM_MODEL, **body},
        headers={"authorization": "Bearer x"},
    )
    return response.json()


MESSAGES: list[dict[str, Any]] = [
    {"role": "system", "content": "Use tools."},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "get_weather here? "},
            {
                "type": "image_url",
                "image_url": {"url": "https://example.com/a.png", "detail": "low"},
            },
        ],
    },
    *round_trip()[2:],
    {"role": "user", "content": "and get_weather for city=Rome", "name": "ada"},
]


async def test_openai_shape_goes_through_unchanged(
    front: LocalGateway, upstream: LocalGateway, http: httpx.AsyncClient
) -> None:
    fields = {
        "messages": MESSAGES,
        "tools": OPENAI_TOOLS,
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "parallel_tool_calls": False,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "country", "schema": COUNTRY, "strict": True},
        },
    }
    response = await http.post(
        f"{front.data_url}/acct/default/compat/chat/completions",
        json={"model": f"workers-ai/{FORWARDED}", **fields},
        headers={**AUTH, **GW_AUTH},
    )
    assert response.status_code == 200, response.text
    [sent] = await received(upstream, http)
    assert {name: sent[name] for name in fields} == fields
    assert sent["model"] == UPSTREAM_MODEL
    expected = await direct(http, upstream, **fields)
    message = response.json()["choices"][0]["message"]
    assert message["tool_calls"] == expected["choices"][0]["message"]["tool_calls"]
    assert message["content"] is None
    assert response.json()["choices"][0]["finish_reason"] == "tool_calls"
    assert response.json()["usage"] == expected["usage"]


async def test_native_shape_is_translated(
    front: LocalGateway, upstream: LocalGateway, http: httpx.AsyncClient
) -> None:
    url = f"{front.data_url}/acct/default/workers-ai/{FORWARDED}"
    body = {
        "messages": [{"role": "user", "content": "get_time for zone=UTC"}],
        "tools": NATIVE_TOOLS,
        "tool_choice": "auto",
    }
    response = await http.post(url, json=body, headers={**AUTH, **GW_AUTH})
    [sent] = await received(upstream, http)
    assert sent["tools"] == OPENAI_TOOLS
    assert sent["tool_choice"] == "auto"
    result = response.json()["result"]
    [call] = result["tool_calls"]
    assert call["name"] == "get_time"
    assert call["arguments"] == {"zone": "UTC"}  # the object, from the server's JSON text
    assert call["id"].startswith("call_")
    assert result["response"] is None
    streamed = await http.post(url, json={**body, "stream": True}, headers={**AUTH, **GW_AUTH})
    events = frames(streamed)
    assert events[0] == {"response": "", "tool_calls": result["tool_calls"]}
    assert events[1]["usage"] == result["usage"]


async def test_native_json_mode_is_translated(
    front: LocalGateway, upstream: LocalGateway, http: httpx.AsyncClient
) -> None:
    url = f"{front.data_url}/acct/default/workers-ai/{FORWARDED}"
    body = {
        "messages": [{"role": "user", "content": "name=India"}],
        "response_format": {"type": "json_schema", "json_schema": COUNTRY},
    }
    response = await http.post(url, json=body, headers={**AUTH, **GW_AUTH})
    [sent] = await received(upstream, http)
    assert sent["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "response", "schema": COUNTRY},
    }
    value = response.json()["result"]["response"]
    assert isinstance(value, dict)
    assert value["name"] == "India"


async def test_streamed_tool_call_deltas_are_relayed(
    front: LocalGateway, upstream: LocalGateway, http: httpx.AsyncClient
) -> None:
    body = {
        "messages": [{"role": "user", "content": "get_weather city=Oslo"}],
        "tools": OPENAI_TOOLS,
    }
    expected = await direct(http, upstream, **body)
    [call] = expected["choices"][0]["message"]["tool_calls"]
    response = await http.post(
        f"{front.data_url}/acct/default/compat/chat/completions",
        json={"model": f"workers-ai/{FORWARDED}", "stream": True, **body},
        headers={**AUTH, **GW_AUTH},
    )
    chunks = frames(response)
    items = [
        item
        for chunk in chunks
        if chunk["choices"]
        for item in chunk["choices"][0]["delta"].get("tool_calls", [])
    ]
    assert items[0] == {
        "index": 0,
        "id": call["id"],
        "type": "function",
        "function": {"name": "get_weather", "arguments": ""},
    }
    assert len(items) > 3
    arguments = "".join(item["function"].get("arguments", "") for item in items)
    assert json.loads(arguments) == json.loads(call["function"]["arguments"])
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
