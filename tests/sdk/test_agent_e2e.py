"""The tool loop and structured output end to end: models and tool handlers provided by a
dependency-injector container, against the local gateway over real HTTP, on both routes,
streamed and not, on asyncio and trio; a test overrides one handler without touching the model."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Annotated, Any

import attrs
import httpx
import pytest
from dependency_injector import containers, providers

from aigateway_sdk import (
    AiError,
    AiGateway,
    AiGatewayBinding,
    Constraints,
    GenerateObjectResponse,
    LanguageModel,
    MaxStepsExceeded,
    ModelParameters,
    Tool,
    ToolCallPart,
    ToolFailed,
    Toolkit,
    ToolResultPart,
    ValidationError,
)
from aigateway_sdk.local import LocalGateway, LocalGatewayConfig
from aigateway_sdk.parts import Finish, ResponseMetadata, StreamPart, TextDelta

pytestmark = pytest.mark.anyio

ACCOUNT = "acct-agent"
TOKEN = "agent-token"
NATIVE = "@cf/meta/llama-3.1-8b-instruct"
BOTH = pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
ROUTES = pytest.mark.parametrize(
    "model", [NATIVE, f"workers-ai/{NATIVE}"], ids=["native", "compat"]
)
Gateway = AiGateway("Agent gateway", id="agent-gateway", cache_ttl=0, collect_logs=True)


class Weather:
    """A weather service: what the tool's handler calls. Records each lookup."""

    def __init__(self, temp_c: int = 21) -> None:
        self.temp_c = temp_c
        self.seen: list[str] = []

    async def lookup(self, city: str) -> dict[str, Any]:
        self.seen.append(city)
        return {"city": city, "temp_c": self.temp_c}


async def weather_in(city: str) -> dict[str, Any]:
    """The current weather in a city.

    Args:
        city: The city's name.
    """
    raise AssertionError("the container provides this tool's handler")


# Declared from the signature, without a handler: the container provides it.
get_weather = Tool.from_function(weather_in, name="get_weather").with_handler(None)
weather_tools = Toolkit(get_weather)


@attrs.frozen
class Forecast:
    """A day's forecast."""

    city: str
    high_c: Annotated[int, Constraints(minimum=-50, maximum=60)]
    tags: Annotated[list[str], Constraints(max_length=3)]


class Container(containers.DeclarativeContainer):
    config = providers.Configuration()
    ai_gateway = AiGatewayBinding(
        Gateway, account_id=config.account_id, api_token=config.api_token, base_url=config.url
    )
    native = ai_gateway.model(model=NATIVE, parameters=ModelParameters(max_tokens=64))
    compat = ai_gateway.model(model=f"workers-ai/{NATIVE}")
    weather = providers.Singleton(Weather)
    toolkit = weather_tools.provider(get_weather=weather.provided.lookup)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalGateway]:
    db = Path(tmp_path_factory.mktemp("agent")) / "gw.db"
    with LocalGateway(LocalGatewayConfig(db_path=db, api_token=TOKEN)) as gw:
        reply = httpx.post(
            f"{gw.api_url}/accounts/{ACCOUNT}/ai-gateway/gateways",
            json=Gateway.create_json(),
            headers={"authorization": f"Bearer {TOKEN}"},
        )
        assert reply.status_code == 200, reply.text
        yield gw


@pytest.fixture
async def container(gateway: LocalGateway) -> AsyncIterator[Container]:
    built = Container()
    built.config.from_dict({"account_id": ACCOUNT, "api_token": TOKEN, "url": gateway.data_url})
    yield built
    await built.ai_gateway().aclose()


def model_of(container: Container, model: str) -> LanguageModel:
    lm: LanguageModel = container.native() if model == NATIVE else container.compat()
    return lm


ASK = "Use get_weather for city=Lisbon, please."


@BOTH
@ROUTES
async def test_the_model_calls_the_container_handler_then_answers_with_its_result(
    container: Container, model: str
) -> None:
    lm = model_of(container, model)
    response = await lm.generate_text(ASK, toolkit=container.toolkit())
    assert container.weather().seen == ["Lisbon"]
    first, second = response.steps
    (call,) = first.tool_calls
    assert (call.name, call.arguments) == ("get_weather", {"city": "Lisbon"})
    (result,) = first.tool_results
    assert result.call_id == call.id
    assert result.value == {"city": "Lisbon", "temp_c": 21}
    assert not second.tool_calls
    assert response.text == second.text
    assert '"temp_c":21' in response.text  # the answer uses the result
    assert response.finish_reason == "stop"
    assert response.tool_calls == ()
    total = first.usage.total_tokens + second.usage.total_tokens
    assert response.usage.total_tokens == total > 0
    assert first.log_id
    assert second.log_id
    assert first.log_id != second.log_id


@BOTH
@ROUTES
async def test_a_test_overrides_one_handler_without_touching_the_model(
    container: Container, model: str
) -> None:
    fake = Weather(temp_c=-5)
    with container.weather.override(providers.Object(fake)):
        response = await model_of(container, model).generate_text(ASK, toolkit=container.toolkit())
    assert fake.seen == ["Lisbon"]
    assert container.weather().seen == []  # the real one was never called
    assert '"temp_c":-5' in response.text


@BOTH
@ROUTES
async def test_the_streamed_loop_yields_each_step_and_the_results_between(
    container: Container, model: str
) -> None:
    lm = model_of(container, model)
    parts: list[StreamPart] = [p async for p in lm.stream_text(ASK, toolkit=container.toolkit())]
    kinds = [type(p) for p in parts]
    first_finish = kinds.index(Finish)
    assert kinds[0] is ResponseMetadata
    assert ToolCallPart in kinds[:first_finish]
    assert kinds[first_finish + 1] is ToolResultPart
    assert kinds[first_finish + 2] is ResponseMetadata  # the second model call
    assert kinds[-1] is Finish
    assert kinds.count(Finish) == 2
    result = parts[first_finish + 1]
    assert isinstance(result, ToolResultPart)
    assert result.result.value == {"city": "Lisbon", "temp_c": 21}
    text = "".join(p.delta for p in parts if isinstance(p, TextDelta))
    assert "get_weather returned" in text
    collected = await lm.stream_text(ASK, toolkit=container.toolkit()).collect()
    whole = await lm.generate_text(ASK, toolkit=container.toolkit())
    assert collected.text == whole.text == text
    assert len(collected.steps) == len(whole.steps) == 2
    assert collected.usage == whole.usage


@BOTH
async def test_without_handlers_the_calls_come_back_to_the_caller(container: Container) -> None:
    response = await container.native().generate_text(ASK, toolkit=weather_tools)
    assert response.finish_reason == "tool-calls"
    (call,) = response.tool_calls
    assert call.arguments == {"city": "Lisbon"}
    assert len(response.steps) == 1
    assert container.weather().seen == []


@BOTH
@ROUTES
async def test_a_failing_handler_is_a_typed_error_with_the_steps_kept(
    container: Container, model: str
) -> None:
    async def broken(city: str) -> dict[str, Any]:
        raise RuntimeError("weather service down")

    with pytest.raises(AiError) as caught:
        await model_of(container, model).generate_text(
            ASK, toolkit=weather_tools.with_handlers(get_weather=broken)
        )
    reason = caught.value.reason
    assert isinstance(reason, ToolFailed)
    assert reason.tool == "get_weather"
    assert isinstance(caught.value.__cause__, RuntimeError)
    (step,) = reason.steps
    assert step.tool_calls[0].arguments == {"city": "Lisbon"}


@BOTH
async def test_on_tool_error_return_tells_the_model_and_goes_on(container: Container) -> None:
    async def broken(city: str) -> dict[str, Any]:
        raise RuntimeError("secret detail")

    response = await container.compat().generate_text(
        ASK, toolkit=weather_tools.with_handlers(get_weather=broken), on_tool_error="return"
    )
    (result,) = response.steps[0].tool_results
    assert result.is_error
    assert "secret detail" not in result.content  # only the type goes to the model
    assert "RuntimeError" in result.content
    assert response.finish_reason == "stop"
    assert "get_weather returned" in response.text


@BOTH
async def test_max_steps_reached_is_a_typed_error(container: Container) -> None:
    with pytest.raises(AiError) as caught:
        await container.native().generate_text(ASK, toolkit=container.toolkit(), max_steps=1)
    reason = caught.value.reason
    assert isinstance(reason, MaxStepsExceeded)
    assert reason.max_steps == 1
    assert reason.steps[0].tool_calls[0].name == "get_weather"
    assert container.weather().seen == []  # nothing ran past the limit


async def test_bad_tool_settings_are_refused_before_anything_is_sent(
    container: Container,
) -> None:
    lm = container.native()
    with pytest.raises(ValidationError, match="tool_choice"):
        lm.generate_text(ASK, tool_choice="required")  # no toolkit
    with pytest.raises(ValidationError, match="tool_choice"):
        lm.generate_text(ASK, toolkit=weather_tools, tool_choice="get_time")
    with pytest.raises(ValidationError, match="max_steps"):
        lm.stream_text(ASK, toolkit=weather_tools, max_steps=0)
    with pytest.raises(ValidationError, match="toolkit"):
        lm.generate_text(ASK, toolkit=[get_weather])  # type: ignore[arg-type]


# -- structured output -----------------------------------------------------------------------


@BOTH
@ROUTES
async def test_generate_object_returns_the_typed_value(container: Container, model: str) -> None:
    lm = model_of(container, model)
    response = await lm.generate_object("A forecast for city=Porto.", schema=Forecast)
    assert isinstance(response, GenerateObjectResponse)
    forecast = response.value
    assert isinstance(forecast, Forecast)
    assert forecast.city == "Porto"  # name=value pairs of the prompt
    assert -50 <= forecast.high_c <= 60
    assert len(forecast.tags) <= 3
    assert response.attempts == 1
    assert response.usage.output_tokens.total > 0
    assert response.log_id


@BOTH
@ROUTES
async def test_generate_object_takes_a_json_schema_dict(container: Container, model: str) -> None:
    schema = {
        "type": "object",
        "properties": {
            "answer": {"type": "string", "enum": ["yes", "no"]},
            "n": {"type": "integer"},
        },
        "required": ["answer", "n"],
        "additionalProperties": False,
    }
    response = await model_of(container, model).generate_object("Answer n=7.", schema=schema)
    assert response.value == {"answer": "yes", "n": 7}


async def test_generate_object_refuses_a_schema_it_cannot_use(container: Container) -> None:
    with pytest.raises(ValidationError):
        container.native().generate_object("x", schema=object)
    with pytest.raises(ValidationError, match="repairs"):
        container.native().generate_object("x", schema=Forecast, repairs=-1)


@BOTH
@ROUTES
@pytest.mark.parametrize(
    ("schema", "kind"),
    [(int, int), (float, float), (bool, bool), (str, str), (list[int], list)],
    ids=["int", "float", "bool", "str", "list"],
)
async def test_generate_object_takes_a_schema_that_is_not_an_object(
    container: Container, model: str, schema: Any, kind: type
) -> None:
    """Workers AI JSON mode gives the value itself in `response` (a number, a bare string)."""
    response = await model_of(container, model).generate_object("A value.", schema=schema)
    assert isinstance(response.value, kind)
