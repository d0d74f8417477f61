"""Reading a request body with a size limit (HTTP 413 past it) and parsing JSON (400)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from aigateway_sdk._json import loads
from aigateway_sdk.local.errors import CODE_TOO_LARGE, ApiError


def too_large(limit: int) -> ApiError:
    return ApiError(413, CODE_TOO_LARGE, f"Request body is larger than {limit} bytes")


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def parse_json(body: bytes) -> Any:
    if not body.strip():
        raise ApiError.bad_json("Request body is empty; a JSON body is required")
    try:
        return loads(body)
    except ValueError:
        raise ApiError.bad_json() from None


async def read_json(request: Request, limit: int) -> Any:
    return parse_json(await read_body(request, limit))


__all__ = ["parse_json", "read_body", "read_json", "too_large"]
