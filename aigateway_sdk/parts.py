"""Typed stream parts, in the order a stream yields them.

    ResponseMetadata -> TextStart -> TextDelta* -> TextEnd -> Finish

A reply that calls tools adds, for each call, `ToolParamsStart -> ToolParamsDelta* ->
ToolParamsEnd` as its arguments arrive, then `ToolCallPart` (the whole call, parsed) before
`Finish` (reason "tool-calls"). In a tool loop (`stream_text(toolkit=...)`) every model call is
such a sequence, and the handlers' `ToolResultPart`s follow the `Finish` of the step that asked
for them; the stream ends with the last step's `Finish`.

Every part has a `type` tag (Effect AI's names) and `to_json()` for SSE re-encoding.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, TypeAlias

import attrs

from aigateway_sdk.content import ToolCall, ToolResult
from aigateway_sdk.response import CacheStatus, FinishReason, Usage


@attrs.frozen(slots=True, kw_only=True)
class ResponseMetadata:
    """First part: what the gateway said about the reply before any text."""

    type: ClassVar[str] = "response-metadata"
    model: str
    response_id: str | None = None
    cache_status: CacheStatus | None = None
    log_id: str | None = None
    step: int | None = None
    status: int | None = attrs.field(default=None, eq=False)
    """The HTTP status of the reply (None for parts not read off the wire)."""
    headers: Mapping[str, str] | None = attrs.field(default=None, eq=False, repr=False)
    """A read-only, case-insensitive view of the reply's headers."""

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "model": self.model,
            "responseId": self.response_id,
            "cacheStatus": self.cache_status,
            "logId": self.log_id,
        }


@attrs.frozen(slots=True)
class TextStart:
    """A block of text begins."""

    type: ClassVar[str] = "text-start"
    id: str = "0"

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "id": self.id}


@attrs.frozen(slots=True)
class TextDelta:
    """More text: append `delta`."""

    type: ClassVar[str] = "text-delta"
    delta: str
    id: str = "0"

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "id": self.id, "delta": self.delta}


@attrs.frozen(slots=True)
class TextEnd:
    """The block of text is complete."""

    type: ClassVar[str] = "text-end"
    id: str = "0"

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "id": self.id}


@attrs.frozen(slots=True, kw_only=True)
class Finish:
    """Last part: why the model stopped and how many tokens it used."""

    type: ClassVar[str] = "finish"
    reason: FinishReason
    usage: Usage
    model: str | None = attrs.field(default=None, eq=False)
    """The model the reply named, when its events did (OpenAI-shaped streams): through a
    dynamic route, the one that served the call, where `ResponseMetadata.model` is the id
    asked for. None when the stream did not say."""
    response_id: str | None = attrs.field(default=None, eq=False)
    """The reply's id, when its events carried one."""

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "reason": self.reason,
            "usage": {
                "inputTokens": self.usage.input_tokens.total,
                "outputTokens": self.usage.output_tokens.total,
            },
        }


@attrs.frozen(slots=True, kw_only=True)
class ToolParamsStart:
    """A tool call begins: its id and the tool's name; the arguments follow as deltas."""

    type: ClassVar[str] = "tool-params-start"
    id: str
    name: str

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "id": self.id, "name": self.name}


@attrs.frozen(slots=True)
class ToolParamsDelta:
    """More of a tool call's arguments (JSON text): append `delta`."""

    type: ClassVar[str] = "tool-params-delta"
    id: str
    delta: str

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "id": self.id, "delta": self.delta}


@attrs.frozen(slots=True)
class ToolParamsEnd:
    """A tool call's arguments are complete."""

    type: ClassVar[str] = "tool-params-end"
    id: str

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "id": self.id}


@attrs.frozen(slots=True)
class ToolCallPart:
    """A whole tool call, arguments parsed (`call.parse_error` when they were not JSON)."""

    type: ClassVar[str] = "tool-call"
    call: ToolCall

    def to_json(self) -> dict[str, Any]:
        call = self.call
        return {
            "type": self.type,
            "id": call.id,
            "name": call.name,
            "params": call.arguments if call.parse_error is None else call.arguments_json,
        }


@attrs.frozen(slots=True)
class ToolResultPart:
    """A handler's result for a tool call (in a tool loop)."""

    type: ClassVar[str] = "tool-result"
    result: ToolResult

    def to_json(self) -> dict[str, Any]:
        result = self.result
        return {
            "type": self.type,
            "id": result.call_id,
            "name": result.name,
            "result": result.content,
            "isFailure": result.is_error,
        }


StreamPart: TypeAlias = (
    ResponseMetadata
    | TextStart
    | TextDelta
    | TextEnd
    | ToolParamsStart
    | ToolParamsDelta
    | ToolParamsEnd
    | ToolCallPart
    | ToolResultPart
    | Finish
)

__all__ = [
    "Finish",
    "ResponseMetadata",
    "StreamPart",
    "TextDelta",
    "TextEnd",
    "TextStart",
    "ToolCallPart",
    "ToolParamsDelta",
    "ToolParamsEnd",
    "ToolParamsStart",
    "ToolResultPart",
]
