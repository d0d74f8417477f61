"""Send a request with retries and typed failures; read JSON replies or open streams.

Every exception that httpx, anyio or the JSON decoder may raise is turned into an `AiError`
here, so nothing else in the SDK has to think about it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
import attrs
import httpx

from aigateway_sdk import _json
from aigateway_sdk.errors import AiError, MalformedOutput, Reason, Timeout
from aigateway_sdk.transport.failures import reason_from_exception, reason_from_response
from aigateway_sdk.transport.retry import DEFAULT_RETRY, RetryPolicy

DEFAULT_LIMITS = httpx.Limits(max_connections=256, max_keepalive_connections=64)
"""The binding's pool: enough for heavy fan-out, few idle sockets kept."""

Params = Mapping[str, str | int | float | bool]

SEND_ERRORS = (
    httpx.HTTPError,
    httpx.InvalidURL,
    OSError,
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
    anyio.EndOfStream,
)
"""Everything sending or reading may raise that is the network's fault, not the caller's."""


@attrs.frozen(slots=True)
class JsonReply:
    """A successful JSON reply."""

    status: int
    headers: httpx.Headers
    body: Any


def _is_json(headers: httpx.Headers) -> bool:
    content_type = headers.get("content-type")
    return content_type is None or "json" in content_type


async def _wait_or_raise(reason: Reason, retries_done: int, retry: RetryPolicy) -> None:
    delay = retry.delay(retries_done, reason.retry_after) if reason.is_retryable else None
    if delay is None:
        raise AiError(reason)
    await anyio.sleep(delay)


async def request_json(
    client: httpx.AsyncClient,
    method: str,
    url: str | httpx.URL,
    *,
    headers: Mapping[str, str] | None = None,
    json_body: object = None,
    content: bytes | None = None,
    params: Params | None = None,
    retry: RetryPolicy = DEFAULT_RETRY,
    timeout: float | None = None,
) -> JsonReply:
    """Send and decode a JSON reply; raise `AiError` on any failure, after retries."""
    if content is None and json_body is not None:
        content = _json.dumps(json_body)
    extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
    retries_done = 0
    while True:
        try:
            response = await client.request(
                method, url, content=content, headers=headers, params=params, **extra
            )
        except SEND_ERRORS as error:
            reason = reason_from_exception(error)
        else:
            status = response.status_code
            if 200 <= status < 300:
                return JsonReply(status, response.headers, decode_json(response))
            reason = reason_from_response(status, response.headers, response.content)
        await _wait_or_raise(reason, retries_done, retry)
        retries_done += 1


def decode_json(response: httpx.Response) -> Any:
    """The JSON body of a successful reply, or `MalformedOutput`."""
    headers = response.headers
    log_id = headers.get("cf-aig-log-id")
    if not _is_json(headers):
        raise AiError(
            MalformedOutput(
                message=f"expected JSON, got {headers.get('content-type')!r}",
                status=response.status_code,
                log_id=log_id,
            )
        )
    try:
        return _json.loads(response.content)
    except ValueError:
        raise AiError(
            MalformedOutput(
                message="the reply is not valid JSON", status=response.status_code, log_id=log_id
            )
        ) from None


@asynccontextmanager
async def open_stream(
    client: httpx.AsyncClient,
    method: str,
    url: str | httpx.URL,
    *,
    headers: Mapping[str, str] | None = None,
    content: bytes | None = None,
    retry: RetryPolicy = DEFAULT_RETRY,
    timeout: float | None = None,
    deadline: float | None = None,
) -> AsyncIterator[httpx.Response]:
    """Open a streamed reply with a 2xx status (retrying until then); close it on exit.

    Retries happen only here, before the caller has seen anything of the body. `deadline` (a
    `time.monotonic()` value) bounds the whole opening, retries included: past it, `Timeout`.
    """
    extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
    retries_done = 0
    while True:
        try:
            request = client.build_request(method, url, content=content, headers=headers, **extra)
            if deadline is None:
                response = await client.send(request, stream=True)
            else:
                with anyio.fail_after(max(0.0, deadline - time.monotonic())):
                    response = await client.send(request, stream=True)
        except TimeoutError:
            raise AiError(Timeout(message="no reply before the total time limit")) from None
        except SEND_ERRORS as error:
            reason = reason_from_exception(error)
        else:
            status = response.status_code
            if 200 <= status < 300:
                break
            try:
                body = await response.aread()
            except SEND_ERRORS:
                body = b""
            finally:
                await response.aclose()
            reason = reason_from_response(status, response.headers, body)
        if deadline is not None and reason.is_retryable:
            remaining = deadline - time.monotonic()
            wait = retry.delay(retries_done, reason.retry_after)
            if wait is not None and wait >= remaining:
                raise AiError(reason)
        await _wait_or_raise(reason, retries_done, retry)
        retries_done += 1
    try:
        yield response
    finally:
        await response.aclose()


__all__ = ["SEND_ERRORS", "JsonReply", "decode_json", "open_stream", "request_json"]
