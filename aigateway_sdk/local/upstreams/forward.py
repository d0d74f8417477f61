"""Forwarding to an OpenAI-compatible server (llama.cpp, Ollama, vLLM, Workers AI's `/ai/v1`).

One pooled `httpx.AsyncClient` per route, opened on first use and closed with the app. The
request goes out in OpenAI's shape (`openai_request`: messages with their content parts, tool
calls and tool results, tools, tool choice, response format, as given). What comes back
(error messages, reply text, tool calls, streamed text and tool-call pieces) passes through
the `Redactor` of the server's keys before it goes anywhere else (see `redact`).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import attrs
import httpx

from aigateway_sdk._json import dumps, dumps_str, loads
from aigateway_sdk.contract.tools import MAX_TOOL_CALLS
from aigateway_sdk.local.config import UpstreamRoute
from aigateway_sdk.local.upstreams.base import (
    ChatRequest,
    Completion,
    Delta,
    Embeddings,
    EmbedRequest,
    Finish,
    StreamEvent,
    ToolCall,
    ToolCallDelta,
    UpstreamError,
)
from aigateway_sdk.local.upstreams.builtin import count_tokens, prompt_tokens
from aigateway_sdk.local.upstreams.openai_request import message_json, tools_json
from aigateway_sdk.local.upstreams.redact import NO_KEYS, Redactor, StreamRedactor

FORWARDED_PARAMS = frozenset(
    {
        "temperature",
        "top_p",
        "top_k",
        "seed",
        "presence_penalty",
        "frequency_penalty",
        "stop",
    }
)
"""The sampling parameters passed on; tools, tool choice and response format are passed on
from their own fields (see `openai_request`)."""

MAX_REPLY_BYTES = 32 << 20
"""The largest chat reply (or error reply) read from an upstream; a larger one is a 502."""
MAX_EMBEDDINGS_BYTES = 256 << 20
"""The largest embeddings reply read (2,048 vectors of 3,072 numbers as JSON fit)."""
MAX_LINE_CHARS = 4 << 20
"""The longest line of an upstream's event stream (the SDK's default `max_event_bytes`)."""
_NEWLINE = re.compile(r"\r\n|\r|\n")


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


def _error_message(body: bytes, status: int) -> str:
    try:
        data = loads(body)
    except ValueError:
        text = body.decode("utf-8", "replace").strip()
        return text[:300] or f"upstream answered HTTP {status}"
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
        if isinstance(error, str):
            return error
        errors = data.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("message", ""))
    return f"upstream answered HTTP {status}"


class OpenAIForwarder:
    def __init__(self, route: UpstreamRoute, redactor: Redactor = NO_KEYS) -> None:
        """`redactor` removes the server's keys (this route's and every other's) from all
        that the upstream sends back."""
        assert route.base_url is not None
        self.route = route
        self.redactor = redactor
        base = route.base_url.rstrip("/") + "/"
        self._client = httpx.AsyncClient(
            base_url=base,
            timeout=httpx.Timeout(route.timeout, connect=min(route.timeout, 10.0)),
            limits=httpx.Limits(max_connections=256, max_keepalive_connections=64),
        )

    def _failure(self, status: int, message: str) -> UpstreamError:
        return UpstreamError(status, self.redactor.text(message), retryable=_retryable(status))

    def _headers(self, request: ChatRequest | EmbedRequest) -> dict[str, str]:
        headers = {"content-type": "application/json"}
        if self.route.api_key:
            headers["authorization"] = f"Bearer {self.route.api_key}"
        elif request.authorization:
            headers["authorization"] = request.authorization
        return headers

    def _payload(self, request: ChatRequest, stream: bool) -> bytes:
        body: dict[str, Any] = {
            "model": self.route.model or request.model,
            "messages": [message_json(m) for m in request.messages],
        }
        if request.max_tokens is not None:
            body["max_tokens"] = request.max_tokens
        for name, value in request.params:
            if name in FORWARDED_PARAMS:
                body[name] = value
        body.update(tools_json(request))
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        return dumps(body)

    async def _post(self, path: str, content: bytes, headers: dict[str, str], limit: int) -> bytes:
        """The body of a 2xx reply to a POST, at most `limit` bytes (else 502); an error
        reply's message as the upstream's failure."""
        try:
            async with self._client.stream("POST", path, content=content, headers=headers) as reply:
                body = await _read(reply, limit)
        except httpx.HTTPError as error:
            raise self._failure(502, f"upstream unreachable: {error!r}") from error
        if reply.status_code >= 400:
            raise self._failure(reply.status_code, _error_message(body, reply.status_code))
        return body

    async def complete(self, request: ChatRequest) -> Completion:
        body = await self._post(
            "chat/completions",
            self._payload(request, False),
            self._headers(request),
            MAX_REPLY_BYTES,
        )
        try:
            data = loads(body)
            choice = data["choices"][0]
            text = str(choice["message"].get("content") or "")
            calls = _reply_calls(choice["message"].get("tool_calls"))
            usage = data.get("usage") or {}
            reason = choice.get("finish_reason") or "stop"
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as error:
            raise UpstreamError(502, "upstream sent a malformed reply") from error
        said = " ".join([text, *(f"{c.name} {c.arguments}" for c in calls)])
        prompt, completion = _tokens(usage, request, said)
        redact = self.redactor.text
        return Completion(
            redact(text),
            prompt,
            completion,
            redact(str(reason)),
            tuple(ToolCall(redact(c.id), redact(c.name), redact(c.arguments)) for c in calls),
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        tally = _Tally()
        redacting = _Redacting(self.redactor)
        try:
            async with self._client.stream(
                "POST",
                "chat/completions",
                content=self._payload(request, True),
                headers=self._headers(request),
            ) as response:
                if response.status_code >= 400:
                    body = await _read(response, MAX_REPLY_BYTES)
                    raise self._failure(
                        response.status_code, _error_message(body, response.status_code)
                    )
                async for chunk in _chunks(_lines(response.aiter_text(), MAX_LINE_CHARS)):
                    for event in tally.take(chunk, self.redactor):
                        redacted = redacting.feed(event)
                        if redacted is not None:
                            yield redacted
        except httpx.HTTPError as error:
            raise self._failure(502, f"upstream unreachable: {error!r}") from error
        for rest in redacting.flush():
            yield rest
        prompt, completion = _tokens(tally.usage, request, "".join(tally.produced))
        yield Finish(prompt, completion, tally.reason)

    async def embed(self, request: EmbedRequest) -> Embeddings:
        """OpenAI's `/embeddings` at the server: the texts as sent, the vectors as answered."""
        body: dict[str, Any] = {
            "model": self.route.model or request.model,
            "input": list(request.texts),
            "encoding_format": "float",
        }
        if request.dimensions is not None:
            body["dimensions"] = request.dimensions
        reply = await self._post(
            "embeddings", dumps(body), self._headers(request), MAX_EMBEDDINGS_BYTES
        )
        try:
            return _embeddings(loads(reply), request)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise UpstreamError(502, "upstream sent a malformed reply") from error

    async def aclose(self) -> None:
        await self._client.aclose()


def _embeddings(data: Any, request: EmbedRequest) -> Embeddings:
    """An OpenAI embeddings reply, in `index` order; one vector of numbers per text sent."""
    items = sorted(data["data"], key=lambda item: item["index"])
    vectors = tuple(tuple(float(x) for x in item["embedding"]) for item in items)
    if len(vectors) != len(request.texts):
        raise ValueError("one vector per text expected")
    tokens = (data.get("usage") or {}).get("prompt_tokens")
    if not isinstance(tokens, int):
        tokens = sum(count_tokens(t) for t in request.texts)
    return Embeddings(vectors, tokens)


async def _read(response: httpx.Response, limit: int) -> bytes:
    """The body, read as it comes: an `UpstreamError` (502) past `limit` bytes, the rest
    unread (an upstream cannot make the gateway hold an unbounded reply)."""
    body = bytearray()
    async for piece in response.aiter_bytes():
        body += piece
        if len(body) > limit:
            raise UpstreamError(
                502, f"upstream sent a reply larger than {limit} bytes", retryable=False
            )
    return bytes(body)


async def _lines(text: AsyncIterator[str], limit: int) -> AsyncIterator[str]:
    """The lines of an event stream (split at CRLF, CR or LF), as they complete; an
    `UpstreamError` (502) for a line longer than `limit` characters (httpx's own line reader
    holds a line whatever its length)."""
    pending: list[str] = []  # the start of the line being read, piece by piece
    size = 0
    async for piece in text:
        *ended, rest = _NEWLINE.split(piece)
        if ended:
            pending.append(ended[0])
            for line in ("".join(pending), *ended[1:]):
                yield line
            pending, size = [], 0
        pending.append(rest)
        size += len(rest)
        if size > limit:
            raise UpstreamError(
                502, f"upstream sent a stream line longer than {limit} characters", retryable=False
            )
    if size:
        yield "".join(pending)


async def _chunks(lines: AsyncIterator[str]) -> AsyncIterator[dict[str, Any]]:
    """The JSON objects of an event stream's `data:` lines, up to `[DONE]` (others skipped)."""
    async for line in lines:
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        try:
            chunk = loads(payload)
        except ValueError:
            continue
        if isinstance(chunk, dict):
            yield chunk


def _arguments_text(value: object) -> str:
    """Arguments as JSON text (some servers send the object itself)."""
    if value is None:
        return ""
    return value if isinstance(value, str) else dumps_str(value)


def _too_many_calls() -> UpstreamError:
    return UpstreamError(
        502, f"upstream asked for more than {MAX_TOOL_CALLS} tool calls", retryable=False
    )


def _reply_calls(value: object) -> tuple[ToolCall, ...]:
    """A reply message's `tool_calls` (OpenAI's shape), unredacted; at most
    `MAX_TOOL_CALLS`."""
    if not value:
        return ()
    if not isinstance(value, list):
        raise TypeError("tool_calls must be a list")
    if len(value) > MAX_TOOL_CALLS:
        raise _too_many_calls()
    calls = []
    for item in value:
        function = item["function"]
        name = function["name"]
        arguments = _arguments_text(function.get("arguments")) or "{}"
        calls.append(ToolCall(str(item.get("id") or ""), str(name), arguments))
    return tuple(calls)


def _call_deltas(value: object) -> list[ToolCallDelta]:
    """A chunk's `delta.tool_calls` pieces (OpenAI's shape), unredacted; malformed items
    are skipped."""
    deltas: list[ToolCallDelta] = []
    for position, item in enumerate(value if isinstance(value, list) else ()):
        if not isinstance(item, dict):
            continue
        function = item.get("function")
        if not isinstance(function, dict):
            function = {}
        index = item.get("index")
        call_id, name = item.get("id"), function.get("name")
        deltas.append(
            ToolCallDelta(
                index if isinstance(index, int) and not isinstance(index, bool) else position,
                None if call_id is None else str(call_id),
                None if name is None else str(name),
                _arguments_text(function.get("arguments")),
            )
        )
    return deltas


@attrs.define
class _Tally:
    """What a stream has said so far: its usage, its finish reason (redacted) and its text
    and tool-call arguments (as sent, to count tokens if it gives no usage)."""

    usage: dict[str, Any] = attrs.Factory(dict)
    reason: str = "stop"
    produced: list[str] = attrs.Factory(list)

    def take(self, chunk: dict[str, Any], redactor: Redactor) -> list[Delta | ToolCallDelta]:
        """Note a chunk's usage and finish reason; its text and tool-call pieces, in order
        (unredacted)."""
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        events: list[Delta | ToolCallDelta] = []
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            if delta.get("content"):
                events.append(Delta(str(delta["content"])))
            events += _call_deltas(delta.get("tool_calls"))
            if choice.get("finish_reason"):
                self.reason = redactor.text(str(choice["finish_reason"]))
        self.produced += [e.text if isinstance(e, Delta) else e.arguments for e in events]
        return events


class _Redacting:
    """Redacts a stream's text and each tool call's arguments across pieces (a call's id and
    name arrive whole)."""

    def __init__(self, redactor: Redactor) -> None:
        self._redactor = redactor
        self._text = redactor.stream()
        self._calls: dict[int, StreamRedactor] = {}

    def feed(self, event: Delta | ToolCallDelta) -> Delta | ToolCallDelta | None:
        """The event to send now (None when all of it is held back)."""
        if isinstance(event, Delta):
            text = self._text.feed(event.text)
            return Delta(text) if text else None
        redacting = self._calls.get(event.index)
        if redacting is None:
            if len(self._calls) >= MAX_TOOL_CALLS:
                raise _too_many_calls()
            redacting = self._calls[event.index] = self._redactor.stream()
        arguments = redacting.feed(event.arguments)
        if event.id is None and event.name is None and not arguments:
            return None
        redact = self._redactor.optional
        return ToolCallDelta(event.index, redact(event.id), redact(event.name), arguments)

    def flush(self) -> list[Delta | ToolCallDelta]:
        """What was held back at the end (it was not the start of a key after all)."""
        rest: list[Delta | ToolCallDelta] = []
        text = self._text.flush()
        if text:
            rest.append(Delta(text))
        for index, redacting in self._calls.items():
            arguments = redacting.flush()
            if arguments:
                rest.append(ToolCallDelta(index, arguments=arguments))
        return rest


def _tokens(usage: dict[str, Any], request: ChatRequest, text: str) -> tuple[int, int]:
    """Prompt and completion tokens: the upstream's usage, else estimates."""
    prompt = usage.get("prompt_tokens")
    completion = usage.get("completion_tokens")
    return (
        int(prompt) if isinstance(prompt, int) else _prompt_estimate(request),
        int(completion) if isinstance(completion, int) else count_tokens(text),
    )


def _prompt_estimate(request: ChatRequest) -> int:
    return prompt_tokens(request)


__all__ = ["OpenAIForwarder"]
