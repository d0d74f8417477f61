"""Reading a request body with a size limit (HTTP 413 past it) and parsing JSON (400).

JSON is parsed here and only here, with a cap on how deeply arrays and objects nest
(`MAX_JSON_DEPTH`): orjson reads up to 1,024 levels but writes at most 254, and the gateway
writes parts of a body back out (the built-in model hashes its parameters, a Universal step's
`query` becomes the step's body, logs keep the body), so a body nested deeper than it can write
would otherwise fail far from here.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from starlette.requests import ClientDisconnect, Request

from aigateway_sdk._json import loads
from aigateway_sdk.local.web.errors import CODE_TOO_LARGE, ApiError

MAX_JSON_DEPTH = 128
"""How deeply arrays and objects may nest in a JSON body (this gateway's choice)."""

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_SIGNS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 opens, -1 (signed) closes


class TooDeep(ValueError):
    """JSON nested deeper than `MAX_JSON_DEPTH`."""


def too_deep(text: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether valid JSON `text` nests arrays/objects deeper than `limit` (C-speed scans)."""
    if text.count(b"[") + text.count(b"{") <= limit:
        return False
    if b'"' in text:
        text = _STRING.sub(b"", text)  # brackets inside strings do not nest
    signs = memoryview(text.translate(_SIGNS, _NOT_BRACKETS)).cast("b")
    return max(itertools.accumulate(signs), default=0) > limit


def load_json(text: bytes) -> Any:
    """`text` parsed; ValueError when it is not JSON, TooDeep when it nests too deeply."""
    value = loads(text)
    if too_deep(text):
        raise TooDeep(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def too_large(limit: int) -> ApiError:
    return ApiError(413, CODE_TOO_LARGE, f"Request body is larger than {limit} bytes")


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            chunks.append(chunk)
    except ClientDisconnect:
        # The client left (or was dropped for sending its body too slowly): nobody reads this.
        raise ApiError.bad_json("The request body was not received in full") from None
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def parse_json(body: bytes) -> Any:
    if not body.strip():
        raise ApiError.bad_json("Request body is empty; a JSON body is required")
    try:
        return load_json(body)
    except TooDeep:
        raise ApiError.bad_json(
            f"JSON in the request body is nested deeper than {MAX_JSON_DEPTH} levels"
        ) from None
    except ValueError:
        raise ApiError.bad_json() from None


async def read_json(request: Request, limit: int) -> Any:
    return parse_json(await read_body(request, limit))


__all__ = [
    "MAX_JSON_DEPTH",
    "TooDeep",
    "load_json",
    "parse_json",
    "read_body",
    "read_json",
    "too_deep",
    "too_large",
]
