"""The upstream contract: a provider-neutral chat request (messages with content parts and
tool calls, tools, a response format) in, a completion or a stream out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Literal, Protocol, runtime_checkable

import attrs

from aigateway_sdk.local.policies.auth import secret_repr


@attrs.frozen(slots=True)
class TextPart:
    """A text part of a message's content (`{"type": "text", "text"}`)."""

    text: str


@attrs.frozen(slots=True)
class ImagePart:
    """An image part (`{"type": "image_url", "image_url": {"url", "detail"?}}`): `url` is an
    http(s) URL or a `data:` URL."""

    url: str
    detail: str | None = None


ContentPart = TextPart | ImagePart


@attrs.frozen(slots=True)
class ToolCall:
    """A call the model asks for. `arguments` is the JSON text of the arguments, as OpenAI's
    wire carries it (Workers AI's native replies carry the object; see `wire`)."""

    id: str
    name: str
    arguments: str


@attrs.frozen(slots=True)
class Message:
    """One message. `content` is a string, a tuple of parts (OpenAI's content-part list) or
    None (an assistant message holding only tool calls). An assistant message may carry
    `tool_calls`; a `tool` message names the call it answers in `tool_call_id`."""

    role: str
    content: str | tuple[ContentPart, ...] | None
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None

    @property
    def text(self) -> str:
        """The text of the content: the string, or the text parts joined."""
        if isinstance(self.content, str):
            return self.content
        if not self.content:
            return ""
        return "".join(part.text for part in self.content if isinstance(part, TextPart))

    @property
    def images(self) -> tuple[ImagePart, ...]:
        if isinstance(self.content, tuple):
            return tuple(part for part in self.content if isinstance(part, ImagePart))
        return ()


@attrs.frozen(slots=True)
class Tool:
    """A function the model may call: `parameters` is its JSON Schema (None: no parameters),
    `strict` OpenAI's flag, passed on as given."""

    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


@attrs.frozen(slots=True)
class ToolChoice:
    """`auto`, `none`, `required`, or `function` with the `name` of the tool to call."""

    mode: Literal["auto", "none", "required", "function"]
    name: str | None = None


@attrs.frozen(slots=True)
class ResponseFormat:
    """The reply's format: `text`, `json_object`, or `json_schema` with its `schema` (and
    OpenAI's `name`, `description`, `strict`, kept to forward them)."""

    type: Literal["text", "json_object", "json_schema"]
    schema: dict[str, Any] | None = None
    name: str | None = None
    description: str | None = None
    strict: bool | None = None

    @property
    def is_json(self) -> bool:
        return self.type != "text"


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
    authorization: str | None = attrs.field(default=None, repr=secret_repr)
    """The caller's provider `Authorization` header (forwarded when a route has no key)."""
    tools: tuple[Tool, ...] = ()
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None

    @property
    def json_mode(self) -> bool:
        """Whether the reply is asked to be JSON (`json_object` or `json_schema`)."""
        return self.response_format is not None and self.response_format.is_json


@attrs.frozen(slots=True)
class Completion:
    """A whole reply: its text ("" when it only calls tools) and the calls it asks for."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str = "stop"
    tool_calls: tuple[ToolCall, ...] = ()


@attrs.frozen(slots=True)
class EmbedRequest:
    """An embeddings call, whatever wire shape it arrived in: one vector per text.
    `dimensions` asks for vectors of that length (OpenAI's `dimensions`; None: the model's)."""

    provider: str
    model: str
    texts: tuple[str, ...]
    dimensions: int | None = None
    authorization: str | None = attrs.field(default=None, repr=secret_repr)


@attrs.frozen(slots=True)
class Embeddings:
    """One vector per text, in the request's order, and the tokens the texts counted."""

    vectors: tuple[tuple[float, ...], ...]
    prompt_tokens: int


@attrs.frozen(slots=True)
class Delta:
    text: str


@attrs.frozen(slots=True)
class ToolCallDelta:
    """A piece of the tool call number `index` of a streamed reply: the first piece of a call
    carries its `id` and `name`, every piece a part of its `arguments` text (OpenAI's
    `delta.tool_calls[]`)."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@attrs.frozen(slots=True)
class Finish:
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str = "stop"


StreamEvent = Delta | ToolCallDelta | Finish


class UpstreamError(Exception):
    """The upstream failed. `status` is the HTTP status to answer with (502 when it could not
    be reached); `retryable` says whether another attempt may help."""

    def __init__(self, status: int, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retryable = retryable


class UnservableRequest(UpstreamError):
    """The upstream cannot serve the request as asked, because of one of its fields (the
    built-in model cannot generate a value of a schema): HTTP 400 naming `field`, not
    retried."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(400, message, retryable=False)
        self.field = field


class Upstream(Protocol):
    async def complete(self, request: ChatRequest) -> Completion: ...

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """Deltas (text and tool-call pieces) then exactly one `Finish`. Failing before the
        first event is an error."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class Embedder(Protocol):
    """An upstream that also serves embeddings (the built-in model, the forwarder)."""

    async def embed(self, request: EmbedRequest) -> Embeddings: ...


__all__ = [
    "ChatRequest",
    "Completion",
    "ContentPart",
    "Delta",
    "EmbedRequest",
    "Embedder",
    "Embeddings",
    "Finish",
    "ImagePart",
    "Message",
    "ResponseFormat",
    "StreamEvent",
    "TextPart",
    "Tool",
    "ToolCall",
    "ToolCallDelta",
    "ToolChoice",
    "UnservableRequest",
    "Upstream",
    "UpstreamError",
]
