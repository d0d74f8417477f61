"""The upstream contract: a provider-neutral chat request in, a completion or a stream out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol, runtime_checkable

import attrs


@attrs.frozen(slots=True)
class Message:
    role: str
    content: str


@attrs.frozen(slots=True)
class ChatRequest:
    """A model call, whatever wire shape it arrived in.

    `provider` and `model` as the caller named them (`workers-ai`, `@cf/meta/...`). `params`
    holds the sampling parameters as given (temperature, top_p, seed, ...), sorted, for
    forwarding and for the built-in model's seed.
    """

    provider: str
    model: str
    messages: tuple[Message, ...]
    max_tokens: int | None = None
    stream: bool = False
    params: tuple[tuple[str, Any], ...] = ()
    authorization: str | None = None
    """The caller's provider `Authorization` header (forwarded when a route has no key)."""


@attrs.frozen(slots=True)
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str = "stop"


@attrs.frozen(slots=True)
class EmbedRequest:
    """An embeddings call, whatever wire shape it arrived in: one vector per text.
    `dimensions` asks for vectors of that length (OpenAI's `dimensions`; None: the model's)."""

    provider: str
    model: str
    texts: tuple[str, ...]
    dimensions: int | None = None
    authorization: str | None = None


@attrs.frozen(slots=True)
class Embeddings:
    """One vector per text, in the request's order, and the tokens the texts counted."""

    vectors: tuple[tuple[float, ...], ...]
    prompt_tokens: int


@attrs.frozen(slots=True)
class Delta:
    text: str


@attrs.frozen(slots=True)
class Finish:
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str = "stop"


StreamEvent = Delta | Finish


class UpstreamError(Exception):
    """The upstream failed. `status` is the HTTP status to answer with (502 when it could not
    be reached); `retryable` says whether another attempt may help."""

    def __init__(self, status: int, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retryable = retryable


class Upstream(Protocol):
    async def complete(self, request: ChatRequest) -> Completion: ...

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """Deltas then exactly one `Finish`. Failing before the first event is an error."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class Embedder(Protocol):
    """An upstream that also serves embeddings (the built-in model, the forwarder)."""

    async def embed(self, request: EmbedRequest) -> Embeddings: ...


__all__ = [
    "ChatRequest",
    "Completion",
    "Delta",
    "EmbedRequest",
    "Embedder",
    "Embeddings",
    "Finish",
    "Message",
    "StreamEvent",
    "Upstream",
    "UpstreamError",
]
