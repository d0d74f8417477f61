"""Map every way an HTTP call can fail to an `AiError` reason."""

from __future__ import annotations

from typing import Any

import httpx

from aigateway_sdk import _json
from aigateway_sdk.errors import (
    GATEWAY_UNAUTHORIZED_CODE,
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
    code = details[0].code if details else None
    if status == 401:
        message = f"{message}: {_refused_credential(code)}"
    cls = reason_for_status(status)
    return cls(
        message=message,
        status=status,
        code=code,
        log_id=headers.get("cf-aig-log-id"),
        retry_after=parse_retry_after(headers),
        details=details,
    )


def _refused_credential(code: int | None) -> str:
    """Which credential a 401 refused, from Cloudflare's code."""
    if code == GATEWAY_UNAUTHORIZED_CODE:
        return "the gateway token is missing or wrong (gateway_token, sent as cf-aig-authorization)"
    if code is not None:
        return (
            "the API token or provider key is missing or wrong "
            "(api_token or provider_api_keys, sent as authorization)"
        )
    return "an API token, provider key or gateway token is missing or wrong"


def _os_error(error: BaseException) -> OSError | None:
    """The operating system's error under an httpx one (refused, unreachable, DNS), if any:
    the first `OSError` with an errno along the causes, looking inside exception groups."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno is not None:
            return current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                pending.append(linked)
    return None


def _target(error: Exception) -> str:
    """`host:port` of the request that failed, or "" when the error does not know it."""
    try:
        url = error.request.url if isinstance(error, httpx.RequestError) else None
    except RuntimeError:  # an httpx error raised without its request
        url = None
    if url is None or not url.host:
        return ""
    port = url.port or {"http": 80, "https": 443}.get(url.scheme)
    return f"{url.host}:{port}" if port else url.host


def reason_from_exception(error: Exception) -> Reason:
    """The reason for an exception raised while sending or reading (never re-raised as is).

    The message names the host and port and the operating system's error when known; callers
    raise the `AiError` `from error`, so the original stays reachable as `__cause__`."""
    name = type(error).__name__
    target = _target(error)
    os_error = _os_error(error)
    detail = str(os_error) if os_error is not None else str(error)
    detail = f": {detail[:MAX_MESSAGE_CHARS]}" if detail and detail != name else ""
    if isinstance(error, httpx.TimeoutException | TimeoutError):
        where = f" waiting for {target}" if target else ""
        return Timeout(message=f"timed out{where} ({name})")
    if isinstance(error, httpx.DecodingError):
        return MalformedOutput(message=f"could not decode the reply{detail} ({name})")
    if isinstance(error, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return InvalidRequest(message=f"bad URL ({name}): check base_url")
    where = f" to {target}" if target else ""
    if isinstance(error, httpx.ConnectError):
        return NetworkError(message=f"could not connect{where}{detail} ({name})")
    return NetworkError(message=f"connection{where} failed{detail} ({name})")


__all__ = ["reason_from_exception", "reason_from_response"]
