"""Workers AI's native API: `POST {gateway}/workers-ai/{model}`.

Request `{"messages": [...], "max_tokens", "temperature", ..., "stream"}`; reply
`{"result": {"response", "usage": {...}}, "success": true}`; stream frames
`data: {"response": "<delta>"}`, maybe a last one with `usage`, then `data: [DONE]`.
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
from aigateway_sdk.endpoint import Credentials
from aigateway_sdk.prompt import Message
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


def _finish(raw: Any, usage: Usage | None, max_tokens: int | None) -> FinishReason:
    if isinstance(raw, str):
        return _FINISH.get(raw, "other")
    return finish_from_usage(usage, max_tokens)


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
    ) -> bytes:
        body: dict[str, Any] = {"messages": [m.to_json() for m in messages], **parameters}
        if extra:
            body.update(extra)
        if stream:
            body["stream"] = True
        return _json.dumps(body)

    def decode(self, body: Any, max_tokens: int | None) -> Decoded:
        result = body["result"]
        text = result["response"]
        if text is None:
            text = ""
        if not isinstance(text, str):
            raise TypeError("result.response is not text")
        usage = _usage(result.get("usage"))
        return Decoded(
            text=text,
            usage=usage or usage_from(0, 0),
            finish_reason=_finish(result.get("finish_reason"), usage, max_tokens),
        )

    def decode_chunk(self, data: bytes) -> Chunk | None:
        if data == b"[DONE]":
            return DONE
        frame = _json.loads(data)
        delta = frame.get("response")
        usage = _usage(frame.get("usage"))
        if delta is not None and not isinstance(delta, str):
            raise TypeError("response is not text")
        if usage is None:
            return Chunk(delta or None) if delta else None
        return Chunk(delta or None, usage)


__all__ = ["WorkersAiCodec"]
