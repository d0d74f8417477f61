"""Tools and toolkits: construction errors, the definitions the model sees, handlers, and
handlers provided (and overridden) through a dependency-injector container."""

from __future__ import annotations

import dataclasses
import functools
from typing import Annotated, Any

import attrs
import pytest
from dependency_injector import containers, providers

from aigateway_sdk.content import ToolCall
from aigateway_sdk.request import ToolDefinition, ToolsRequest
from aigateway_sdk.schema import Injected
from aigateway_sdk.tools import Tool, Toolkit, run_tool_calls, tool
from aigateway_sdk.validation import ValidationError

OBJECT = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}


@attrs.frozen
class WeatherArgs:
    """Today's weather in a city."""

    city: str
    days: int


@dataclasses.dataclass
class SearchArgs:
    query: str


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


# --- construction errors ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["get weather", "", "x" * 65, "tool.name", "héllo", 12, None])
def test_a_name_providers_refuse_is_a_validation_error_naming_it(name: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        Tool(name, parameters=OBJECT)
    assert caught.value.fields == ("name",)


@pytest.mark.parametrize("name", ["a", "get_weather", "Get-Weather-2", "x" * 64])
def test_every_name_the_providers_take_is_accepted(name: str) -> None:
    assert Tool(name, parameters=OBJECT).name == name


@pytest.mark.parametrize(
    "parameters",
    [
        {"type": "string"},
        {"type": "array", "items": {"type": "string"}},
        {"properties": {"q": {"type": "string"}}},  # no type: not declared an object
        42,
        "an object",
    ],
)
def test_parameters_that_are_not_an_object_schema_are_refused(parameters: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        Tool("search", parameters=parameters)
    assert [field.split(".")[0] for field in caught.value.fields] == ["parameters"]


def test_a_schema_that_cannot_be_written_as_json_is_refused_naming_where() -> None:
    schema = {"type": "object", "properties": {"q": {"type": "string", "default": object()}}}
    with pytest.raises(ValidationError) as caught:
        Tool("search", parameters=schema)
    assert caught.value.fields == ("parameters.properties.q.default",)


def test_a_function_whose_parameters_cannot_be_described_is_refused_naming_them() -> None:
    def search(query, *more: str) -> str:  # type: ignore[no-untyped-def]
        return str(query)

    with pytest.raises(ValidationError) as caught:
        tool(search)
    assert caught.value.fields == ("parameters.search.query", "parameters.search.more")


def test_a_handler_that_is_not_callable_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        Tool("search", parameters=OBJECT, handler="not a function")  # type: ignore[arg-type]
    assert caught.value.fields == ("handler",)


def test_a_function_tool_with_a_name_providers_refuse_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        Tool.from_function(add, name="add numbers")
    assert caught.value.fields == ("name",)


def test_two_tools_with_one_name_are_refused_by_the_toolkit() -> None:
    with pytest.raises(ValidationError) as caught:
        Toolkit(Tool("search", parameters=OBJECT), tool(add), Tool("search", parameters=OBJECT))
    assert caught.value.fields == ("search",)
    assert "two tools" in str(caught.value)


def test_a_toolkit_holds_only_tools() -> None:
    with pytest.raises(ValidationError) as caught:
        Toolkit(tool(add), add)  # type: ignore[arg-type]
    assert caught.value.fields == ("1",)


def test_handlers_for_tools_the_toolkit_does_not_have_are_refused() -> None:
    toolkit = Toolkit(tool(add))
    with pytest.raises(ValidationError) as caught:
        toolkit.with_handlers(add=add, subtract=add)
    assert caught.value.fields == ("subtract",)
    assert "the tools are: add" in str(caught.value)
    with pytest.raises(ValidationError) as caught:
        toolkit.with_handlers(add=42)  # type: ignore[arg-type]
    assert caught.value.fields == ("add",)
    with pytest.raises(ValidationError) as caught:
        toolkit.provider(multiply=providers.Object(add))
    assert caught.value.fields == ("multiply",)


def test_a_tool_choice_must_be_a_choice_or_a_tool_of_the_toolkit() -> None:
    toolkit = Toolkit(tool(add))
    assert toolkit.request() == ToolsRequest(toolkit.definitions(), "auto")
    assert toolkit.request("add").choice == "add"
    assert toolkit.request("required", parallel=False).parallel is False
    with pytest.raises(ValidationError) as caught:
        toolkit.request("subtract")
    assert caught.value.fields == ("tool_choice",)


# --- what the model sees ---------------------------------------------------------------------


def test_a_function_tool_is_described_by_its_signature_and_docstring() -> None:
    definition = tool(add).definition()
    assert definition == ToolDefinition(
        name="add",
        description="Add two numbers.",
        parameters={
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "required": ["a", "b"],
            "additionalProperties": False,
        },
    )


def test_an_attrs_tool_is_described_by_its_fields() -> None:
    weather = Tool("get_weather", description="The weather.", parameters=WeatherArgs)
    definition = weather.definition()
    assert (definition.name, definition.description, definition.strict) == (
        "get_weather",
        "The weather.",
        False,
    )
    assert definition.parameters == {
        "type": "object",
        "description": "Today's weather in a city.",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city", "days"],
        "additionalProperties": False,
    }


def test_the_description_defaults_to_the_docstring_and_can_be_given() -> None:
    assert Tool("w", parameters=WeatherArgs).description == "Today's weather in a city."

    @tool(name="sum_two", description="Sum.")
    def summed(a: int, b: int) -> int:
        return a + b

    assert (summed.name, summed.description) == ("sum_two", "Sum.")
    assert Tool.from_function(add, name="plus").name == "plus"


def test_a_json_schema_tool_offers_its_schema_as_given() -> None:
    definition = Tool("search", description="Search.", parameters=OBJECT).definition()
    assert definition.parameters == OBJECT


def test_a_toolkit_lists_its_tools_and_which_have_handlers() -> None:
    weather = Tool("get_weather", parameters=WeatherArgs)
    toolkit = Toolkit(weather, tool(add))
    assert toolkit.names == ("get_weather", "add")
    assert [d.name for d in toolkit.definitions()] == ["get_weather", "add"]
    assert toolkit.get("get_weather") is weather
    assert toolkit.get("nope") is None
    assert (toolkit.handles("add"), toolkit.handles("get_weather"), toolkit.handles("x")) == (
        True,
        False,
        False,
    )
    assert Toolkit(weather).has_handlers is False
    handled = Toolkit(weather).with_handlers(get_weather=lambda args: args.city)
    assert handled.has_handlers
    assert handled.handles("get_weather")
    assert not Toolkit(weather).handles("get_weather")  # with_handlers made a new toolkit


# --- handlers through the container ----------------------------------------------------------


async def real_get_weather(args: WeatherArgs) -> dict[str, Any]:
    raise AssertionError("the real handler must not run in this test")


def fake_get_weather(args: WeatherArgs) -> dict[str, Any]:
    return {"city": args.city, "sky": "clear", "days": args.days}


weather_toolkit = Toolkit(
    Tool("get_weather", description="Today's weather.", parameters=WeatherArgs), tool(add)
)


class Container(containers.DeclarativeContainer):
    get_weather = providers.Object(real_get_weather)
    tools = weather_toolkit.provider(get_weather=get_weather)


WEATHER_CALL = ToolCall.of("call_1", "get_weather", {"city": "Lisbon", "days": 2})


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_a_test_overrides_one_handler_in_the_container_without_touching_the_model() -> None:
    container = Container()
    real = container.tools()
    assert real.get("get_weather").handler is real_get_weather  # type: ignore[union-attr]
    assert real.handles("add")  # the function tool keeps its own handler

    with container.get_weather.override(providers.Object(fake_get_weather)):
        toolkit = container.tools()
        results = await run_tool_calls(
            toolkit, [WEATHER_CALL, ToolCall.of("c2", "add", {"a": 1, "b": 2})]
        )
    assert [r.content for r in results] == [
        '{"city":"Lisbon","sky":"clear","days":2}',
        "3",
    ]
    assert container.tools().get("get_weather").handler is real_get_weather  # type: ignore[union-attr]


def test_the_handler_provider_can_be_any_provider_of_a_callable() -> None:
    class WeatherService:
        def lookup(self, args: WeatherArgs) -> str:
            return f"sunny in {args.city}"

    class ServiceContainer(containers.DeclarativeContainer):
        service = providers.Singleton(WeatherService)
        tools = weather_toolkit.provider(get_weather=service.provided.lookup)

    container = ServiceContainer()
    handler = container.tools().get("get_weather").handler  # type: ignore[union-attr]
    assert handler(WeatherArgs("Porto", 1)) == "sunny in Porto"


class WeatherClient:
    def __init__(self, sky: str) -> None:
        self.sky = sky


async def forecast(city: str, client: Annotated[WeatherClient, Injected]) -> str:
    """The forecast for a city."""
    return f"{city}: {client.sky}"


class ForecastContainer(containers.DeclarativeContainer):
    client = providers.Singleton(WeatherClient, "clear")
    tools = Toolkit(tool(forecast)).provider(
        forecast=providers.Factory(functools.partial, forecast, client=client)
    )


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_a_function_tools_injected_dependency_comes_from_the_container() -> None:
    assert "client" not in tool(forecast).definition().parameters["properties"]
    container = ForecastContainer()
    calls = [ToolCall.of("c1", "forecast", {"city": "Oslo"})]
    assert (await run_tool_calls(container.tools(), calls))[0].content == "Oslo: clear"
    with container.client.override(providers.Object(WeatherClient("rain"))):
        assert (await run_tool_calls(container.tools(), calls))[0].content == "Oslo: rain"
