"""The one error map: every reason an SDK call fails with is built here.

From a reply (`reason_from_response`: status, headers, raw body), from a parsed Cloudflare
error envelope or OpenAI error object (`reason_from_body`, which the control plane also uses
for a `success: false` on a 2xx), from an exception raised while sending or reading
(`reason_from_exception`, `stream_interrupted`), from an error a provider reports inside a
stream (`reason_from_error_frame`), and for a reply that cannot be decoded (`malformed`).
The data plane (`transport/http.py`, the model) and the control plane (`control/_api.py`)
both use these, so the same fault gives the same reason on either side. Which reasons are
retried is decided by `transport/retry.py` (`retrying` with a classifier).
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import attrs
import httpx

from aigateway_sdk import _json
from aigateway_sdk.contract.catalog import NO_SUCH_MODEL_CODE
from aigateway_sdk.errors import (
    GATEWAY_UNAUTHORIZED_CODE,
    Conflict,
    ErrorDetail,
    InvalidRequest,
    MalformedOutput,
    NetworkError,
    ProviderError,
    Reason,
    RouteFailed,
    Timeout,
    UnknownModel,
    reason_for_status,
)
from aigateway_sdk.transport.retry import parse_retry_after

R = TypeVar("R", bound=Reason)


def recast(reason: Reason, cause: type[R], **fields: Any) -> R:
    """`reason`'s facts (message, status, code, log id, retry-after, details) as another
    `cause`, with that cause's own `fields`."""
    facts = {field.name: getattr(reason, field.name) for field in attrs.fields(Reason)}
    return cause(**facts, **fields)


MAX_MESSAGE_CHARS = 500
"""Longest message kept from a server's error (each detail, and a stream's error frame)."""


def error_details(body: object) -> tuple[ErrorDetail, ...]:
    """Every error a parsed body lists: Cloudflare's `errors` (or `error`, seen on 401s) list,
    OpenAI's `error` object, or a bare `error` string; () for anything else."""
    if not isinstance(body, dict):
        return ()
    found = body.get("errors") or body.get("error")
    if isinstance(found, dict):  # OpenAI shape: {"error": {"message", "type", "code"}}
        found = [found]
    if isinstance(found, str):
        return (ErrorDetail(code=None, message=found[:MAX_MESSAGE_CHARS]),)
    if not isinstance(found, list):
        return ()
    return tuple(_detail(item) for item in found if isinstance(item, dict))


def _detail(item: dict[str, Any]) -> ErrorDetail:
    code = item.get("code")
    message = item.get("message")
    path = item.get("path")
    return ErrorDetail(
        code=code if isinstance(code, int) and not isinstance(code, bool) else None,
        message=str(message)[:MAX_MESSAGE_CHARS] if message is not None else "",
        path=tuple(str(p) for p in path) if isinstance(path, list) else (),
    )


def reason_from_response(status: int, headers: httpx.Headers, content: bytes) -> Reason:
    """The reason for a non-success reply, from its status, headers and (maybe JSON) body."""
    body: Any = None
    if content:
        try:
            body = _json.loads(content)
        except ValueError:
            body = None
    return reason_from_body(status, headers, body)


def reason_from_body(
    status: int,
    headers: httpx.Headers | None,
    body: object,
    *,
    fallback: str | None = None,
) -> Reason:
    """The reason for a reply whose parsed body reports an error: Cloudflare's envelope
    (`{"success": false, "errors": [{"code", "message", "path"}]}`), OpenAI's `{"error": {...}}`
    or anything else (then the message is `fallback`, or the status and its phrase).

    The class follows the status (`reason_for_status`; a 2xx that says `success: false` is
    `UnexpectedStatus`; a 400 with Workers AI's code 5007 is `UnknownModel`); the code is the
    first error's; a 401's message names the credential refused; `log_id` and `retry_after`
    come from the headers."""
    details = error_details(body)
    if details and details[0].message:
        message = "; ".join(d.message for d in details if d.message)
    elif fallback is not None:
        message = fallback
    else:
        phrase = httpx.codes.get_reason_phrase(status) or "error"
        message = f"HTTP {status} {phrase}"
    code = details[0].code if details else None
    if status == 401:
        message = f"{message}: {_refused_credential(code)}"
    headers = httpx.Headers() if headers is None else headers
    reason = reason_for_status(status)(
        message=message,
        status=status,
        code=code,
        log_id=headers.get("cf-aig-log-id"),
        retry_after=parse_retry_after(headers),
        details=details,
    )
    if type(reason) is InvalidRequest and code == NO_SUCH_MODEL_CODE:
        return recast(reason, UnknownModel, model=_unknown_model_id(message))
    route = _failed_route(body) if status >= 500 else None
    if route is None:
        return reason
    return recast(reason, RouteFailed, route=route[0], tried=route[1])


def _failed_route(body: object) -> tuple[str, tuple[str, ...]] | None:
    """The route and the models it tried, from the local gateway's reply to a dynamic route
    whose models all failed (`{"route": {"name", "tried": [...]}}` beside the errors)."""
    route = body.get("route") if isinstance(body, dict) else None
    if not isinstance(route, dict):
        return None
    name, tried = route.get("name"), route.get("tried")
    if not isinstance(name, str) or not isinstance(tried, list):
        return None
    return name[:MAX_MESSAGE_CHARS], tuple(str(t)[:MAX_MESSAGE_CHARS] for t in tried[:100])


_NO_SUCH_MODEL = re.compile(r"No such model (\S+) or task")


def _unknown_model_id(message: str) -> str | None:
    """The model id Workers AI's "No such model <id> or task" names, if it does."""
    match = _NO_SUCH_MODEL.search(message)
    return match.group(1) if match else None


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


def stream_interrupted(error: Exception, *, log_id: str | None = None) -> Reason:
    """The reason for an exception raised while reading a stream the caller already reads:
    `reason_from_exception`'s class and message, said to have interrupted the stream."""
    reason = reason_from_exception(error)
    return type(reason)(message=f"stream interrupted: {reason.message}", log_id=log_id)


def reason_from_error_frame(
    data: bytes, event: str | None = None, *, log_id: str | None = None
) -> Reason | None:
    """The error a provider reports inside a stream, as a `ProviderError`: an event named
    `error`, or a frame whose JSON holds a non-empty `error` or `errors`; None for any other
    event. The message is the listed errors', else the frame's `message`, else its text."""
    try:
        body = _json.loads(data)
    except ValueError:
        body = None
    is_error_frame = isinstance(body, dict) and bool(body.get("error") or body.get("errors"))
    if event != "error" and not is_error_frame:
        return None
    details = error_details(body)
    message = "; ".join(d.message for d in details if d.message) or _frame_message(body, data)
    return ProviderError(
        message=f"the stream failed: {message}"[:MAX_MESSAGE_CHARS],
        code=details[0].code if details else None,
        log_id=log_id,
        details=details,
    )


def _frame_message(body: object, data: bytes) -> str:
    """An error frame's own `message`, else its text."""
    if isinstance(body, dict) and isinstance(body.get("message"), str) and body["message"]:
        return str(body["message"])
    return data.decode("utf-8", "replace")


def malformed(
    message: str, *, status: int | None = None, headers: httpx.Headers | None = None
) -> MalformedOutput:
    """A reply that could not be decoded (bad JSON, wrong shape or content type, too large);
    `headers` give its `cf-aig-log-id`."""
    log_id = headers.get("cf-aig-log-id") if headers is not None else None
    return MalformedOutput(message=message, status=status, log_id=log_id)


_TAKEN = re.compile(r"already exists|duplicate|already in use", re.IGNORECASE)
"""How Cloudflare words a create whose id is taken when it answers 400 rather than 409."""


def conflict_if_taken(reason: Reason) -> Reason:
    """A create refused because the id is taken is a `Conflict`, whether Cloudflare answers
    409 or a 400 saying the resource "already exists"; any other reason is returned as is."""
    if isinstance(reason, InvalidRequest) and _TAKEN.search(reason.message):
        return recast(reason, Conflict)
    return reason


__all__ = [
    "MAX_MESSAGE_CHARS",
    "conflict_if_taken",
    "error_details",
    "malformed",
    "reason_from_body",
    "reason_from_error_frame",
    "reason_from_exception",
    "reason_from_response",
    "recast",
    "stream_interrupted",
]
