"""Typed stream parts, in the order a stream yields them.

    ResponseMetadata -> TextStart -> TextDelta* -> TextEnd -> Finish

Every part has a `type` tag (Effect AI's names) and `to_json()` for SSE re-encoding.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, TypeAlias

import attrs

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

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "reason": self.reason,
            "usage": {
                "inputTokens": self.usage.input_tokens.total,
                "outputTokens": self.usage.output_tokens.total,
            },
        }


StreamPart: TypeAlias = ResponseMetadata | TextStart | TextDelta | TextEnd | Finish

__all__ = ["Finish", "ResponseMetadata", "StreamPart", "TextDelta", "TextEnd", "TextStart"]
