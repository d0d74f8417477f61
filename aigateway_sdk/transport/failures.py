"""Map every way an HTTP call can fail to an `AiError` reason."""

from __future__ import annotations

from typing import Any

import httpx

from aigateway_sdk import _json
from aigateway_sdk.errors import (
    ErrorDetail,
    InvalidRequest,
    MalformedOutput,
    NetworkError,
    Reason,
    Timeout,
    reason_for_status,
)
from aigateway_sdk.transport.retry import parse_retry_after

MAX_MESSAGE_CHARS = 500


def _details(body: Any) -> tuple[ErrorDetail, ...]:
    """Cloudflare's `errors` (or `error`, seen on 401s) list, or OpenAI's `error` object."""
    if not isinstance(body, dict):
        return ()
    found = body.get("errors") or body.get("error")
    if isinstance(found, dict):  # OpenAI shape: {"error": {"message", "type", "code"}}
        found = [found]
    if not isinstance(found, list):
        if isinstance(found, str):
            return (ErrorDetail(code=None, message=found[:MAX_MESSAGE_CHARS]),)
        return ()
    details = []
    for item in found:
        if not isinstance(item, dict):
            continue
        code = item.get("code")
        message = item.get("message")
        path = item.get("path")
        details.append(
            ErrorDetail(
                code=code if isinstance(code, int) and not isinstance(code, bool) else None,
                message=str(message)[:MAX_MESSAGE_CHARS] if message is not None else "",
                path=tuple(str(p) for p in path) if isinstance(path, list) else (),
            )
        )
    return tuple(details)


def reason_from_response(status: int, headers: httpx.Headers, content: bytes) -> Reason:
    """The reason for a non-success reply, from its status, headers and (maybe JSON) body."""
    body: Any = None
    if content:
        try:
            body = _json.loads(content)
        except ValueError:
            body = None
    details = _details(body)
    if details and details[0].message:
        message = "; ".join(d.message for d in details if d.message)
    else:
        phrase = httpx.codes.get_reason_phrase(status) or "error"
        message = f"HTTP {status} {phrase}"
    cls = reason_for_status(status)
    return cls(
        message=message,
        status=status,
        code=details[0].code if details else None,
        log_id=headers.get("cf-aig-log-id"),
        retry_after=parse_retry_after(headers),
        details=details,
    )


def reason_from_exception(error: Exception) -> Reason:
    """The reason for an exception raised while sending or reading (never re-raised as is)."""
    name = type(error).__name__
    if isinstance(error, httpx.TimeoutException | TimeoutError):
        return Timeout(message=f"timed out ({name})")
    if isinstance(error, httpx.DecodingError):
        return MalformedOutput(message=f"could not decode the reply ({name})")
    if isinstance(error, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return InvalidRequest(message=f"bad URL ({name}): check base_url")
    return NetworkError(message=f"connection failed ({name})")


__all__ = ["reason_from_exception", "reason_from_response"]
