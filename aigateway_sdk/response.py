"""What a model call returns: text, usage, why it finished, and what the gateway did."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, Literal, TypeVar

import attrs

from aigateway_sdk.content import ToolCall, ToolResult

T = TypeVar("T")

FinishReason = Literal[
    "stop", "length", "content-filter", "tool-calls", "error", "other", "unknown"
]
CacheStatus = Literal["HIT", "MISS"]


@attrs.frozen(slots=True)
class InputTokens:
    """Prompt tokens: `total`, and how many were read from the provider's cache when known."""

    total: int = 0
    cached: int | None = None


@attrs.frozen(slots=True)
class OutputTokens:
    """Completion tokens: `total`, and reasoning tokens when the provider reports them."""

    total: int = 0
    reasoning: int | None = None


@attrs.frozen(slots=True)
class Usage:
    """Token usage, shaped like Effect AI's: `usage.input_tokens.total`."""

    input_tokens: InputTokens = attrs.field(factory=InputTokens)
    output_tokens: OutputTokens = attrs.field(factory=OutputTokens)

    @property
    def total_tokens(self) -> int:
        return self.input_tokens.total + self.output_tokens.total


EMPTY_USAGE = Usage()


@attrs.frozen(slots=True)
class RawReply:
    """The HTTP reply a response was read from, for what the SDK does not model.

    `headers` is a read-only, case-insensitive view of the reply's headers; `body` the decoded
    JSON body as received (None when there is none to give, as for a stream). Treat both as
    read-only."""

    status: int
    headers: Mapping[str, str] = attrs.field(repr=False)
    body: Any = attrs.field(default=None, repr=False)


def add_usage(a: Usage, b: Usage) -> Usage:
    """The usage of two calls together (a detail count known on either side is summed)."""

    def plus(x: int | None, y: int | None) -> int | None:
        return None if x is None and y is None else (x or 0) + (y or 0)

    return Usage(
        InputTokens(
            a.input_tokens.total + b.input_tokens.total,
            plus(a.input_tokens.cached, b.input_tokens.cached),
        ),
        OutputTokens(
            a.output_tokens.total + b.output_tokens.total,
            plus(a.output_tokens.reasoning, b.output_tokens.reasoning),
        ),
    )


@attrs.frozen(slots=True, kw_only=True)
class Step:
    """One model call of a multi-step `generate_text` (a tool loop): what the model said, the
    tools it called, what they returned, and its usage."""

    text: str
    tool_calls: tuple[ToolCall, ...] = ()
    tool_results: tuple[ToolResult, ...] = ()
    usage: Usage = EMPTY_USAGE
    finish_reason: FinishReason = "unknown"
    model: str = ""
    response_id: str | None = None
    log_id: str | None = None
    cache_status: CacheStatus | None = None

    @classmethod
    def of(cls, reply: GenerateTextResponse) -> Step:
        """The step one model reply makes (its tool results not run yet)."""
        return cls(
            text=reply.text,
            tool_calls=reply.tool_calls,
            usage=reply.usage,
            finish_reason=reply.finish_reason,
            model=reply.model,
            response_id=reply.response_id,
            log_id=reply.log_id,
            cache_status=reply.cache_status,
        )


@attrs.frozen(slots=True, kw_only=True)
class GenerateTextResponse:
    """The reply to `generate_text`."""

    text: str
    usage: Usage = EMPTY_USAGE
    finish_reason: FinishReason = "unknown"
    model: str
    """The model that answered (the provider's name when it reports one)."""
    response_id: str | None = None
    cache_status: CacheStatus | None = None
    """`cf-aig-cache-status`: HIT when the gateway answered from its cache."""
    log_id: str | None = None
    """`cf-aig-log-id`: the id of this request in the gateway's log."""
    step: int | None = None
    """`cf-aig-step`: which Universal-endpoint step answered."""
    raw: RawReply | None = attrs.field(default=None, eq=False, repr=False)
    """The HTTP reply (status, headers, JSON body); None for a response not read off the wire
    (a test double's)."""
    tool_calls: tuple[ToolCall, ...] = ()
    """The tools the (last) model reply asked for: the caller's to run when no handler ran
    them (no handlers, or `max_steps` reached); `finish_reason` is then "tool-calls"."""
    tool_results: tuple[ToolResult, ...] = ()
    """The results of the last step's calls, when handlers ran them."""
    steps: tuple[Step, ...] = ()
    """Every model call of a tool loop, in order (empty for a single call); `usage` is then
    their total."""

    @property
    def cached(self) -> bool:
        return self.cache_status == "HIT"


@attrs.frozen(slots=True, kw_only=True)
class GenerateObjectResponse(Generic[T]):
    """The reply to `generate_object`: `value` is the model's JSON, validated against the
    schema and decoded to its type."""

    value: T
    text: str
    """The JSON text the model sent."""
    usage: Usage = EMPTY_USAGE
    """All attempts together (a repaired reply took more than one)."""
    finish_reason: FinishReason = "unknown"
    model: str
    response_id: str | None = None
    cache_status: CacheStatus | None = None
    log_id: str | None = None
    attempts: int = 1
    """How many model calls it took: 1, plus one per repair."""
    raw: RawReply | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True)
class ReplyHead:
    """What the gateway says about a reply in its headers (`cf-aig-*`)."""

    cache_status: CacheStatus | None = None
    log_id: str | None = None
    step: int | None = None

    @classmethod
    def of(cls, headers: Mapping[str, str]) -> ReplyHead:
        get = headers.get
        return cls(
            cache_status_of(get("cf-aig-cache-status")),
            get("cf-aig-log-id"),
            step_of(get("cf-aig-step")),
        )


def cache_status_of(value: str | None) -> CacheStatus | None:
    if value is None:
        return None
    upper = value.upper()
    return "HIT" if upper == "HIT" else "MISS" if upper == "MISS" else None


def step_of(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


__all__ = [
    "EMPTY_USAGE",
    "CacheStatus",
    "FinishReason",
    "GenerateObjectResponse",
    "GenerateTextResponse",
    "InputTokens",
    "OutputTokens",
    "RawReply",
    "ReplyHead",
    "Step",
    "Usage",
    "add_usage",
]
