"""`StreamAssembler`: decoded chunks in, the stream's parts out. Pure: no I/O, no clock.

It writes the frame every stream has, whatever the API or the transport:

    ResponseMetadata -> TextStart -> TextDelta* -> TextEnd
                     -> (ToolParamsStart -> ToolParamsDelta*)* -> (ToolParamsEnd, ToolCallPart)*
                     -> Finish

`start()` gives the metadata, `add()` the parts a chunk carries (`TextStart` before the first
text, `ToolParamsStart` before a tool call's first arguments), `end()` the closing parts once
the stream is over, and `whole()` all of them for a reply that came in one piece.

Tool calls arrive as pieces (`ToolCallChunk`): OpenAI's name a call by its index, the first
piece giving its id and the tool's name and the others more of its arguments' JSON text,
several calls' pieces possibly interleaved; Workers AI's are whole calls (index None), each the
reply's next call. `end()` closes each call in index order (`ToolParamsEnd`, then the call
parsed, `ToolCallPart`) before `Finish`, whose reason is "tool-calls" when the stream named none
and called tools. A piece that starts a call without naming its tool raises `ValueError` (the
stream's `MalformedOutput`); a call without an id gets `call_{index}`. So does a stream asking
for more than `MAX_TOOL_CALLS` calls or sending more than `max_arguments` characters of
arguments: the arguments are kept until the end, so they are bounded as a whole reply is.

`end()` is also where completeness is decided: a stream that stopped without its end marker
counts only if it reported a finish reason or usage; otherwise it was cut short and `end()`
raises `AiError(NetworkError)`.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

from aigateway_sdk.codecs.base import (
    MAX_TOOL_CALLS,
    Chunk,
    Decoded,
    ToolCallChunk,
    finish_from_usage,
    too_many_calls,
)
from aigateway_sdk.content import ToolCall
from aigateway_sdk.errors import AiError, NetworkError
from aigateway_sdk.parts import (
    Finish,
    ResponseMetadata,
    StreamPart,
    TextDelta,
    TextEnd,
    TextStart,
    ToolCallPart,
    ToolParamsDelta,
    ToolParamsEnd,
    ToolParamsStart,
)
from aigateway_sdk.response import EMPTY_USAGE, FinishReason, ReplyHead, Usage

MAX_ARGUMENTS = 32 * 1024 * 1024
"""The most characters of tool-call arguments a stream's assembler keeps (the default
`max_response_bytes`: a whole reply is held to it)."""


class _Call:
    """A tool call being assembled: its index in the reply, id, the tool's name and its
    arguments' pieces, or the whole call when it came decoded (`StreamAssembler.whole`)."""

    __slots__ = ("decoded", "id", "index", "name", "named_id", "pieces")

    def __init__(self, index: int, call_id: str, name: str, named_id: bool) -> None:
        self.index = index
        self.id = call_id
        self.name = name
        self.named_id = named_id
        """The reply gave the id (it was not made up here)."""
        self.pieces = io.StringIO()
        """The arguments' text so far (one buffer: a list of many tiny pieces would cost
        tens of bytes per character)."""
        self.decoded: ToolCall | None = None

    def parsed(self) -> ToolCall:
        if self.decoded is not None:
            return self.decoded
        return ToolCall.from_json(self.id, self.name, self.pieces.getvalue())


class _Calls:
    """The tool calls of one reply, in the order they began, and the call each index names
    now (a provider that reuses an index for another call tells them apart by id). At most
    `MAX_TOOL_CALLS` of them; every lookup is a dict's, so pieces cost the same however many
    calls came before."""

    __slots__ = ("begun", "by_id", "by_index", "top")

    def __init__(self) -> None:
        self.begun: list[_Call] = []
        self.by_index: dict[int, _Call] = {}
        self.by_id: dict[str, _Call] = {}
        self.top = -1

    def of(self, piece: ToolCallChunk) -> _Call | None:
        """The call `piece` continues; None when it begins one."""
        index = piece.index
        call = None if index is None else self.by_index.get(index)
        if call is None or piece.id is None or piece.id == call.id or not call.named_id:
            return call
        again = self.by_id.get(piece.id)
        if again is not None:
            self.by_index[again.index] = again
        return again

    def next_index(self) -> int:
        return self.top + 1

    def add(self, call: _Call) -> None:
        if len(self.begun) >= MAX_TOOL_CALLS:
            raise too_many_calls(len(self.begun) + 1)
        self.begun.append(call)
        self.by_index[call.index] = call
        self.by_id.setdefault(call.id, call)
        self.top = max(self.top, call.index)

    def in_order(self) -> list[_Call]:
        """By index; calls under one index in the order they began."""
        return sorted(self.begun, key=lambda call: call.index)


class StreamAssembler:
    """The parts of one stream of `model`, whose reply headers said `head`. The tool calls'
    arguments are kept until the end (to parse them): at most `max_arguments` characters of
    them in all (a stream's text is not kept: it is passed on)."""

    __slots__ = (
        "_arguments_left",
        "_calls",
        "_finish",
        "_max_arguments",
        "_max_tokens",
        "_response_id",
        "_served",
        "_started",
        "_usage",
        "head",
        "model",
    )

    def __init__(
        self,
        model: str,
        head: ReplyHead,
        max_tokens: int | None = None,
        *,
        max_arguments: int = MAX_ARGUMENTS,
    ) -> None:
        self.model = model
        self.head = head
        self._max_tokens = max_tokens
        self._max_arguments = max_arguments
        self._arguments_left = max_arguments
        self._started = False
        self._usage: Usage | None = None
        self._finish: FinishReason | None = None
        self._calls: _Calls | None = None
        self._served: str | None = None
        self._response_id: str | None = None

    def start(
        self, status: int | None = None, headers: Mapping[str, str] | None = None
    ) -> ResponseMetadata:
        """The first part: what the gateway said about the reply (its status and headers)."""
        head = self.head
        return ResponseMetadata(
            model=self.model,
            cache_status=head.cache_status,
            log_id=head.log_id,
            step=head.step,
            status=status,
            headers=headers,
        )

    def add(self, chunk: Chunk, out: list[StreamPart]) -> None:
        """Append the parts `chunk` carries to `out`; keep its usage and finish reason."""
        delta = chunk.delta
        if delta is not None:
            if not self._started:
                self._started = True
                out.append(TextStart())
            out.append(TextDelta(delta))
        if chunk.tool_calls:
            for piece in chunk.tool_calls:
                self._add_piece(piece, out)
        if chunk.usage is not None:
            self._usage = chunk.usage
        if chunk.finish_reason is not None:
            self._finish = chunk.finish_reason
        if chunk.model is not None and self._served is None:
            self._served = chunk.model
        if chunk.response_id is not None and self._response_id is None:
            self._response_id = chunk.response_id

    def _add_piece(self, piece: ToolCallChunk, out: list[StreamPart]) -> None:
        calls = self._calls
        if calls is None:
            calls = self._calls = _Calls()
        call = calls.of(piece)
        if call is None:
            index = piece.index
            if index is None:
                index = calls.next_index()
            call = self._begin(piece, index, out)
            calls.add(call)
        arguments = piece.arguments
        if arguments:
            self._arguments_left -= len(arguments)
            if self._arguments_left < 0:
                raise ValueError(
                    f"the tool calls' arguments are longer than {self._max_arguments} characters"
                )
            call.pieces.write(arguments)
            out.append(ToolParamsDelta(call.id, arguments))

    @staticmethod
    def _begin(piece: ToolCallChunk, index: int, out: list[StreamPart]) -> _Call:
        if not piece.name:
            raise ValueError(
                f"tool call {index} has no tool name in its first piece (or a piece came "
                "for a call that never began)"
            )
        call = _Call(index, piece.id or f"call_{index}", piece.name, piece.id is not None)
        out.append(ToolParamsStart(id=call.id, name=call.name))
        return call

    def end(self, *, ended: bool = True) -> list[StreamPart]:
        """The closing parts: `TextEnd` (when text began), each tool call's `ToolParamsEnd`
        and `ToolCallPart`, and `Finish`. `ended`: the stream sent its end marker; without one,
        a stream that reported neither a finish reason nor usage was cut short
        (`AiError(NetworkError)`)."""
        usage, finish, calls = self._usage, self._finish, self._calls
        if not ended and finish is None and usage is None:
            raise AiError(
                NetworkError(
                    message="the stream ended before it was complete", log_id=self.head.log_id
                )
            )
        parts: list[StreamPart] = [TextEnd()] if self._started else []
        if calls is not None and calls.begun:
            for call in calls.in_order():
                parts.append(ToolParamsEnd(call.id))
                parts.append(ToolCallPart(call.parsed()))
            if finish is None:
                finish = "tool-calls"
        parts.append(
            Finish(
                reason=finish or finish_from_usage(usage, self._max_tokens),
                usage=usage or EMPTY_USAGE,
                model=self._served,
                response_id=self._response_id,
            )
        )
        return parts

    def whole(self, reply: Decoded) -> list[StreamPart]:
        """The parts after `start()` of a reply that came in one piece."""
        parts: list[StreamPart] = []
        one = Chunk(
            reply.text or None,
            reply.usage,
            reply.finish_reason,
            reply.response_id,
            model=reply.model,
        )
        self.add(one, parts)
        if reply.tool_calls:
            calls = self._calls = _Calls()
            for index, whole in enumerate(reply.tool_calls):
                call = _Call(index, whole.id, whole.name, True)
                call.decoded = whole
                calls.add(call)
                parts.append(ToolParamsStart(id=whole.id, name=whole.name))
                if whole.arguments_json:
                    parts.append(ToolParamsDelta(whole.id, whole.arguments_json))
        return parts + self.end()


__all__ = ["MAX_ARGUMENTS", "StreamAssembler"]
