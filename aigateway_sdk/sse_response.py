"""`sse_encode(parts)`: stream parts as `text/event-stream` bytes for any ASGI response.

Each part becomes `data: {json}\n\n` with Effect AI's part names. A failure mid-stream becomes
one `event: error` frame naming the reason (never a secret), then the stream ends; the HTTP
status cannot change once streaming has begun.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

from aigateway_sdk import _json
from aigateway_sdk.errors import AiError, Defect
from aigateway_sdk.parts import StreamPart

SSE_HEADERS = {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    "x-accel-buffering": "no",
}


async def sse_encode(parts: AsyncIterable[StreamPart]) -> AsyncIterator[bytes]:
    try:
        async for part in parts:
            yield b"data: " + _json.dumps(part.to_json()) + b"\n\n"
    except (AiError, Defect) as failure:
        error = failure if isinstance(failure, AiError) else failure.error
        payload = {"type": "error", "reason": error.reason.tag, "message": error.message}
        yield b"event: error\ndata: " + _json.dumps(payload) + b"\n\n"


__all__ = ["SSE_HEADERS", "sse_encode"]
