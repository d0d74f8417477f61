"""The shapes of the `agent` section, in one place: the tool the model calls, the structured
output it answers with, and the canned values the server sends for both.

- `get_weather(city)`: the tool. The server's tool-calling reply asks for it with
  `TOOL_ARGUMENTS` (`{"city":"Paris"}`); every client validates those arguments, runs it and
  sends `tool_result_json(...)` back.
- `Forecast` (attrs, 11 fields: strings, ints, a list of ints, a list of strings, a nested
  `Location` object): the schema a `generate_object` call asks for. `FORECAST` is the value the
  server answers with; `ForecastModel` / `WeatherArgsModel` are the same shapes as pydantic
  models, for the clients that validate the way `openai` users do.

`tests/bench/test_agent.py` checks that `FORECAST` decodes to `Forecast` and to
`ForecastModel` alike, so the two definitions cannot drift apart.
"""

from __future__ import annotations

from typing import Any

import attrs
import pydantic

TOOL_NAME = "get_weather"
TOOL_CALL_ID = "call_bench_1"
TOOL_ARGUMENTS: dict[str, Any] = {"city": "Paris"}
TOOL_PROMPT = "What is the weather in Paris today?"
FINAL_TEXT = "It is sunny in Paris today, 21 degrees, with a light breeze from the west."
OBJECT_PROMPT = "Give me today's forecast for Paris as JSON."


async def get_weather(city: str) -> dict[str, Any]:
    """Today's weather in a city.

    Args:
        city: The city's name, e.g. "Paris".
    """
    return {"city": city, "temperature_c": 21, "summary": "sunny", "wind_kph": 9}


def get_weather_sync(city: str) -> dict[str, Any]:
    """Today's weather in a city (a plain function: the SDK runs it in a worker thread).

    Args:
        city: The city's name, e.g. "Paris".
    """
    return {"city": city, "temperature_c": 21, "summary": "sunny", "wind_kph": 9}


@attrs.frozen(slots=True)
class Location:
    """Where the forecast is for."""

    latitude: float
    longitude: float
    timezone: str


@attrs.frozen(slots=True)
class Forecast:
    """Today's weather forecast for a city."""

    city: str
    country: str
    date: str
    summary: str
    temperature_c: int
    feels_like_c: int
    humidity_pct: int
    wind_kph: int
    hourly_c: list[int]
    alerts: list[str]
    location: Location


FORECAST: dict[str, Any] = {
    "city": "Paris",
    "country": "FR",
    "date": "2026-06-21",
    "summary": "Sunny with a light breeze from the west",
    "temperature_c": 21,
    "feels_like_c": 20,
    "humidity_pct": 48,
    "wind_kph": 9,
    "hourly_c": [14, 15, 17, 19, 21, 22, 22, 21, 19, 17, 16, 15],
    "alerts": ["UV index high from 13:00 to 16:00"],
    "location": {"latitude": 48.8566, "longitude": 2.3522, "timezone": "Europe/Paris"},
}


class WeatherArgsModel(pydantic.BaseModel):
    city: str


class LocationModel(pydantic.BaseModel):
    latitude: float
    longitude: float
    timezone: str


class ForecastModel(pydantic.BaseModel):
    """Today's weather forecast for a city."""

    city: str
    country: str
    date: str
    summary: str
    temperature_c: int
    feels_like_c: int
    humidity_pct: int
    wind_kph: int
    hourly_c: list[int]
    alerts: list[str]
    location: LocationModel
