"""The server-sent events of a streamed chat reply, in either wire shape: Workers AI's
`data: {"response": ...}` events and OpenAI's `chat.completion.chunk`s. The responder sends
`start()`, then `event(e)` for every upstream event, then `DONE_FRAME`.

Workers AI native (https://developers.cloudflare.com/workers-ai/features/function-calling/
traditional/ for the tool-call fields): text as `data: {"response": "<piece>"}`; the tool
calls, collected, as one `data: {"response": "", "tool_calls": [{"id", "name", "arguments":
{...}}]}`; then `data: {"response": "", "usage": {...}}`.

OpenAI (https://platform.openai.com/docs/api-reference/chat-streaming): a first chunk with
`delta: {role: "assistant", content: ""}`; text as `delta: {content}`; a call's first piece
as `delta: {tool_calls: [{index, id, type: "function", function: {name, arguments}}]}`, its
other pieces as `delta: {tool_calls: [{index, function: {arguments}}]}`; a last chunk with
`finish_reason`; with `include_usage` every chunk has `usage: null` and a final chunk with
empty `choices` carries the usage.
"""

from __future__ import annotations

import io
from typing import Any, Protocol

import attrs

from aigateway_sdk._json import dumps
from aigateway_sdk.local.dataplane.wire import usage
from aigateway_sdk.local.dataplane.wire_tools import native_calls
from aigateway_sdk.local.upstreams.base import (
    Delta,
    Finish,
    StreamEvent,
    ToolCall,
    ToolCallDelta,
    UpstreamError,
)

DONE_FRAME = b"data: [DONE]\n\n"
MAX_ARGUMENT_CHARS = 32 << 20
"""The most characters of tool-call arguments one native stream collects for its tool-call
frame."""
SSE = "text/event-stream"


class Frames(Protocol):
    """The frames of one streamed reply, in one wire shape."""

    def start(self) -> bytes:
        """What goes before the first event (may be empty)."""
        ...

    def event(self, event: StreamEvent) -> bytes:
        """The frames of one upstream event (may be empty)."""
        ...


def _data(payload: dict[str, Any]) -> bytes:
    return b"data: " + dumps(payload) + b"\n\n"


@attrs.define(slots=True)
class _Call:
    """A streamed tool call put together from its pieces."""

    id: str = ""
    name: str = ""
    arguments: io.StringIO = attrs.Factory(io.StringIO)

    def take(self, delta: ToolCallDelta) -> None:
        self.id = delta.id or self.id
        self.name = delta.name or self.name
        if delta.arguments:
            self.arguments.write(delta.arguments)

    def call(self) -> ToolCall:
        return ToolCall(self.id, self.name, self.arguments.getvalue())


class NativeFrames:
    """Workers AI's frames: text as it comes, tool calls at the end in one frame (the calls'
    arguments, kept until then, at most `MAX_ARGUMENT_CHARS` characters: an `UpstreamError`
    past it ends the stream)."""

    __slots__ = ("_calls", "_left")

    def __init__(self) -> None:
        self._calls: dict[int, _Call] = {}
        self._left = MAX_ARGUMENT_CHARS

    def start(self) -> bytes:
        return b""

    def event(self, event: StreamEvent) -> bytes:
        if isinstance(event, Delta):
            return _data({"response": event.text})
        if isinstance(event, ToolCallDelta):
            self._left -= len(event.arguments)
            if self._left < 0:
                raise UpstreamError(
                    502, f"upstream sent more than {MAX_ARGUMENT_CHARS} characters of arguments"
                )
            self._calls.setdefault(event.index, _Call()).take(event)
            return b""
        return self._tool_frame() + self.finish(event)

    def _tool_frame(self) -> bytes:
        if not self._calls:
            return b""
        calls = tuple(self._calls[index].call() for index in sorted(self._calls))
        return _data({"response": "", "tool_calls": native_calls(calls)})

    @staticmethod
    def finish(finish: Finish) -> bytes:
        return _data(
            {"response": "", "usage": usage(finish.prompt_tokens, finish.completion_tokens)}
        )


def _tool_delta(delta: ToolCallDelta) -> dict[str, Any]:
    """One `delta.tool_calls[]` item: id, type and name on a call's first piece."""
    function: dict[str, Any] = {}
    if delta.name is not None:
        function["name"] = delta.name
    if delta.arguments or delta.name is not None:
        function["arguments"] = delta.arguments
    item: dict[str, Any] = {"index": delta.index}
    if delta.id is not None:
        item["id"] = delta.id
        item["type"] = "function"
    item["function"] = function
    return item


class OpenAIChunks:
    """The `chat.completion.chunk` frames of one streamed reply."""

    __slots__ = ("_head", "include_usage")

    def __init__(self, completion_id: str, created: int, model: str, include_usage: bool) -> None:
        self._head = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
        }
        self.include_usage = include_usage

    def _frame(self, choices: list[dict[str, Any]], totals: dict[str, int] | None) -> bytes:
        chunk: dict[str, Any] = dict(self._head)
        chunk["choices"] = choices
        if self.include_usage:
            chunk["usage"] = totals
        return _data(chunk)

    def _delta(self, delta: dict[str, Any]) -> bytes:
        return self._frame([{"index": 0, "delta": delta, "finish_reason": None}], None)

    def start(self) -> bytes:
        return self._delta({"role": "assistant", "content": ""})

    def event(self, event: StreamEvent) -> bytes:
        if isinstance(event, Delta):
            return self._delta({"content": event.text})
        if isinstance(event, ToolCallDelta):
            return self._delta({"tool_calls": [_tool_delta(event)]})
        return self.finish(event)

    def finish(self, finish: Finish) -> bytes:
        frames = self._frame(
            [{"index": 0, "delta": {}, "finish_reason": finish.finish_reason}], None
        )
        if self.include_usage:
            frames += self._frame([], usage(finish.prompt_tokens, finish.completion_tokens))
        return frames


__all__ = ["DONE_FRAME", "SSE", "Frames", "NativeFrames", "OpenAIChunks"]
