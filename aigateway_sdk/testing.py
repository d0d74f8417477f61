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

import hashlib
import math
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Literal, TypeAlias

import attrs
from dependency_injector import providers

from aigateway_sdk.embedding import EmbedInput, EmbedResponse, to_texts
from aigateway_sdk.errors import AiError
from aigateway_sdk.options import GatewayOptions
from aigateway_sdk.parameters import (
    ModelParameters,
    ParametersInput,
    to_extra_body,
    to_extra_headers,
    to_parameters,
)
from aigateway_sdk.parts import Finish, ResponseMetadata, StreamPart, TextDelta, TextEnd, TextStart
from aigateway_sdk.prompt import Message, PromptInput, to_messages
from aigateway_sdk.response import GenerateTextResponse, InputTokens, OutputTokens, Usage
from aigateway_sdk.result import AiCall, AiStream

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


class FakeLanguageModel:
    """A `LanguageModel` that answers from a script and records every call in `calls`."""

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

    def _record(
        self,
        kind: Literal["generate", "stream"],
        prompt: PromptInput,
        parameters: ModelParameters | None,
        options: GatewayOptions | None,
        extra: tuple[dict[str, Any] | None, dict[str, str] | None] = (None, None),
    ) -> None:
        self.calls.append(FakeCall(kind, to_messages(prompt), parameters, options, *extra))

    def generate_text(
        self,
        prompt: PromptInput,
        *,
        parameters: ParametersInput | None = None,
        options: GatewayOptions | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> AiCall[GenerateTextResponse]:
        parameters = to_parameters(parameters)
        extra = (to_extra_body(extra_body), to_extra_headers(extra_headers))

        async def run() -> GenerateTextResponse:
            self._record("generate", prompt, parameters, options, extra)
            entry = self._take()
            if isinstance(entry, AiError):
                raise entry
            if isinstance(entry, GenerateTextResponse):
                return entry
            if isinstance(entry, str):
                usage = Usage(
                    InputTokens(sum(_words(m.text) for m in to_messages(prompt))),
                    OutputTokens(_words(entry)),
                )
                return GenerateTextResponse(
                    text=entry, usage=usage, finish_reason="stop", model=self.model
                )
            for part in entry:
                if isinstance(part, AiError):
                    raise part
            text = "".join(p.delta for p in entry if isinstance(p, TextDelta))
            return GenerateTextResponse(text=text, finish_reason="stop", model=self.model)

        return AiCall(run)

    def stream_text(
        self,
        prompt: PromptInput,
        *,
        parameters: ParametersInput | None = None,
        options: GatewayOptions | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> AiStream:
        parameters = to_parameters(parameters)
        extra = (to_extra_body(extra_body), to_extra_headers(extra_headers))

        async def run() -> AsyncIterator[StreamPart]:
            self._record("stream", prompt, parameters, options, extra)
            entry = self._take()
            if isinstance(entry, AiError):
                raise entry
            parts: Sequence[StreamPart | AiError]
            if isinstance(entry, GenerateTextResponse):
                parts = text_parts(entry.text, model=self.model)
            elif isinstance(entry, str):
                parts = text_parts(entry, model=self.model)
            else:
                parts = entry
            for part in parts:
                if isinstance(part, AiError):  # a failure in the middle of a scripted stream
                    raise part
                yield part

        return AiStream(run)


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
    "text_parts",
]
