"""Test doubles: a scripted `LanguageModel` that records its calls, and an override helper.

    fake = FakeLanguageModel(text="hi")
    with override_model(Container.language_model, fake):
        assert (await handler())["text"] == "hi"
    assert fake.calls[0].prompt[0].content == "Say hello."

`override_model` takes the class provider (`Container.language_model`) or a container's
(`container.language_model`); for providers made by `AiGatewayBinding(...).model(...)` the class
override also reaches containers built before it. The fake checks its input like the real model
(a blank prompt raises `AiError(InvalidRequest)`, a bad `parameters` dict, `extra_body` or
`extra_headers` `ValidationError`) and records `extra_body` / `extra_headers` as checked.

A script entry is text (a reply), a `GenerateTextResponse`, a list of stream parts, or an
`AiError` (raised). Entries are used in order; the last one repeats.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Literal, TypeAlias, TypeVar

import attrs
from dependency_injector import providers

from aigateway_sdk.calls import (
    SchemaSpec,
    generate,
    generate_structured,
    object_request,
    stream,
    tool_use,
)
from aigateway_sdk.content import ToolCall
from aigateway_sdk.embedding import EmbedInput, EmbedResponse, to_texts
from aigateway_sdk.errors import AiError
from aigateway_sdk.model import DEFAULT_MAX_STEPS, ToolErrorMode
from aigateway_sdk.options import GatewayOptions
from aigateway_sdk.parameters import (
    ModelParameters,
    ParametersInput,
    to_extra_body,
    to_extra_headers,
    to_parameters,
)
from aigateway_sdk.parts import (
    Finish,
    ResponseMetadata,
    StreamPart,
    TextDelta,
    TextEnd,
    TextStart,
    ToolCallPart,
    ToolParamsDelta,
    ToolParamsEnd,
    ToolParamsStart,
)
from aigateway_sdk.prompt import Message, PromptInput
from aigateway_sdk.request import OutputFormat, ToolsRequest
from aigateway_sdk.response import (
    EMPTY_USAGE,
    FinishReason,
    GenerateObjectResponse,
    GenerateTextResponse,
    InputTokens,
    OutputTokens,
    Usage,
)
from aigateway_sdk.result import AiCall, AiStream
from aigateway_sdk.tools import Toolkit

T = TypeVar("T")

ScriptEntry: TypeAlias = str | GenerateTextResponse | Sequence[StreamPart | AiError] | AiError
"""A reply; a stream (an `AiError` inside it fails the stream there); or a failure."""


@attrs.frozen(slots=True)
class FakeCall:
    """One recorded call."""

    kind: Literal["generate", "stream"]
    prompt: tuple[Message, ...]
    parameters: ModelParameters | None
    options: GatewayOptions | None
    extra_body: Mapping[str, Any] | None = None
    extra_headers: Mapping[str, str] | None = None
    tools: ToolsRequest | None = None
    """The tools offered to this call (their definitions and the tool choice)."""
    output: OutputFormat | None = None
    """The JSON asked for (`generate_object`)."""


def _words(text: str) -> int:
    return len(text.split())


def text_parts(text: str, *, model: str = "fake", chunk: int = 1) -> list[StreamPart]:
    """The parts a real stream of `text` would give, one word (or `chunk` words) a delta."""
    words = text.split(" ")
    deltas = [
        " ".join(words[i : i + chunk]) + (" " if i + chunk < len(words) else "")
        for i in range(0, len(words), chunk)
    ]
    usage = Usage(InputTokens(0), OutputTokens(_words(text)))
    return [
        ResponseMetadata(model=model),
        TextStart(),
        *(TextDelta(d) for d in deltas if d),
        TextEnd(),
        Finish(reason="stop", usage=usage),
    ]


def tool_calls_reply(*calls: ToolCall, text: str = "", model: str = "fake") -> GenerateTextResponse:
    """A scripted reply asking for `calls` (finish reason "tool-calls"): `ToolCall`s, e.g.
    `ToolCall.of("call_1", "get_weather", {"city": "Lisbon"})`."""
    for call in calls:
        if not isinstance(call, ToolCall):
            raise TypeError(
                f"tool_calls_reply takes ToolCall values (ToolCall.of(id, name, arguments)), "
                f"got {type(call).__name__}"
            )
    return GenerateTextResponse(
        text=text, tool_calls=tuple(calls), finish_reason="tool-calls", model=model
    )


def response_parts(response: GenerateTextResponse) -> list[StreamPart]:
    """The parts a real stream of `response` would give: its text one word a delta, then its
    tool calls (arguments in one delta each), then `Finish`."""
    parts = text_parts(response.text, model=response.model)[:-1] if response.text else []
    if not parts:
        parts = [ResponseMetadata(model=response.model)]
    for call in response.tool_calls:
        parts += [
            ToolParamsStart(id=call.id, name=call.name),
            ToolParamsDelta(call.id, call.arguments_json),
            ToolParamsEnd(call.id),
            ToolCallPart(call),
        ]
    usage = response.usage
    if usage == EMPTY_USAGE:
        usage = Usage(InputTokens(0), OutputTokens(_words(response.text)))
    return [*parts, Finish(reason=response.finish_reason, usage=usage)]


class FakeLanguageModel:
    """A `LanguageModel` that answers from a script and records every model call in `calls`
    (a tool loop or a repaired `generate_object` records one call per step)."""

    def __init__(
        self,
        text: str | None = None,
        *,
        script: Sequence[ScriptEntry] | None = None,
        error: AiError | None = None,
        parts: Sequence[StreamPart | AiError] | None = None,
        model: str = "fake",
    ) -> None:
        entries: list[ScriptEntry] = list(script or [])
        if text is not None:
            entries.append(text)
        if parts is not None:
            entries.append(list(parts))
        if error is not None:
            entries.append(error)
        self.script: list[ScriptEntry] = entries or ["ok"]
        self._next = 0
        self.model = model
        self.calls: list[FakeCall] = []

    @property
    def model_id(self) -> str:
        return self.model

    def _take(self) -> ScriptEntry:
        entry = self.script[min(self._next, len(self.script) - 1)]
        self._next += 1
        return entry

    def _settings(
        self,
        parameters: ParametersInput | None,
        extra_body: Mapping[str, Any] | None,
        extra_headers: Mapping[str, str] | None,
    ) -> tuple[ModelParameters | None, dict[str, Any] | None, dict[str, str] | None]:
        return to_parameters(parameters), to_extra_body(extra_body), to_extra_headers(extra_headers)

    def _reply(self, messages: tuple[Message, ...], entry: ScriptEntry) -> GenerateTextResponse:
        if isinstance(entry, AiError):
            raise entry
        if isinstance(entry, GenerateTextResponse):
            return entry
        if isinstance(entry, str):
            usage = Usage(
                InputTokens(sum(_words(m.text) for m in messages)), OutputTokens(_words(entry))
            )
            return GenerateTextResponse(
                text=entry, usage=usage, finish_reason="stop", model=self.model
            )
        for part in entry:
            if isinstance(part, AiError):
                raise part
        text = "".join(p.delta for p in entry if isinstance(p, TextDelta))
        calls = tuple(p.call for p in entry if isinstance(p, ToolCallPart))
        reason: FinishReason = "tool-calls" if calls else "stop"
        return GenerateTextResponse(
            text=text, tool_calls=calls, finish_reason=reason, model=self.model
        )

    def _one(
        self,
        kind: Literal["generate", "stream"],
        settings: tuple[ModelParameters | None, dict[str, Any] | None, dict[str, str] | None],
        options: GatewayOptions | None,
    ) -> Any:
        parameters, extra_body, extra_headers = settings

        def record(
            messages: tuple[Message, ...], tools: ToolsRequest | None, output: OutputFormat | None
        ) -> None:
            self.calls.append(
                FakeCall(
                    kind, messages, parameters, options, extra_body, extra_headers, tools, output
                )
            )

        if kind == "generate":

            async def call(
                messages: tuple[Message, ...],
                tools: ToolsRequest | None,
                output: OutputFormat | None,
            ) -> GenerateTextResponse:
                record(messages, tools, output)
                return self._reply(messages, self._take())

            return call

        async def parts(
            messages: tuple[Message, ...], tools: ToolsRequest | None, output: OutputFormat | None
        ) -> AsyncIterator[StreamPart]:
            record(messages, tools, output)
            entry = self._take()
            if isinstance(entry, AiError):
                raise entry
            scripted: Sequence[StreamPart | AiError]
            if isinstance(entry, GenerateTextResponse):
                scripted = response_parts(entry)
            elif isinstance(entry, str):
                scripted = text_parts(entry, model=self.model)
            else:
                scripted = entry
            for part in scripted:
                if isinstance(part, AiError):  # a failure in the middle of a scripted stream
                    raise part
                yield part

        return parts

    def generate_text(
        self,
        prompt: PromptInput,
        *,
        parameters: ParametersInput | None = None,
        options: GatewayOptions | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        toolkit: Toolkit | None = None,
        tool_choice: str | None = None,
        max_steps: int = DEFAULT_MAX_STEPS,
        on_tool_error: ToolErrorMode = "raise",
        tool_timeout: float | None = None,
    ) -> AiCall[GenerateTextResponse]:
        settings = self._settings(parameters, extra_body, extra_headers)
        use = tool_use(toolkit, tool_choice, max_steps, on_tool_error, tool_timeout)
        one = self._one("generate", settings, options)
        return AiCall(functools.partial(generate, one, prompt, use))

    def stream_text(
        self,
        prompt: PromptInput,
        *,
        parameters: ParametersInput | None = None,
        options: GatewayOptions | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        toolkit: Toolkit | None = None,
        tool_choice: str | None = None,
        max_steps: int = DEFAULT_MAX_STEPS,
        on_tool_error: ToolErrorMode = "raise",
        tool_timeout: float | None = None,
    ) -> AiStream:
        settings = self._settings(parameters, extra_body, extra_headers)
        use = tool_use(toolkit, tool_choice, max_steps, on_tool_error, tool_timeout)
        one = self._one("stream", settings, options)
        return AiStream(functools.partial(stream, one, prompt, use), loop=use is not None)

    def generate_object(
        self,
        prompt: PromptInput,
        *,
        schema: SchemaSpec[T],
        repairs: int = 0,
        strict: bool = False,
        parameters: ParametersInput | None = None,
        options: GatewayOptions | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> AiCall[GenerateObjectResponse[T]]:
        """Scripted text is the model's JSON: `FakeLanguageModel('{"city": "Paris"}')`."""
        settings = self._settings(parameters, extra_body, extra_headers)
        request = object_request(schema, repairs, strict)
        one = self._one("generate", settings, options)
        return AiCall(functools.partial(generate_structured, one, prompt, request))


@contextmanager
def override_model(provider: Any, model: Any) -> Iterator[Any]:
    """Swap a model provider (`Container.language_model` or `container.language_model`) for
    `model` within the block."""
    with provider.override(providers.Object(model)):
        yield model


def fake_vector(model: str, text: str, dimensions: int) -> tuple[float, ...]:
    """A deterministic unit-length vector for `text` under `model`."""
    values: list[float] = []
    counter = 0
    while len(values) < dimensions:
        block = hashlib.sha256(f"{model}\x00{text}\x00{counter}".encode()).digest()
        values.extend(byte / 127.5 - 1.0 for byte in block)
        counter += 1
    values = values[:dimensions]
    norm = math.sqrt(math.fsum(v * v for v in values)) or 1.0
    return tuple(v / norm for v in values)


@attrs.frozen(slots=True)
class FakeEmbedCall:
    """One recorded `embed` call: the texts as checked, and the call's options."""

    texts: tuple[str, ...]
    options: GatewayOptions | None


class FakeEmbeddingModel:
    """An `EmbeddingModel` that answers `fake_vector`s of `dimensions` (same text, same
    vector) and records its calls; with `error`, every call raises it. It checks texts like
    the real model (an empty text raises `AiError(InvalidRequest)`)."""

    def __init__(
        self, model: str = "fake-embedding", *, dimensions: int = 8, error: AiError | None = None
    ) -> None:
        self.model = model
        self.dimensions = dimensions
        self.error = error
        self.calls: list[FakeEmbedCall] = []

    @property
    def model_id(self) -> str:
        return self.model

    def embed(
        self, texts: EmbedInput, *, options: GatewayOptions | None = None
    ) -> AiCall[EmbedResponse]:
        async def run() -> EmbedResponse:
            items = to_texts(texts)
            self.calls.append(FakeEmbedCall(items, options))
            if self.error is not None:
                raise self.error
            return EmbedResponse(
                vectors=tuple(fake_vector(self.model, t, self.dimensions) for t in items),
                usage=Usage(InputTokens(sum(_words(t) for t in items))),
                model=self.model,
            )

        return AiCall(run)


__all__ = [
    "FakeCall",
    "FakeEmbedCall",
    "FakeEmbeddingModel",
    "FakeLanguageModel",
    "ScriptEntry",
    "fake_vector",
    "override_model",
    "response_parts",
    "text_parts",
    "tool_calls_reply",
]
