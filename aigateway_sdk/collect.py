"""Reading a stream of parts back into a response: its text, the tool calls it asked for, the
results a tool loop ran for them, and one `Step` per model call (a `Finish` closes a call's
step). `AiStream.collect()` and the streamed tool loop share it."""

from __future__ import annotations

from aigateway_sdk.content import ToolCall, ToolResult
from aigateway_sdk.parts import (
    Finish,
    ResponseMetadata,
    StreamPart,
    TextDelta,
    ToolCallPart,
    ToolResultPart,
)
from aigateway_sdk.response import EMPTY_USAGE, GenerateTextResponse, Step, add_usage


class StepsCollector:
    """The steps of a stream as it is read: a `Finish` closes a model call's step; the tool
    results after it belong to that step; any other part after it begins the next step."""

    __slots__ = ("calls", "done", "finish", "meta", "pieces", "results", "steps")

    def __init__(self) -> None:
        self.steps: list[Step] = []
        self.meta: ResponseMetadata | None = None
        self.pieces: list[str] = []
        self.calls: list[ToolCall] = []
        self.results: list[ToolResult] = []
        self.finish: Finish | None = None
        self.done = False
        """The current step's `Finish` came: the next part (not a result) begins a new one."""

    def add(self, part: StreamPart) -> None:
        if type(part) is ToolResultPart:
            self.results.append(part.result)
            return
        if self.done:
            self.steps.append(self._step())
            self._reset()
        if type(part) is Finish:
            self.finish = part
            self.done = True
        elif type(part) is TextDelta:
            self.pieces.append(part.delta)
        elif type(part) is ToolCallPart:
            self.calls.append(part.call)
        elif type(part) is ResponseMetadata:
            self.meta = part

    def _reset(self) -> None:
        self.meta = None
        self.pieces = []
        self.calls = []
        self.results = []
        self.finish = None
        self.done = False

    def _step(self) -> Step:
        meta, finish = self.meta, self.finish
        return Step(
            text="".join(self.pieces),
            tool_calls=tuple(self.calls),
            tool_results=tuple(self.results),
            usage=finish.usage if finish else EMPTY_USAGE,
            finish_reason=finish.reason if finish else "unknown",
            model=(finish.model if finish else None) or (meta.model if meta else ""),
            response_id=(finish.response_id if finish else None)
            or (meta.response_id if meta else None),
            log_id=meta.log_id if meta else None,
            cache_status=meta.cache_status if meta else None,
        )

    def step(self) -> Step:
        """The step being read (the last one, once the stream is over)."""
        return self._step()

    def response(self, *, loop: bool = False) -> GenerateTextResponse:
        """The last step's response, with every step's usage, and the steps when there were
        several or the stream was a tool loop's (`loop`: as `generate_text(toolkit=...)` gives
        them, one per model call)."""
        last, earlier, meta = self._step(), self.steps, self.meta
        usage = last.usage
        for step in earlier:
            usage = add_usage(step.usage, usage)
        return GenerateTextResponse(
            text=last.text,
            usage=usage,
            finish_reason="tool-calls" if last.tool_calls else last.finish_reason,
            model=last.model,
            response_id=last.response_id,
            cache_status=last.cache_status,
            log_id=last.log_id,
            step=meta.step if meta else None,
            tool_calls=last.tool_calls,
            tool_results=last.tool_results,
            steps=(*earlier, last) if earlier or loop else (),
        )


__all__ = ["StepsCollector"]
