"""What every codec provides, and the parts they share.

A codec knows one upstream API: the path below the gateway, which credential a request for a
model carries, how a request body is written, and how a reply or a stream event is read. Stream
events go through `decode_event`: a chunk of the reply, `DONE`, None (nothing to use), or the
failure the provider reported inside the stream.

A reply may ask for tool calls: a whole reply's `Decoded.tool_calls`, and a stream's pieces of
them (`ToolCallChunk`), which `StreamAssembler` puts together. The tool shapes both codecs share
are in `codecs/tools.py`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import attrs

from aigateway_sdk.content import ToolCall
from aigateway_sdk.contract.tools import MAX_TOOL_CALLS
from aigateway_sdk.endpoint import Credentials
from aigateway_sdk.errors import Reason
from aigateway_sdk.prompt import Message
from aigateway_sdk.request import OutputFormat, ToolsRequest
from aigateway_sdk.response import FinishReason, InputTokens, OutputTokens, Usage
from aigateway_sdk.transport.failures import reason_from_error_frame
from aigateway_sdk.transport.sse import SseEvent

WORKERS_AI = "workers-ai"
"""The provider name of Workers AI (in `compat` ids and `provider_api_keys`)."""


def too_many_calls(count: int) -> ValueError:
    return ValueError(f"the reply asks for {count} tool calls, more than {MAX_TOOL_CALLS}")


@attrs.frozen(slots=True)
class Decoded:
    """A whole reply, decoded."""

    text: str
    usage: Usage
    finish_reason: FinishReason
    model: str | None = None
    response_id: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    """The tools the reply asks for, in order (ids synthesized where the reply has none)."""


@attrs.frozen(slots=True)
class ToolCallChunk:
    """A piece of one tool call in a stream.

    `index` numbers the call within the reply: OpenAI sends a call's id and name in its first
    piece and its arguments' JSON text in pieces after it, all with the call's index. None is
    a whole call in one piece (Workers AI's native stream): the reply's next call, with its id
    (None: the assembler makes one), name and whole arguments."""

    index: int | None
    id: str | None = None
    name: str | None = None
    arguments: str | None = None


@attrs.frozen(slots=True)
class Chunk:
    """One decoded stream event; any field may be absent."""

    delta: str | None = None
    usage: Usage | None = None
    finish_reason: FinishReason | None = None
    response_id: str | None = None
    tool_calls: tuple[ToolCallChunk, ...] = ()
    model: str | None = None
    """The model the reply names (OpenAI's chunks carry it): the one that served the call."""


DONE = Chunk()
"""Returned for the `[DONE]` sentinel."""


class Codec(Protocol):
    route: str
    """Path below `{account}/{gateway}/`, e.g. "compat/chat/completions"."""
    refused_parameters: frozenset[str]
    """`ModelParameters` fields this API has no place for: a model refuses them when built
    (or called) with one, rather than drop it silently."""

    def path(self, model: str) -> str: ...

    def provider_key(self, model: str, credentials: Credentials) -> str | None:
        """The key a request for `model` carries as `authorization` (None: none)."""
        ...

    def encode(
        self,
        model: str,
        messages: Sequence[Message],
        parameters: dict[str, Any],
        stream: bool,
        extra: Mapping[str, Any] | None = None,
        *,
        tools: ToolsRequest | None = None,
        output: OutputFormat | None = None,
    ) -> bytes:
        """The request body: messages, parameters, the tools offered and the output format
        asked for; `extra` (the caller's `extra_body`) is merged in last, over all of them."""
        ...

    def decode(self, body: Any, max_tokens: int | None, *, json_mode: bool = False) -> Decoded:
        """A whole reply. `json_mode`: the call asked for JSON (an `OutputFormat`), so a reply
        may carry its JSON value where text would be."""
        ...

    def decode_chunk(self, data: bytes) -> Chunk | None:
        """A stream event's data; `DONE` for the end sentinel, None for an event to ignore."""
        ...

    def decode_event(self, event: SseEvent) -> Chunk | Reason | None:
        """A stream event: a `Chunk` (`DONE` for the end sentinel), None for an event to ignore,
        or the failure it reports (a `Reason` without a log id). A frame of the wrong shape
        raises `ValueError`/`KeyError`/`TypeError`."""
        ...


class EventStreamCodec:
    """The stream events of APIs that send JSON frames and report failures as an `error`
    event or an error frame (`{"error": ...}` / `{"errors": [...]}`)."""

    __slots__ = ()

    def decode_chunk(self, data: bytes) -> Chunk | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def decode_event(self, event: SseEvent) -> Chunk | Reason | None:
        if event.event == "error":
            return reason_from_error_frame(event.data, event.event)
        chunk = self.decode_chunk(event.data)
        if chunk is None and b'"error' in event.data:
            return reason_from_error_frame(event.data, event.event)
        return chunk


def workers_ai_key(credentials: Credentials) -> str | None:
    """Workers AI's credential: a `workers-ai` provider key, else the Cloudflare API token."""
    return credentials.provider_key(WORKERS_AI) or credentials.api_token


def finish_from_usage(usage: Usage | None, max_tokens: int | None) -> FinishReason:
    """The finish reason of a reply that did not say: "length" when it used `max_tokens`."""
    if usage is not None and max_tokens is not None and usage.output_tokens.total >= max_tokens:
        return "length"
    return "stop"


def int_or_zero(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def usage_from(prompt: Any, completion: Any, cached: Any = None, reasoning: Any = None) -> Usage:
    return Usage(
        InputTokens(int_or_zero(prompt), int_or_none(cached)),
        OutputTokens(int_or_zero(completion), int_or_none(reasoning)),
    )


__all__ = [
    "DONE",
    "MAX_TOOL_CALLS",
    "WORKERS_AI",
    "Chunk",
    "Codec",
    "Decoded",
    "EventStreamCodec",
    "ToolCallChunk",
    "finish_from_usage",
    "too_many_calls",
    "usage_from",
    "workers_ai_key",
]
