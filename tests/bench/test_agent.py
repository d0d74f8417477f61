"""The `agent` section's pieces: the shared shapes agree with each other, and the canned server
answers a tool round trip and a structured-output call in a shape every client reads (each
client of `benchmarks.agent` runs its task once against it and must get the canned answer)."""

from __future__ import annotations

import asyncio
from typing import Any

import attrs
import pytest

from aigateway_sdk.schema import SchemaMismatch
from benchmarks import agent, shapes
from benchmarks import server as canned


def test_the_canned_forecast_fits_both_definitions_of_the_schema() -> None:
    typed = agent.FORECAST_SCHEMA.decode(shapes.FORECAST)
    modelled = shapes.ForecastModel.model_validate(shapes.FORECAST)
    assert attrs.asdict(typed) == modelled.model_dump() == shapes.FORECAST
    properties = agent.FORECAST_JSON_SCHEMA["properties"]
    assert set(properties) == set(shapes.ForecastModel.model_fields) == set(shapes.FORECAST)
    assert agent.RESPONSE_FORMAT["json_schema"]["schema"] == agent.FORECAST_JSON_SCHEMA


def test_the_validators_refuse_a_wrong_forecast() -> None:
    wrong = {**shapes.FORECAST, "hourly_c": ["warm"]}
    with pytest.raises(SchemaMismatch):
        agent.FORECAST_SCHEMA.decode(wrong)
    with pytest.raises(ValueError):
        shapes.ForecastModel.model_validate(wrong)


def test_the_tool_is_offered_as_the_sdk_offers_it() -> None:
    (offered,) = agent.TOOLS
    function = offered["function"]
    assert function["name"] == shapes.TOOL_NAME
    assert function["parameters"]["required"] == ["city"]
    assert agent.WEATHER_ARGS.decode(shapes.TOOL_ARGUMENTS) == shapes.TOOL_ARGUMENTS


async def _answers(task: str) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[int] = loop.create_future()
    serving = asyncio.create_task(canned.serve("127.0.0.1", 0, 3, ready))
    base = f"http://127.0.0.1:{await ready}"
    got: dict[str, Any] = {}
    try:
        for name in agent.TASK_CLIENTS[task]:
            client = agent.CLIENTS[name](base)
            try:
                once = client.round_trip if task == agent.TOOL_TASK else client.structured
                got[name] = await once()
            finally:
                await client.aclose()
    finally:
        serving.cancel()
    return got


def test_every_client_completes_a_tool_round_trip() -> None:
    got = asyncio.run(_answers(agent.TOOL_TASK))
    assert set(got) == set(agent.TASK_CLIENTS[agent.TOOL_TASK])
    assert all(text == shapes.FINAL_TEXT for text in got.values()), got


def test_every_client_gets_the_forecast() -> None:
    got = asyncio.run(_answers(agent.OBJECT_TASK))
    assert got["sdk"] == got["sdk-native"] == got[agent.BARE] == got["openai"]
    assert isinstance(got["sdk"], shapes.Forecast)
    assert got["sdk"].location == shapes.Location(48.8566, 2.3522, "Europe/Paris")
    assert got["openai+pydantic"].model_dump() == shapes.FORECAST
    for name in ("sdk, dict schema", "sdk, no validation", "openai, no validation"):
        assert got[name] == shapes.FORECAST, name


def test_the_server_picks_the_reply_by_body() -> None:
    whole = canned.Replies.whole
    tool_then = b'{"messages":[{"role":"user"},{"role": "tool"}],"tools":[{}]}'
    assert whole(True, tool_then) == canned.TOOL_FINAL[0]
    assert whole(False, b'{"messages":[],"tools": [{}]}') == canned.TOOL_CALL[1]
    assert whole(True, b'{"response_format": {"type":"json_schema"}}') == canned.OBJECT[0]
    assert whole(True, b'{"messages":[{"role":"user","content":"hi"}]}') == canned.COMPAT_JSON
    assert b'"finish_reason":"tool_calls"' in canned.TOOL_CALL[0]
