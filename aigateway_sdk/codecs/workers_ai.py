"""Workers AI's native API: `POST {gateway}/workers-ai/{model}`.

Request `{"messages": [...], "max_tokens", "temperature", ..., "stream"}`; reply
`{"result": {"response", "usage": {...}}, "success": true}`; stream frames
`data: {"response": "<delta>"}`, maybe a last one with `usage`, then `data: [DONE]`.

Tools go in the traditional form and JSON mode as `response_format` (`codecs/tools.py` cites
the shapes). A reply that calls tools has `result.tool_calls` (`response` then empty, null or
absent); a stream sends whole calls in a frame's `tool_calls`. In JSON mode `result.response`
is the JSON value itself, which `Decoded.text` gives as compact JSON text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aigateway_sdk import _json
from aigateway_sdk.codecs.base import (
    DONE,
    Chunk,
    Decoded,
    EventStreamCodec,
    finish_from_usage,
    usage_from,
    workers_ai_key,
)
from aigateway_sdk.codecs.tools import (
    add_workers_ai_tools,
    json_text,
    tool_calls_of,
    whole_tool_pieces,
    workers_ai_response_format,
)
from aigateway_sdk.content import ToolCall
from aigateway_sdk.endpoint import Credentials
from aigateway_sdk.prompt import Message
from aigateway_sdk.request import OutputFormat, ToolsRequest
from aigateway_sdk.response import FinishReason, Usage

_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool-calls",
    "content_filter": "content-filter",
}


def _usage(raw: Any) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    return usage_from(raw.get("prompt_tokens"), raw.get("completion_tokens"))


def _finish(
    raw: Any, usage: Usage | None, max_tokens: int | None, calls: tuple[ToolCall, ...]
) -> FinishReason:
    if isinstance(raw, str):
        return _FINISH.get(raw, "other")
    if calls:
        return "tool-calls"
    return finish_from_usage(usage, max_tokens)


def _response_text(result: Any, calls: tuple[ToolCall, ...], json_mode: bool = False) -> str:
    """`result.response`: text, or (JSON mode) an object or array, given as JSON text; when the
    call asked for JSON (`json_mode`), any JSON value (a number, a boolean). A reply that calls
    tools may leave it out or null."""
    if calls and "response" not in result:
        return ""
    text = result["response"]
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    if isinstance(text, dict | list) or (json_mode and isinstance(text, int | float)):
        return json_text(text)
    raise TypeError("result.response is not text")


class WorkersAiCodec(EventStreamCodec):
    __slots__ = ()

    route = "workers-ai"
    refused_parameters = frozenset(("stop",))  # the native text-generation schema has none

    def path(self, model: str) -> str:
        return f"workers-ai/{model}"

    def provider_key(self, model: str, credentials: Credentials) -> str | None:
        return workers_ai_key(credentials)

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
        body: dict[str, Any] = {"messages": [m.to_json() for m in messages], **parameters}
        if tools is not None:
            add_workers_ai_tools(body, tools)
        if output is not None:
            body["response_format"] = workers_ai_response_format(output)
        if extra:
            body.update(extra)
        if stream:
            body["stream"] = True
        return _json.dumps(body)

    def decode(self, body: Any, max_tokens: int | None, *, json_mode: bool = False) -> Decoded:
        result = body["result"]
        raw_calls = result.get("tool_calls")
        calls = tool_calls_of(raw_calls, "result.tool_calls") if raw_calls else ()
        text = _response_text(result, calls, json_mode)
        usage = _usage(result.get("usage"))
        return Decoded(
            text=text,
            usage=usage or usage_from(0, 0),
            finish_reason=_finish(result.get("finish_reason"), usage, max_tokens, calls),
            tool_calls=calls,
        )

    def decode_chunk(self, data: bytes) -> Chunk | None:
        if data == b"[DONE]":
            return DONE
        frame = _json.loads(data)
        delta = frame.get("response")
        usage = _usage(frame.get("usage"))
        if delta is not None and not isinstance(delta, str):
            raise TypeError("response is not text")
        calls = frame.get("tool_calls")
        if calls:
            return Chunk(delta or None, usage, tool_calls=whole_tool_pieces(calls))
        if usage is None:
            return Chunk(delta or None) if delta else None
        return Chunk(delta or None, usage)


__all__ = ["WorkersAiCodec"]
