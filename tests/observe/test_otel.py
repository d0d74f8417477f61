"""OpenTelemetry GenAI spans and metrics: generate_text, stream_text (ended, closed early,
cancelled, failed), each tool call and embed, on asyncio and trio, with the SDK's in-memory
exporter and metric reader; nothing once uninstrumented."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from aigateway_sdk import (
    NO_RETRY,
    AiError,
    GatewayBinding,
    ModelParameters,
    TextDelta,
    Tool,
    Toolkit,
)
from aigateway_sdk.local import LocalGateway, LocalGatewayConfig
from aigateway_sdk.testing import FakeLanguageModel, tool_calls_reply
from tests.local.helpers import GATEWAY_DEFAULTS
from tests.sdk.helpers import MODEL, Recorder, binding_for, sse

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind, StatusCode

from aigateway_sdk.observe.otel import instrument, uninstrument

pytestmark = pytest.mark.anyio

BOTH = pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
ACCOUNT = "acct-otel"
TOKEN = "otel-token"
GATEWAY = "cloudflare.ai_gateway."
SSE = {"content-type": "text/event-stream", "cf-aig-log-id": "01STREAM"}


class Telemetry:
    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def points(self, name: str) -> list[Any]:
        data = self.reader.get_metrics_data()
        if data is None:
            return []
        return [
            point
            for resource in data.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
            if metric.name == name
            for point in metric.data.data_points
        ]


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    found = Telemetry()
    instrument(found.tracer_provider, found.meter_provider)
    try:
        yield found
    finally:
        uninstrument()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalGateway]:
    db = Path(tmp_path_factory.mktemp("observe-otel")) / "gw.db"
    with LocalGateway(LocalGatewayConfig(db_path=db, api_token=TOKEN)) as gw:
        reply = httpx.post(
            f"{gw.api_url}/accounts/{ACCOUNT}/ai-gateway/gateways",
            json={"id": "open", **GATEWAY_DEFAULTS},
            headers={"authorization": f"Bearer {TOKEN}"},
        )
        assert reply.status_code == 200, reply.text
        yield gw


def binding(gw: LocalGateway) -> GatewayBinding:
    return GatewayBinding(
        account_id=ACCOUNT, gateway_id="open", api_token=TOKEN, base_url=gw.data_url
    )


@BOTH
async def test_generate_text_span_and_metrics(gateway: LocalGateway, telemetry: Telemetry) -> None:
    async with binding(gateway) as b:
        lm = b.model(MODEL, ModelParameters(max_tokens=40, temperature=0.2))
        response = await lm.generate_text(prompt="Say hello.")
    (span,) = telemetry.spans()
    assert span.name == f"chat {MODEL}"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    attributes = dict(span.attributes or {})
    host = httpx.URL(gateway.data_url)
    assert attributes == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "cloudflare.workers_ai",
        "gen_ai.request.model": MODEL,
        "gen_ai.request.max_tokens": 40,
        "gen_ai.request.temperature": 0.2,
        "server.address": host.host,
        "server.port": host.port,
        "gen_ai.response.model": response.model,
        "gen_ai.response.finish_reasons": (response.finish_reason,),
        "gen_ai.usage.input_tokens": response.usage.input_tokens.total,
        "gen_ai.usage.output_tokens": response.usage.output_tokens.total,
        GATEWAY + "log_id": response.log_id,
        GATEWAY + "cache_status": "MISS",
    }
    (duration,) = telemetry.points("gen_ai.client.operation.duration")
    assert duration.count == 1
    assert duration.attributes["gen_ai.request.model"] == MODEL
    assert "error.type" not in duration.attributes
    tokens = {
        p.attributes["gen_ai.token.type"]: p.sum
        for p in telemetry.points("gen_ai.client.token.usage")
    }
    assert tokens == {
        "input": response.usage.input_tokens.total,
        "output": response.usage.output_tokens.total,
    }


async def test_the_span_is_a_child_of_the_callers(
    gateway: LocalGateway, telemetry: Telemetry
) -> None:
    tracer = telemetry.tracer_provider.get_tracer("app")
    async with binding(gateway) as b:
        with tracer.start_as_current_span("handle request") as parent:
            await b.model(f"workers-ai/{MODEL}").generate_text(prompt="hi")
    chat, outer = telemetry.spans()
    assert chat.parent is not None
    assert chat.parent.span_id == parent.get_span_context().span_id
    assert outer.name == "handle request"
    assert chat.attributes is not None
    assert chat.attributes["gen_ai.provider.name"] == "cloudflare.workers_ai"


async def test_a_failed_call_is_an_error_span_with_the_reason(telemetry: Telemetry) -> None:
    denied = httpx.Response(
        401,
        json={"success": False, "errors": [{"code": 10000, "message": "Authentication error"}]},
        headers={"cf-aig-log-id": "01DENIED"},
    )
    async with binding_for(Recorder(denied), retry=NO_RETRY) as b:
        with pytest.raises(AiError):
            await b.model("openai/gpt-4o-mini").generate_text(prompt="hi")
    (span,) = telemetry.spans()
    assert span.status.status_code is StatusCode.ERROR
    attributes = span.attributes or {}
    assert attributes["error.type"] == "AuthenticationFailed"
    assert attributes["gen_ai.provider.name"] == "openai"
    assert attributes["http.response.status_code"] == 401
    assert attributes[GATEWAY + "log_id"] == "01DENIED"
    (duration,) = telemetry.points("gen_ai.client.operation.duration")
    assert duration.attributes["error.type"] == "AuthenticationFailed"
    assert telemetry.points("gen_ai.client.token.usage") == []


@BOTH
async def test_metric_points_of_repeated_calls_keep_their_own_attributes(
    telemetry: Telemetry,
) -> None:
    # The metric attributes of a model are built once and shared by its calls: a failure
    # between two successes must not leak its `error.type` into theirs, and every call counts.
    ok = httpx.Response(
        200,
        json={
            "result": {
                "response": "hello",
                "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
            },
            "success": True,
            "errors": [],
            "messages": [],
        },
    )
    denied = httpx.Response(
        401, json={"success": False, "errors": [{"code": 10000, "message": "Authentication"}]}
    )
    async with binding_for(Recorder(ok, denied, ok, ok), retry=NO_RETRY) as b:
        lm = b.model(MODEL)
        await lm.generate_text(prompt="hi")
        with pytest.raises(AiError):
            await lm.generate_text(prompt="hi")
        await lm.generate_text(prompt="hi")
        await lm.generate_text(prompt="hi")
    assert len(telemetry.spans()) == 4
    durations = {
        p.attributes.get("error.type"): p.count
        for p in telemetry.points("gen_ai.client.operation.duration")
    }
    assert durations == {None: 3, "AuthenticationFailed": 1}
    tokens = {
        p.attributes["gen_ai.token.type"]: (p.count, p.sum)
        for p in telemetry.points("gen_ai.client.token.usage")
    }
    assert tokens == {"input": (3, 9), "output": (3, 6)}
    for point in telemetry.points("gen_ai.client.token.usage"):
        assert point.attributes["gen_ai.request.model"] == MODEL
        assert "error.type" not in point.attributes


@BOTH
async def test_two_embedding_models_keep_their_own_attributes(
    gateway: LocalGateway, telemetry: Telemetry
) -> None:
    first, second = "@cf/baai/bge-small-en-v1.5", "@cf/baai/bge-base-en-v1.5"
    async with binding(gateway) as b:
        for model in (first, second, first):
            await b.embedding_model(model).embed(["a"])
    assert [s.name for s in telemetry.spans()] == [
        f"embeddings {first}",
        f"embeddings {second}",
        f"embeddings {first}",
    ]
    requested = [(s.attributes or {})["gen_ai.request.model"] for s in telemetry.spans()]
    assert requested == [first, second, first]
    counts = {
        p.attributes["gen_ai.request.model"]: p.count
        for p in telemetry.points("gen_ai.client.operation.duration")
    }
    assert counts == {first: 2, second: 1}


@BOTH
async def test_a_stream_span_ends_when_the_stream_ends(
    gateway: LocalGateway, telemetry: Telemetry
) -> None:
    async with binding(gateway) as b:
        lm = b.model(MODEL, ModelParameters(max_tokens=30))
        deltas = 0
        async with lm.stream_text(prompt="Tell a story.") as parts:
            async for part in parts:
                if type(part) is TextDelta:
                    deltas += 1
                    if deltas == 2:
                        assert telemetry.spans() == []  # still open while streaming
        whole = await lm.stream_text(prompt="Tell a story.").collect()
    first, _second = telemetry.spans()
    assert first.status.status_code is StatusCode.UNSET
    attributes = first.attributes or {}
    assert attributes["gen_ai.usage.output_tokens"] == whole.usage.output_tokens.total
    assert attributes["gen_ai.response.finish_reasons"] == (whole.finish_reason,)
    assert attributes[GATEWAY + "log_id"]
    assert GATEWAY + "stream.closed_early" not in attributes
    assert len(telemetry.points("gen_ai.client.token.usage")) == 2


@BOTH
async def test_a_stream_closed_early_ends_its_span(
    gateway: LocalGateway, telemetry: Telemetry
) -> None:
    async with binding(gateway) as b:
        async with b.model(MODEL).stream_text(prompt="Tell a long story.") as parts:
            async for part in parts:
                if type(part) is TextDelta:
                    break
        (span,) = telemetry.spans()
    attributes = span.attributes or {}
    assert attributes[GATEWAY + "stream.closed_early"] is True
    assert span.status.status_code is StatusCode.UNSET
    assert "gen_ai.response.finish_reasons" not in attributes
    assert attributes[GATEWAY + "log_id"]


class Stall(httpx.AsyncByteStream):
    """A stream body that sends one event, then nothing."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield sse({"response": "Hel"})
        await anyio.sleep_forever()


@BOTH
async def test_a_cancelled_stream_ends_its_span_as_cancelled(telemetry: Telemetry) -> None:
    recorder = Recorder(httpx.Response(200, stream=Stall(), headers=SSE))
    seen: list[object] = []
    async with binding_for(recorder) as b:
        with anyio.move_on_after(0.3):
            async for part in b.model(MODEL).stream_text(prompt="hi"):
                seen.append(part)
    assert any(type(p) is TextDelta for p in seen)
    (span,) = telemetry.spans()
    assert span.status.status_code is StatusCode.ERROR
    attributes = span.attributes or {}
    assert attributes["error.type"] == "cancelled"
    assert attributes[GATEWAY + "log_id"] == "01STREAM"
    (duration,) = telemetry.points("gen_ai.client.operation.duration")
    assert duration.attributes["error.type"] == "cancelled"


@BOTH
async def test_a_failed_stream_ends_its_span_with_the_reason(telemetry: Telemetry) -> None:
    cut = httpx.Response(200, content=sse({"response": "Hel"}) + b"data: {broken\n\n", headers=SSE)
    limited = httpx.Response(429, json={"success": False, "errors": []})
    async with binding_for(Recorder(cut, limited), retry=NO_RETRY) as b:
        lm = b.model(MODEL)
        with pytest.raises(AiError) as mid:
            await lm.stream_text(prompt="hi").collect()
        with pytest.raises(AiError) as opening:
            await lm.stream_text(prompt="hi").collect()
    failed_mid, failed_opening = telemetry.spans()
    assert (failed_mid.attributes or {})["error.type"] == mid.value.reason.tag
    assert (failed_opening.attributes or {})["error.type"] == "RateLimited"
    assert opening.value.reason.tag == "RateLimited"
    for span in (failed_mid, failed_opening):
        assert span.status.status_code is StatusCode.ERROR


async def weather(city: str) -> dict[str, Any]:
    """The weather in a city.

    Args:
        city: The city's name.
    """
    return {"city": city, "temp_c": 21}


async def broken(city: str) -> str:
    """Always fails.

    Args:
        city: The city's name.
    """
    raise RuntimeError("down")


@BOTH
async def test_each_tool_call_has_a_span(gateway: LocalGateway, telemetry: Telemetry) -> None:
    toolkit = Toolkit(Tool.from_function(weather, name="get_weather"))
    async with binding(gateway) as b:
        response = await b.model(MODEL).generate_text(
            prompt="Use get_weather for city=Paris, please.", toolkit=toolkit
        )
    names = [s.name for s in telemetry.spans()]
    assert names == [f"chat {MODEL}", "execute_tool get_weather", f"chat {MODEL}"]
    tool_span = telemetry.spans()[1]
    (call,) = response.steps[0].tool_calls
    assert tool_span.kind is SpanKind.INTERNAL
    assert dict(tool_span.attributes or {}) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "get_weather",
        "gen_ai.tool.call.id": call.id,
        "gen_ai.tool.type": "function",
    }
    first = telemetry.spans()[0].attributes or {}
    assert first["gen_ai.response.finish_reasons"] == ("tool_calls",)


async def test_a_failed_tool_is_an_error_span_and_the_fake_model_makes_no_chat_span(
    telemetry: Telemetry,
) -> None:
    fake = FakeLanguageModel(
        script=[tool_calls_reply(_call("c1", "get_weather")), "sorry, it failed"]
    )
    toolkit = Toolkit(Tool.from_function(broken, name="get_weather"))
    response = await fake.generate_text(prompt="hi", toolkit=toolkit, on_tool_error="return")
    assert response.text == "sorry, it failed"
    (span,) = telemetry.spans()  # the fake is not a client call: no chat span
    assert span.name == "execute_tool get_weather"
    assert span.status.status_code is StatusCode.ERROR
    attributes = span.attributes or {}
    assert attributes["error.type"] == "ToolFailed"
    assert attributes["gen_ai.tool.call.id"] == "c1"


def _call(call_id: str, name: str) -> Any:
    from aigateway_sdk.content import ToolCall

    return ToolCall(id=call_id, name=name, arguments={"city": "Paris"})


@BOTH
async def test_embed_has_an_embeddings_span(gateway: LocalGateway, telemetry: Telemetry) -> None:
    model = "@cf/baai/bge-small-en-v1.5"
    async with binding(gateway) as b:
        response = await b.embedding_model(model, batch_size=2).embed(["a", "b", "c"])
    (span,) = telemetry.spans()
    assert span.name == f"embeddings {model}"
    attributes = span.attributes or {}
    assert attributes["gen_ai.operation.name"] == "embeddings"
    assert attributes["gen_ai.usage.input_tokens"] == response.usage.input_tokens.total
    assert attributes["gen_ai.embeddings.dimension.count"] == response.dimensions
    assert attributes[GATEWAY + "log_ids"] == response.log_ids
    assert len(response.log_ids) == 2
    (tokens,) = telemetry.points("gen_ai.client.token.usage")
    assert tokens.attributes["gen_ai.token.type"] == "input"


async def test_nothing_once_uninstrumented(gateway: LocalGateway, telemetry: Telemetry) -> None:
    uninstrument()
    async with binding(gateway) as b:
        await b.model(MODEL).generate_text(prompt="hi")
        await b.model(MODEL).stream_text(prompt="hi").collect()
    assert telemetry.spans() == []
    assert telemetry.points("gen_ai.client.operation.duration") == []


@BOTH
async def test_a_stream_span_names_the_model_its_chunks_named(telemetry: Telemetry) -> None:
    # Through a dynamic route the reply names the model that served it, not the id asked for.
    frame = {
        "id": "chatcmpl-1",
        "model": "workers-ai/@cf/meta/llama-3.3-70b-instruct-fp8-fast",
        "choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": "stop"}],
    }
    reply = httpx.Response(200, content=sse(frame, "[DONE]"), headers=SSE)
    async with binding_for(Recorder(reply)) as b:
        whole = await b.model("dynamic/assistant").stream_text(prompt="hi").collect()
    assert whole.model == frame["model"]
    assert whole.response_id == "chatcmpl-1"
    (span,) = telemetry.spans()
    attributes = span.attributes or {}
    assert attributes["gen_ai.request.model"] == "dynamic/assistant"
    assert attributes["gen_ai.response.model"] == frame["model"]
    assert attributes["gen_ai.response.id"] == "chatcmpl-1"
