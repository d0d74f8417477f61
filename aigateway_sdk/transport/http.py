"""Send a request with retries and typed failures; read JSON replies or open streams.

Every exception that httpx, anyio or the JSON decoder may raise is turned into an `AiError`
here, so nothing else in the SDK has to think about it. Reply bodies are read as they arrive,
counted after decoding, and cut at `max_response_bytes`.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
import attrs
import httpx

from aigateway_sdk import _json
from aigateway_sdk.errors import AiError, Reason, Timeout
from aigateway_sdk.observe import log
from aigateway_sdk.transport.failures import malformed, reason_from_exception, reason_from_response
from aigateway_sdk.transport.retry import (
    DEFAULT_RETRY,
    Classifier,
    RetryPolicy,
    retry_if_retryable,
    retrying,
)

DEFAULT_LIMITS = httpx.Limits(max_connections=256, max_keepalive_connections=64)
"""The binding's pool: enough for heavy fan-out, few idle sockets kept."""

DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024
"""The largest reply body (after decompression) read into memory; streams are bounded per event
instead (`max_event_bytes`)."""

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


def _malformed(response: httpx.Response, message: str) -> AiError:
    return AiError(malformed(message, status=response.status_code, headers=response.headers))


def _too_large(response: httpx.Response, max_bytes: int) -> AiError:
    return _malformed(response, f"the reply is larger than {max_bytes} bytes (max_response_bytes)")


async def read_body(response: httpx.Response, max_bytes: int) -> bytes:
    """The decoded body of `response`, read as it arrives; `MalformedOutput` once it passes
    `max_bytes`, without reading further. A gzip body is inflated at most `max_bytes + 1` bytes
    at a time, so a small reply that would inflate to gigabytes costs no more than the limit.
    Errors of the connection propagate as they are (see `SEND_ERRORS`)."""
    try:
        content = response.content  # already read (an event hook, a mocked reply)
    except httpx.ResponseNotRead:
        pass
    else:
        if len(content) > max_bytes:
            raise _too_large(response, max_bytes)
        return content
    parts: list[bytes] = []
    size = 0
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding == "gzip":
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        try:
            async for raw in response.aiter_raw():
                # Output stops at the limit plus one byte: over it is an error, under it
                # means every input byte was used (nothing is left in `unconsumed_tail`).
                part = inflater.decompress(raw, max_bytes - size + 1)
                size += len(part)
                if size > max_bytes:
                    raise _too_large(response, max_bytes)
                parts.append(part)
            part = inflater.flush()
        except zlib.error as error:
            raise _malformed(response, f"could not decode the gzip reply ({error})") from None
        size += len(part)
        parts.append(part)
    else:
        # No encoding is read raw; another one (deflate, br, zstd) by httpx's decoders.
        chunks = response.aiter_raw() if encoding in ("", "identity") else response.aiter_bytes()
        async for part in chunks:
            size += len(part)
            if size > max_bytes:
                raise _too_large(response, max_bytes)
            parts.append(part)
    if size > max_bytes:
        raise _too_large(response, max_bytes)
    return b"".join(parts)


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def _without_credentials(reason: Reason, headers: Mapping[str, str] | None) -> Reason:
    """`reason` with the request's own credentials taken out of its messages: an upstream may
    quote the key it was sent ("Incorrect API key provided: sk-..."), and the message goes on
    to exceptions, logs and trace spans."""
    secrets = log.header_secrets(headers)
    texts = [reason.message, *(detail.message for detail in reason.details)]
    if not any(secret in text for secret in secrets for text in texts):
        return reason
    details = tuple(
        attrs.evolve(d, message=log.without_secrets(d.message, secrets)) for d in reason.details
    )
    message = log.without_secrets(reason.message, secrets)
    return attrs.evolve(reason, message=message, details=details)


def _deadline_passed() -> AiError:
    return AiError(Timeout(message="no complete reply within the total time limit"))


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
    deadline: float | None = None,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    classify: Classifier = retry_if_retryable,
) -> JsonReply:
    """Send and decode a JSON reply; raise `AiError` on any failure, after retries.

    `deadline` (a `time.monotonic()` value) bounds the whole call, retries and the reading
    of the body included: past it, `Timeout`; a retry whose wait would end past it is not
    made (the last reason is raised at once). A body over `max_response_bytes` (after
    decompression, error replies too) is `MalformedOutput` and is not retried. `classify`
    decides which failures are retried (see `transport.retry.retrying`).
    """
    if content is None and json_body is not None:
        content = _json.dumps(json_body)
    extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}

    async def attempt() -> JsonReply:
        try:
            request = client.build_request(
                method, url, content=content, headers=headers, params=params, **extra
            )
            if deadline is None:
                response, body = await _exchange(client, request, max_response_bytes)
            else:
                with anyio.move_on_after(_remaining(deadline)) as scope:
                    response, body = await _exchange(client, request, max_response_bytes)
                if scope.cancelled_caught:
                    raise _deadline_passed()
        except SEND_ERRORS as error:
            raise AiError(reason_from_exception(error)) from error
        status = response.status_code
        if 200 <= status < 300:
            return JsonReply(status, response.headers, decode_json(response, body))
        reason = reason_from_response(status, response.headers, body)
        raise AiError(_without_credentials(reason, headers))

    shown = httpx.URL(url).copy_merge_params(params) if params else url  # the log's URL
    debug = log.LOGGER.isEnabledFor(log.DEBUG)
    run = log.logged(attempt, method, shown, content, _json_head, headers) if debug else attempt
    return await retrying(run, retry, classify, deadline=deadline, method=method, url=shown)


def _json_head(reply: JsonReply) -> tuple[int, httpx.Headers, Any]:
    return reply.status, reply.headers, reply.body


def _stream_head(response: httpx.Response) -> tuple[int, httpx.Headers, Any]:
    return response.status_code, response.headers, None


async def _exchange(
    client: httpx.AsyncClient, request: httpx.Request, max_bytes: int
) -> tuple[httpx.Response, bytes]:
    """Send `request` and read its whole body (bounded); always close the reply."""
    response = await client.send(request, stream=True)
    try:
        return response, await read_body(response, max_bytes)
    finally:
        with anyio.CancelScope(shield=True):
            await response.aclose()


async def _open(
    client: httpx.AsyncClient, request: httpx.Request, max_bytes: int
) -> tuple[httpx.Response, bytes | None]:
    """Send `request`: a 2xx reply is returned open (and no body); any other is read (bounded;
    a body cut by the network counts as empty) and closed."""
    response = await client.send(request, stream=True)
    if 200 <= response.status_code < 300:
        return response, None
    try:
        body = await read_body(response, max_bytes)
    except SEND_ERRORS:
        body = b""
    finally:
        with anyio.CancelScope(shield=True):
            await response.aclose()
    return response, body


def decode_json(response: httpx.Response, content: bytes) -> Any:
    """`content`, the body of a successful reply, as JSON; or `MalformedOutput`."""
    if not _is_json(response.headers):
        raise _malformed(response, f"expected JSON, got {response.headers.get('content-type')!r}")
    try:
        return _json.loads(content)
    except ValueError:
        raise _malformed(response, "the reply is not valid JSON") from None


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
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    classify: Classifier = retry_if_retryable,
) -> AsyncIterator[httpx.Response]:
    """Open a streamed reply with a 2xx status (retrying until then); close it on exit.

    Retries happen only here, before the caller has seen anything of the body. `deadline` (a
    `time.monotonic()` value) bounds the whole opening, retries included: past it, `Timeout`.
    The body of an error reply is read up to `max_response_bytes` (over it: `MalformedOutput`).
    """
    extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}

    async def attempt() -> httpx.Response:
        try:
            request = client.build_request(method, url, content=content, headers=headers, **extra)
            if deadline is None:
                response, body = await _open(client, request, max_response_bytes)
            else:
                with anyio.move_on_after(_remaining(deadline)) as scope:
                    response, body = await _open(client, request, max_response_bytes)
                if scope.cancelled_caught:
                    raise AiError(Timeout(message="no reply before the total time limit"))
        except SEND_ERRORS as error:
            raise AiError(reason_from_exception(error)) from error
        if body is None:
            return response
        reason = reason_from_response(response.status_code, response.headers, body)
        raise AiError(_without_credentials(reason, headers))

    debug = log.LOGGER.isEnabledFor(log.DEBUG)
    run = log.logged(attempt, method, url, content, _stream_head, headers) if debug else attempt
    response = await retrying(run, retry, classify, deadline=deadline, method=method, url=url)
    try:
        yield response
    finally:
        await response.aclose()


__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "SEND_ERRORS",
    "JsonReply",
    "decode_json",
    "open_stream",
    "read_body",
    "request_json",
]
