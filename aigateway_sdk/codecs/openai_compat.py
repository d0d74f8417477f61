"""The OpenAI-compatible API: `POST {gateway}/compat/chat/completions` with `provider/model`.

Also serves `workers-ai/v1/chat/completions` (the same shapes, model without a provider):
`OpenAICompatCodec("workers-ai/v1/chat/completions", provider="workers-ai")`.

Tools, `tool_choice`, `parallel_tool_calls` and `response_format` go in OpenAI's shapes, and
tool calls are read from `message.tool_calls` / `delta.tool_calls` (`codecs/tools.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aigateway_sdk import _json
from aigateway_sdk.codecs.base import (
    DONE,
    WORKERS_AI,
    Chunk,
    Decoded,
    EventStreamCodec,
    usage_from,
    workers_ai_key,
)
from aigateway_sdk.codecs.tools import (
    add_openai_tools,
    openai_response_format,
    openai_tool_pieces,
    tool_calls_of,
)
from aigateway_sdk.endpoint import Credentials
from aigateway_sdk.prompt import Message
from aigateway_sdk.request import OutputFormat, ToolsRequest
from aigateway_sdk.response import FinishReason, Usage

# Parameters OpenAI's API knows; the others (top_k, repetition_penalty) are Workers AI's own
# and are left out of the body (send them with `extra_body` where a provider takes them).
_OPENAI_PARAMETERS = frozenset(
    ("temperature", "max_tokens", "top_p", "seed", "frequency_penalty", "presence_penalty", "stop")
)
_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool-calls",
    "function_call": "tool-calls",
    "content_filter": "content-filter",
}


def _usage(raw: Any) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    prompt_details = raw.get("prompt_tokens_details")
    completion_details = raw.get("completion_tokens_details")
    return usage_from(
        raw.get("prompt_tokens"),
        raw.get("completion_tokens"),
        prompt_details.get("cached_tokens") if isinstance(prompt_details, dict) else None,
        completion_details.get("reasoning_tokens")
        if isinstance(completion_details, dict)
        else None,
    )


def _finish(raw: Any) -> FinishReason | None:
    if raw is None:
        return None
    return _FINISH.get(raw, "other") if isinstance(raw, str) else "other"


class OpenAICompatCodec(EventStreamCodec):
    """`provider`: the one provider behind `route`; None when ids name it (`openai/gpt-4o`)."""

    __slots__ = ("provider", "route")

    refused_parameters: frozenset[str] = frozenset()

    def __init__(self, route: str = "compat/chat/completions", provider: str | None = None) -> None:
        self.route = route
        self.provider = provider

    def path(self, model: str) -> str:
        return self.route

    def provider_key(self, model: str, credentials: Credentials) -> str | None:
        provider = self.provider or model.partition("/")[0]
        if provider in (WORKERS_AI, model):  # no provider named: Workers AI's
            return workers_ai_key(credentials)
        return credentials.provider_key(provider)

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
        body: dict[str, Any] = {"model": model, "messages": [m.to_json() for m in messages]}
        for name, value in parameters.items():
            if name in _OPENAI_PARAMETERS:
                body[name] = value
        if tools is not None:
            add_openai_tools(body, tools)
        if output is not None:
            body["response_format"] = openai_response_format(output)
        if extra:
            body.update(extra)
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        return _json.dumps(body)

    def decode(self, body: Any, max_tokens: int | None, *, json_mode: bool = False) -> Decoded:
        choice = body["choices"][0]
        message = choice["message"]
        text = message.get("content") or ""
        if not isinstance(text, str):
            raise TypeError("message.content is not text")
        raw_calls = message.get("tool_calls")
        calls = tool_calls_of(raw_calls, "message.tool_calls") if raw_calls else ()
        finish = _finish(choice.get("finish_reason")) or ("tool-calls" if calls else "unknown")
        model = body.get("model")
        response_id = body.get("id")
        return Decoded(
            text=text,
            usage=_usage(body.get("usage")) or usage_from(0, 0),
            finish_reason=finish,
            model=model if isinstance(model, str) else None,
            response_id=response_id if isinstance(response_id, str) else None,
            tool_calls=calls,
        )

    def decode_chunk(self, data: bytes) -> Chunk | None:
        if data == b"[DONE]":
            return DONE
        frame = _json.loads(data)
        choices = frame.get("choices")
        usage = _usage(frame.get("usage"))
        delta: str | None = None
        finish: FinishReason | None = None
        pieces: Any = None
        if choices:
            choice = choices[0]
            message = choice.get("delta") or {}
            content = message.get("content")
            if content is not None and not isinstance(content, str):
                raise TypeError("delta.content is not text")
            delta = content or None
            finish = _finish(choice.get("finish_reason"))
            pieces = message.get("tool_calls")
        if delta is None and usage is None and finish is None and not pieces:
            return None
        response_id = frame.get("id")
        response_id = response_id if isinstance(response_id, str) else None
        model = frame.get("model")
        model = model if isinstance(model, str) and model else None
        tools = openai_tool_pieces(pieces) if pieces else ()
        return Chunk(delta, usage, finish, response_id, tools, model)


__all__ = ["OpenAICompatCodec"]
