"""OpenTelemetry GenAI spans and metrics for model calls, streams, tool calls and embeddings.

Imported only by `instrument()` (it imports `opentelemetry`, from the `otel` extra). Spans and
attribute names follow the OpenTelemetry GenAI semantic conventions
(https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/); what the gateway itself says
about a reply is under `cloudflare.ai_gateway.*`. See docs/observability.md for the table.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Coroutine, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import httpx
from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from aigateway_sdk.errors import AiError
from aigateway_sdk.observe import hooks
from aigateway_sdk.parts import Finish, ResponseMetadata, TextDelta

if TYPE_CHECKING:
    from aigateway_sdk.embedding import EmbedResponse, GatewayEmbeddingModel
    from aigateway_sdk.gateway_model import CallSettings, GatewayLanguageModel
    from aigateway_sdk.parts import StreamPart
    from aigateway_sdk.response import GenerateTextResponse, Usage

T = TypeVar("T")
Attributes = dict[str, Any]
_Points = tuple[Attributes, Attributes, Attributes]
"""A call's metric attributes: the duration's, the input tokens', the output tokens'."""

GATEWAY = "cloudflare.ai_gateway."
"""The prefix of the gateway's own attributes: `log_id`, `cache_status`, `step`, `log_ids`,
`stream.closed_early`."""

CANCELLED = "cancelled"
"""`error.type` of a call whose task was cancelled (asyncio or trio alike)."""

WORKERS_AI = "cloudflare.workers_ai"
"""`gen_ai.provider.name` of a Workers AI model (no well-known value exists)."""

PROVIDERS = {
    "openai": "openai",
    "anthropic": "anthropic",
    "google-ai-studio": "gcp.gen_ai",
    "google-vertex-ai": "gcp.vertex_ai",
    "aws-bedrock": "aws.bedrock",
    "azure-openai": "azure.ai.openai",
    "cohere": "cohere",
    "deepseek": "deepseek",
    "groq": "groq",
    "mistral": "mistral_ai",
    "perplexity-ai": "perplexity",
    "grok": "x_ai",
    "workers-ai": WORKERS_AI,
}
"""The gateway's provider slugs (the compat route's `provider/model`) as the conventions'
well-known `gen_ai.provider.name` values; other slugs are used as they are."""

DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48)
TOKEN_BUCKETS = tuple(4.0**n for n in range(14))
"""The bucket boundaries the conventions advise (1, 4, 16, ... 4**13)."""

PARAMETERS = {
    "temperature": "gen_ai.request.temperature",
    "max_tokens": "gen_ai.request.max_tokens",
    "top_p": "gen_ai.request.top_p",
    "top_k": "gen_ai.request.top_k",
    "seed": "gen_ai.request.seed",
    "frequency_penalty": "gen_ai.request.frequency_penalty",
    "presence_penalty": "gen_ai.request.presence_penalty",
}


def provider_name(route: str, model: str) -> str:
    """`gen_ai.provider.name` for a model id on a route."""
    if route != "compat":
        return WORKERS_AI
    slug = model.partition("/")[0]
    return PROVIDERS.get(slug, slug)


def error_type(error: BaseException) -> str:
    """`error.type`: the `AiError` reason's class name, "cancelled", or the exception's name."""
    if isinstance(error, AiError):
        return error.reason.tag
    try:
        cancelled = isinstance(error, anyio.get_cancelled_exc_class())
    except Exception:  # no async library running (not from a call)
        cancelled = False
    return CANCELLED if cancelled else type(error).__qualname__
    return type(error).__qualname__


def _server(url: str | httpx.URL) -> Attributes:
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return {}
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return {"server.address": parsed.host, "server.port": port}


def _finish_reason(reason: str) -> str:
    return reason.replace("-", "_")  # "tool-calls" -> "tool_calls", as OpenAI names it


class Tracing:
    """The instrumentation `instrument()` installs: a tracer and the two GenAI histograms."""

    def __init__(self, tracer: trace.Tracer, meter: metrics.Meter) -> None:
        self._tracer = tracer
        self._duration = _histogram(
            meter,
            "gen_ai.client.operation.duration",
            "s",
            "GenAI operation duration",
            DURATION_BUCKETS,
        )
        self._tokens = _histogram(
            meter,
            "gen_ai.client.token.usage",
            "{token}",
            "Measures number of input and output tokens used",
            TOKEN_BUCKETS,
        )
        self._static: dict[tuple[int, Any], tuple[object, object, Attributes]] = {}
        """The request attributes of each (model, call parameters): read-only once built."""
        self._embedding: dict[int, tuple[object, str, Attributes]] = {}
        """The request attributes of each embedding model: read-only once built."""
        self._points: dict[tuple[int, str | None], tuple[Attributes, _Points]] = {}
        """The metric attributes of each (request attributes, response model): read-only."""

    # -- attributes ----------------------------------------------------------------------

    def _chat_attributes(self, model: GatewayLanguageModel, settings: CallSettings) -> Attributes:
        # Keyed by the identity of the model's parsed URL, which the entry keeps alive (so no
        # other object can take its id), and checked against the model's parameters object.
        url = model._url
        key = (id(url), settings.parameters)
        entry = self._static.get(key)
        if entry is not None and entry[0] is url and entry[1] is model.parameters:
            return entry[2]
        cached = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": provider_name(model.route, model.model),
            "gen_ai.request.model": model.model,
            **_server(model._url),
        }
        parameters = model.parameters.merged(settings.parameters)
        for name, attribute in PARAMETERS.items():
            value = getattr(parameters, name)
            if value is not None:
                cached[attribute] = value
        if parameters.stop is not None:
            stop = parameters.stop
            cached["gen_ai.request.stop_sequences"] = [stop] if isinstance(stop, str) else stop
        if len(self._static) < 256:  # a few models per program; bounded all the same
            self._static[key] = (url, model.parameters, cached)
        return cached

    def _embed_attributes(self, model: GatewayEmbeddingModel) -> Attributes:
        url = model._url  # the same identity check as `_chat_attributes`
        entry = self._embedding.get(id(url))
        if entry is not None and entry[0] is url and entry[1] == model.model:
            return entry[2]
        cached: Attributes = {
            "gen_ai.operation.name": "embeddings",
            "gen_ai.provider.name": provider_name(model.route, model.model),
            "gen_ai.request.model": model.model,
            **_server(url),
        }
        if len(self._embedding) < 256:
            self._embedding[id(url)] = (url, model.model, cached)
        return cached

    async def _traced(
        self, name: str, attributes: Attributes, call: Coroutine[Any, Any, T]
    ) -> tuple[T, Span, float]:
        """`call` awaited inside a new client span `name`, current while it runs; a failure
        ends the span as failed. The result, the span (still open) and when it started."""
        span = self._tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes)
        started = time.perf_counter()
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            response = await call
        except BaseException as error:
            self._failed(span, error, attributes, started)
            raise
        finally:
            otel_context.detach(token)
        return response, span, started

    # -- chat ----------------------------------------------------------------------------

    async def chat(
        self,
        model: GatewayLanguageModel,
        settings: CallSettings,
        call: Coroutine[Any, Any, GenerateTextResponse],
    ) -> GenerateTextResponse:
        """One model call, inside a `chat {model}` span."""
        attributes = self._chat_attributes(model, settings)
        response, span, started = await self._traced(f"chat {model.model}", attributes, call)
        self._done(
            span,
            attributes,
            started,
            response.model,
            response.response_id,
            response.finish_reason,
            response.usage,
            _gateway(response.log_id, response.cache_status, response.step),
        )
        return response

    async def stream(
        self,
        model: GatewayLanguageModel,
        settings: CallSettings,
        parts: AsyncIterator[StreamPart],
    ) -> AsyncIterator[StreamPart]:
        """One streamed model call, inside a `chat {model}` span that ends when the stream
        ends, fails, is closed early or its task is cancelled."""
        attributes = self._chat_attributes(model, settings)
        span = self._tracer.start_span(
            f"chat {model.model}", kind=SpanKind.CLIENT, attributes=attributes
        )
        started = time.perf_counter()
        answered: str | None = None
        response_id: str | None = None
        finish: Finish | None = None
        gateway: Attributes | None = None
        try:
            # The request is sent on the first step: only it runs with the span current.
            token = otel_context.attach(trace.set_span_in_context(span))
            try:
                part = await anext(parts)
            finally:
                otel_context.detach(token)
            while True:
                kind = type(part)
                if kind is not TextDelta:
                    if kind is ResponseMetadata:
                        meta: ResponseMetadata = part  # type: ignore[assignment]
                        answered, response_id = meta.model, meta.response_id
                        gateway = _gateway(meta.log_id, meta.cache_status, meta.step)
                    elif kind is Finish:
                        finish = part  # type: ignore[assignment]
                        answered = finish.model or answered  # type: ignore[union-attr]
                        response_id = finish.response_id or response_id  # type: ignore[union-attr]
                yield part
                part = await anext(parts)
        except StopAsyncIteration:
            self._done(
                span,
                attributes,
                started,
                answered,
                response_id,
                finish.reason if finish is not None else None,
                finish.usage if finish is not None else None,
                gateway,
            )
        except GeneratorExit:  # the caller left the stream before its end
            gateway = {**(gateway or {}), GATEWAY + "stream.closed_early": True}
            self._done(span, attributes, started, answered, response_id, None, None, gateway)
            raise
        except BaseException as error:
            self._failed(span, error, attributes, started, gateway)
            raise
        finally:
            aclose = getattr(parts, "aclose", None)
            if aclose is not None:
                await aclose()

    # -- embeddings ----------------------------------------------------------------------

    async def embed(
        self, model: GatewayEmbeddingModel, call: Coroutine[Any, Any, EmbedResponse]
    ) -> EmbedResponse:
        """`embed(texts)` (every batch), inside an `embeddings {model}` span."""
        attributes = self._embed_attributes(model)
        name = f"embeddings {model.model}"
        response, span, started = await self._traced(name, attributes, call)
        extra = _gateway(response.log_id, response.cache_status, None)
        if len(response.log_ids) > 1:
            extra[GATEWAY + "log_ids"] = list(response.log_ids)
        if response.dimensions is not None:
            extra["gen_ai.embeddings.dimension.count"] = response.dimensions
        self._done(span, attributes, started, response.model, None, None, response.usage, extra)
        return response

    # -- tools ---------------------------------------------------------------------------

    async def tool(self, name: str, call_id: str, call: Coroutine[Any, Any, T]) -> T:
        """One tool handler, inside an `execute_tool {name}` span; a failure the runner
        returns (not raises) carries its reason, whose class name is `error.type`."""
        span = self._tracer.start_span(
            f"execute_tool {name}",
            kind=SpanKind.INTERNAL,
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": name,
                "gen_ai.tool.call.id": call_id,
                "gen_ai.tool.type": "function",
            },
        )
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            outcome = await call
        except BaseException as error:
            _error(span, error_type(error), str(error))
            span.end()
            raise
        finally:
            otel_context.detach(token)
        reason = getattr(outcome, "reason", None)  # a failure (tools.run._Failure)
        if reason is not None:
            _error(span, reason.tag, reason.message)
        span.end()
        return outcome

    # -- endings -------------------------------------------------------------------------

    def _done(
        self,
        span: Span,
        attributes: Attributes,
        started: float,
        response_model: str | None,
        response_id: str | None,
        finish_reason: str | None,
        usage: Usage | None,
        gateway: Attributes | None,
    ) -> None:
        ended: Attributes = gateway if gateway is not None else {}
        if response_model:
            ended["gen_ai.response.model"] = response_model
        if response_id:
            ended["gen_ai.response.id"] = response_id
        if finish_reason is not None:
            ended["gen_ai.response.finish_reasons"] = [_finish_reason(finish_reason)]
        if usage is not None:
            ended["gen_ai.usage.input_tokens"] = usage.input_tokens.total
            ended["gen_ai.usage.output_tokens"] = usage.output_tokens.total
            if usage.input_tokens.cached is not None:
                ended["gen_ai.usage.cache_read.input_tokens"] = usage.input_tokens.cached
        if span.is_recording():
            span.set_attributes(ended)
        span.end()
        measured, measured_input, measured_output = self._measured(attributes, response_model)
        self._duration.record(time.perf_counter() - started, measured)
        if usage is not None:
            self._tokens.record(usage.input_tokens.total, measured_input)
            if attributes["gen_ai.operation.name"] != "embeddings":
                self._tokens.record(usage.output_tokens.total, measured_output)

    def _measured(self, attributes: Attributes, response_model: str | None) -> _Points:
        """The attributes of a call's three histogram points, built once per (request
        attributes, response model) and shared by every call after: read-only. Keyed by the
        identity of `attributes` (a cached dict for chat and embeddings), which the entry keeps
        alive."""
        key = (id(attributes), response_model)
        entry = self._points.get(key)
        if entry is not None and entry[0] is attributes:
            return entry[1]
        measured = _measured(attributes, response_model)
        points = (
            measured,
            {**measured, "gen_ai.token.type": "input"},
            {**measured, "gen_ai.token.type": "output"},
        )
        if len(self._points) < 256:  # a few models per program; bounded all the same
            self._points[key] = (attributes, points)
        return points

    def _failed(
        self,
        span: Span,
        error: BaseException,
        attributes: Attributes,
        started: float,
        gateway: Attributes | None = None,
    ) -> None:
        kind = error_type(error)
        if gateway:
            span.set_attributes(gateway)
        if isinstance(error, AiError):
            reason = error.reason
            if reason.log_id is not None:
                span.set_attribute(GATEWAY + "log_id", reason.log_id)
            if reason.status is not None:
                span.set_attribute("http.response.status_code", reason.status)
            _error(span, kind, reason.message)
        else:
            _error(span, kind, str(error) if kind != CANCELLED else "")
        span.end()
        measured = _measured(attributes, None)
        measured["error.type"] = kind
        self._duration.record(time.perf_counter() - started, measured)


_MEASURED = (
    "gen_ai.operation.name",
    "gen_ai.provider.name",
    "gen_ai.request.model",
    "server.address",
    "server.port",
)
"""The span attributes the metrics carry too (low cardinality)."""


def _measured(attributes: Mapping[str, Any], response_model: str | None) -> Attributes:
    measured = {key: attributes[key] for key in _MEASURED if key in attributes}
    if response_model:
        measured["gen_ai.response.model"] = response_model
    return measured


def _gateway(log_id: str | None, cache_status: str | None, step: int | None) -> Attributes:
    """What the gateway said about a reply (its `cf-aig-*` headers), as span attributes."""
    found: Attributes = {}
    if log_id is not None:
        found[GATEWAY + "log_id"] = log_id
    if cache_status is not None:
        found[GATEWAY + "cache_status"] = cache_status
    if step is not None:
        found[GATEWAY + "step"] = step
    return found


def _error(span: Span, kind: str, description: str) -> None:
    span.set_attribute("error.type", kind)
    span.set_status(Status(StatusCode.ERROR, description[:300] or kind))


def _histogram(
    meter: metrics.Meter, name: str, unit: str, description: str, buckets: Sequence[float]
) -> metrics.Histogram:
    try:
        return meter.create_histogram(
            name, unit=unit, description=description, explicit_bucket_boundaries_advisory=buckets
        )
    except TypeError:  # an opentelemetry-api older than the advisory (1.23)
        return meter.create_histogram(name, unit=unit, description=description)


def instrument(
    tracer_provider: trace.TracerProvider | None = None,
    meter_provider: metrics.MeterProvider | None = None,
) -> Tracing:
    """Trace every model call, stream, tool call and `embed` from now on, with the given
    providers (the global ones by default, as `opentelemetry.trace.set_tracer_provider` set
    them). Calling it again replaces the instrumentation. Returns it."""
    from aigateway_sdk import __version__

    tracer = trace.get_tracer("aigateway_sdk", __version__, tracer_provider=tracer_provider)
    meter = metrics.get_meter("aigateway_sdk", __version__, meter_provider=meter_provider)
    hooks.tracing = Tracing(tracer, meter)
    return hooks.tracing


def uninstrument() -> None:
    """Stop tracing: calls made from now on create no spans and record no metrics."""
    hooks.tracing = None


__all__ = [
    "CANCELLED",
    "GATEWAY",
    "Tracing",
    "error_type",
    "instrument",
    "provider_name",
    "uninstrument",
]
