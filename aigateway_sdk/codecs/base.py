"""What every codec provides."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import attrs

from aigateway_sdk.prompt import Message
from aigateway_sdk.response import FinishReason, InputTokens, OutputTokens, Usage


@attrs.frozen(slots=True)
class Decoded:
    """A whole reply, decoded."""

    text: str
    usage: Usage
    finish_reason: FinishReason
    model: str | None = None
    response_id: str | None = None


@attrs.frozen(slots=True)
class Chunk:
    """One decoded stream event; any field may be absent."""

    delta: str | None = None
    usage: Usage | None = None
    finish_reason: FinishReason | None = None
    response_id: str | None = None


DONE = Chunk()
"""Returned for the `[DONE]` sentinel."""


class Codec(Protocol):
    route: str
    """Path below `{account}/{gateway}/`, e.g. "compat/chat/completions"."""

    def path(self, model: str) -> str: ...

    def encode(
        self, model: str, messages: Sequence[Message], parameters: dict[str, Any], stream: bool
    ) -> bytes: ...

    def decode(self, body: Any, max_tokens: int | None) -> Decoded: ...

    def decode_chunk(self, data: bytes) -> Chunk | None:
        """A stream event's data; `DONE` for the end sentinel, None for an event to ignore."""
        ...


def int_or_zero(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def usage_from(prompt: Any, completion: Any, cached: Any = None, reasoning: Any = None) -> Usage:
    return Usage(
        InputTokens(int_or_zero(prompt), int_or_none(cached)),
        OutputTokens(int_or_zero(completion), int_or_none(reasoning)),
    )


__all__ = ["DONE", "Chunk", "Codec", "Decoded", "usage_from"]
