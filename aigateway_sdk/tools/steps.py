"""Reading a streamed step back: its text (the `TextDelta`s), its tool calls (`ToolCallPart`s),
the results run for them (`ToolResultPart`s), why it finished and its usage (`Finish`), and the
gateway's metadata (`ResponseMetadata`, which starts each step)."""

from __future__ import annotations

import functools

from aigateway_sdk.content import ToolCall, ToolResult
from aigateway_sdk.parts import (
    Finish,
    ResponseMetadata,
    StreamPart,
    TextDelta,
    ToolCallPart,
    ToolResultPart,
)
from aigateway_sdk.response import (
    EMPTY_USAGE,
    FinishReason,
    GenerateTextResponse,
    Step,
    Usage,
    add_usage,
)


class StepCollector:
    """Collects the parts of one streamed step."""

    __slots__ = ("_calls", "_meta", "_pieces", "_reason", "_results", "_seen", "_usage")

    def __init__(self) -> None:
        self._pieces: list[str] = []
        self._calls: list[ToolCall] = []
        self._results: list[ToolResult] = []
        self._usage: Usage = EMPTY_USAGE
        self._reason: FinishReason = "unknown"
        self._meta: ResponseMetadata | None = None
        self._seen = False

    def starts_new_step(self, part: StreamPart) -> bool:
        """True when `part` begins the next step (a `ResponseMetadata` after this step's parts)."""
        return self._seen and type(part) is ResponseMetadata

    def add(self, part: StreamPart) -> None:
        self._seen = True
        kind = type(part)
        if kind is TextDelta:
            self._pieces.append(part.delta)  # type: ignore[union-attr]
        elif kind is ToolCallPart:
            self._calls.append(part.call)  # type: ignore[union-attr]
        elif kind is ToolResultPart:
            self._results.append(part.result)  # type: ignore[union-attr]
        elif kind is Finish:
            self._usage, self._reason = part.usage, part.reason  # type: ignore[union-attr]
        elif kind is ResponseMetadata:
            self._meta = part  # type: ignore[assignment]

    @property
    def metadata(self) -> ResponseMetadata | None:
        return self._meta

    def step(self) -> Step:
        meta = self._meta
        return Step(
            text="".join(self._pieces),
            tool_calls=tuple(self._calls),
            tool_results=tuple(self._results),
            usage=self._usage,
            finish_reason=self._reason,
            model=meta.model if meta else "",
            response_id=meta.response_id if meta else None,
            log_id=meta.log_id if meta else None,
            cache_status=meta.cache_status if meta else None,
        )

    @staticmethod
    def response(steps: tuple[Step, ...], last: StepCollector | None) -> GenerateTextResponse:
        """The response of a tool loop made of `steps`; `last` collected the last one."""
        final = steps[-1] if steps else Step(text="")
        meta = last.metadata if last is not None else None
        return GenerateTextResponse(
            text=final.text,
            usage=functools.reduce(add_usage, (s.usage for s in steps), EMPTY_USAGE),
            finish_reason="tool-calls" if final.tool_calls else final.finish_reason,
            model=final.model,
            response_id=final.response_id,
            cache_status=final.cache_status,
            log_id=final.log_id,
            step=meta.step if meta else None,
            tool_calls=final.tool_calls,
            tool_results=final.tool_results,
            steps=steps,
        )


__all__ = ["StepCollector"]
