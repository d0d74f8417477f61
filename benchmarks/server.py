"""A minimal HTTP/1.1 server that answers like AI Gateway, as cheaply as possible.

It runs in its own process (`python -m benchmarks.server --port 0` prints `PORT <n>` once it
listens) so that the client process under test has a core to itself. It is a raw
`asyncio.Protocol`: no framework, keep-alive, and every reply is precomputed bytes, picked by
the request's route, whether the body asks for a stream, and the number of parts.

Routes (anything under `/v1/{account}/{gateway}/`):
- `.../workers-ai/{model}`: Workers AI's native API. JSON reply
  `{"result": {"response": ..., "usage": {...}}, "success": true, ...}`, or (when the body has
  `"stream": true`) an event stream of `data: {"response": "tok"}` frames, a usage frame and
  `data: [DONE]`.
- `.../compat/chat/completions`: an OpenAI `chat.completion`, or `chat.completion.chunk` frames,
  a finish chunk, a usage chunk and `data: [DONE]`.

Non-streamed bodies of the `agent` section (`benchmarks.shapes`), on both routes, checked in
this order: a body with a `"role": "tool"` message gets the final text reply; a body offering
`"tools"` gets one call of `get_weather` with `{"city":"Paris"}` (compat: `message.tool_calls`,
`finish_reason` "tool_calls"; Workers AI: `result.tool_calls` with the arguments as an
object); a body with a `"response_format"` gets `FORECAST` (compat: as the message's JSON
text; Workers AI JSON mode: as the `result.response` object itself).

A stream has `--parts` text parts (200 by default); a model or path containing `parts-<n>`
asks for `n` instead (e.g. `@cf/bench/parts-100000`). Stream bodies are sent chunked, one HTTP
chunk per event, as a streaming gateway does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import sys
from typing import Any

from benchmarks import shapes

_STREAM_FLAG = re.compile(rb'"stream"\s*:\s*true')
_PARTS = re.compile(rb"parts-(\d+)")
_TOOL_MESSAGE = re.compile(rb'"role"\s*:\s*"tool"')
_OFFERS_TOOLS = re.compile(rb'"tools"\s*:\s*\[')
_WANTS_JSON = re.compile(rb'"response_format"\s*:')
_MAX_PARTS = 2_000_000
TOKEN = " tok"
COMPAT_ID = "chatcmpl-bench"
LOG_ID = "01JBENCHMARK0000000000000000"


def _compact(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _head(status: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status}"]
    lines.extend(f"{name}: {value}" for name, value in headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


_COMMON = [("cf-aig-log-id", LOG_ID), ("cf-aig-cache-status", "MISS")]


def json_reply(body: bytes, status: str = "200 OK") -> bytes:
    headers = [("content-type", "application/json"), ("content-length", str(len(body)))]
    return _head(status, headers + _COMMON) + body


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def stream_reply(events: list[bytes]) -> bytes:
    head = _head(
        "200 OK",
        [
            ("content-type", "text/event-stream"),
            ("cache-control", "no-cache"),
            ("transfer-encoding", "chunked"),
            *_COMMON,
        ],
    )
    return head + b"".join(_chunk(b"data: " + event + b"\n\n") for event in events) + b"0\r\n\r\n"


def workers_ai_json(text: str) -> bytes:
    return _compact(
        {
            "result": {
                "response": text,
                "usage": {"prompt_tokens": 12, "completion_tokens": 9, "total_tokens": 21},
            },
            "success": True,
            "errors": [],
            "messages": [],
        }
    )


def compat_json(text: str | None, *, calls: list[Any] | None = None) -> bytes:
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if calls:
        message["tool_calls"] = calls
    return _compact(
        {
            "id": COMPAT_ID,
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": "@cf/meta/llama-3.1-8b-instruct",
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if calls else "stop",
                }
            ],
            "usage": {"prompt_tokens": 12, "completion_tokens": 9, "total_tokens": 21},
        }
    )


def workers_ai_tool_call_json() -> bytes:
    call = {"name": shapes.TOOL_NAME, "arguments": shapes.TOOL_ARGUMENTS}
    return _compact(
        {
            "result": {
                "response": None,
                "tool_calls": [call],
                "usage": {"prompt_tokens": 40, "completion_tokens": 12, "total_tokens": 52},
            },
            "success": True,
            "errors": [],
            "messages": [],
        }
    )


def compat_tool_call_json() -> bytes:
    arguments = _compact(shapes.TOOL_ARGUMENTS).decode()
    call = {
        "id": shapes.TOOL_CALL_ID,
        "type": "function",
        "function": {"name": shapes.TOOL_NAME, "arguments": arguments},
    }
    return compat_json(None, calls=[call])


def workers_ai_object_json() -> bytes:
    """Workers AI's JSON mode: the value itself is `result.response`."""
    return _compact(
        {
            "result": {
                "response": shapes.FORECAST,
                "usage": {"prompt_tokens": 60, "completion_tokens": 90, "total_tokens": 150},
            },
            "success": True,
            "errors": [],
            "messages": [],
        }
    )


def workers_ai_events(parts: int) -> list[bytes]:
    frame = _compact({"response": TOKEN})
    usage = _compact(
        {
            "response": "",
            "usage": {"prompt_tokens": 12, "completion_tokens": parts, "total_tokens": 12 + parts},
        }
    )
    return [frame] * parts + [usage, b"[DONE]"]


def compat_events(parts: int) -> list[bytes]:
    def chunk(delta: dict[str, str], finish: str | None) -> bytes:
        return _compact(
            {
                "id": COMPAT_ID,
                "object": "chat.completion.chunk",
                "created": 1_700_000_000,
                "model": "@cf/meta/llama-3.1-8b-instruct",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
        )

    usage = _compact(
        {
            "id": COMPAT_ID,
            "object": "chat.completion.chunk",
            "created": 1_700_000_000,
            "model": "@cf/meta/llama-3.1-8b-instruct",
            "choices": [],
            "usage": {"prompt_tokens": 12, "completion_tokens": parts, "total_tokens": 12 + parts},
        }
    )
    first = chunk({"role": "assistant", "content": ""}, None)
    return (
        [first] + [chunk({"content": TOKEN}, None)] * parts + [chunk({}, "stop"), usage, b"[DONE]"]
    )


REPLY_TEXT = "Hello! I am a canned reply from the benchmark server, nine tokens."
WORKERS_AI_JSON = json_reply(workers_ai_json(REPLY_TEXT))
COMPAT_JSON = json_reply(compat_json(REPLY_TEXT))
# The `agent` section's replies: (compat, Workers AI).
TOOL_FINAL = (
    json_reply(compat_json(shapes.FINAL_TEXT)),
    json_reply(workers_ai_json(shapes.FINAL_TEXT)),
)
TOOL_CALL = (json_reply(compat_tool_call_json()), json_reply(workers_ai_tool_call_json()))
OBJECT = (
    json_reply(compat_json(_compact(shapes.FORECAST).decode())),
    json_reply(workers_ai_object_json()),
)
NOT_FOUND = json_reply(
    _compact({"success": False, "errors": [{"code": 7000, "message": "No route"}]}),
    "404 Not Found",
)
BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class Replies:
    """Precomputed replies; streams are built on first use and kept."""

    def __init__(self, default_parts: int) -> None:
        self.default_parts = default_parts
        self._streams: dict[tuple[bool, int], bytes] = {}

    def stream(self, compat: bool, parts: int) -> bytes:
        key = (compat, parts)
        reply = self._streams.get(key)
        if reply is None:
            events = compat_events(parts) if compat else workers_ai_events(parts)
            reply = self._streams[key] = stream_reply(events)
        return reply

    @staticmethod
    def whole(compat: bool, body: bytes) -> bytes:
        """A non-streamed reply: the agent section's shapes, else the plain text reply."""
        route = 0 if compat else 1
        if _TOOL_MESSAGE.search(body) is not None:
            return TOOL_FINAL[route]
        if _OFFERS_TOOLS.search(body) is not None:
            return TOOL_CALL[route]
        if _WANTS_JSON.search(body) is not None:
            return OBJECT[route]
        return COMPAT_JSON if compat else WORKERS_AI_JSON

    def pick(self, target: bytes, body: bytes) -> bytes:
        compat = b"/compat/chat/completions" in target
        if not compat and b"/workers-ai/" not in target:
            return NOT_FOUND
        if _STREAM_FLAG.search(body) is None:
            return self.whole(compat, body)
        found = _PARTS.search(target) or _PARTS.search(body)
        parts = min(int(found.group(1)), _MAX_PARTS) if found else self.default_parts
        return self.stream(compat, parts)


class CannedHttp(asyncio.Protocol):
    """HTTP/1.1 with keep-alive and pipelining; bodies by Content-Length only."""

    __slots__ = ("_buffer", "_replies", "_transport")

    def __init__(self, replies: Replies) -> None:
        self._replies = replies
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data if self._buffer else data
        transport = self._transport
        assert transport is not None
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buffer[:end]
            length = 0
            lowered = head.lower()
            at = lowered.find(b"\r\ncontent-length:")
            if at >= 0:
                stop = lowered.find(b"\r\n", at + 2)
                try:
                    length = int(head[at + 17 : stop if stop >= 0 else len(head)])
                except ValueError:
                    transport.write(BAD_REQUEST)
                    transport.close()
                    return
            elif b"\r\ntransfer-encoding:" in lowered:
                transport.write(BAD_REQUEST)  # no client under test sends chunked bodies
                transport.close()
                return
            total = end + 4 + length
            if len(buffer) < total:
                break
            target = head[: head.find(b"\r\n")]
            transport.write(self._replies.pick(target, buffer[end + 4 : total]))
            buffer = buffer[total:]
        self._buffer = buffer


async def serve(host: str, port: int, parts: int, ready: asyncio.Future[int] | None = None) -> None:
    loop = asyncio.get_running_loop()
    replies = Replies(parts)
    server = await loop.create_server(lambda: CannedHttp(replies), host, port, backlog=1024)
    bound = server.sockets[0].getsockname()[1]
    if ready is not None:
        ready.set_result(bound)
    else:
        sys.stdout.write(f"PORT {bound}\n")
        sys.stdout.flush()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--parts", type=int, default=200, help="text parts per stream")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.host, args.port, args.parts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
