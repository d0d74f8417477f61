"""One account's control-plane connection: base URL, token, a lazily opened pooled client.

`GatewayAdmin` and every `LogsClient` it hands out share one `ControlApi`, hence one
`httpx.AsyncClient`. Nothing here does I/O until the first call. Requests go through the
data plane's transport (`request_json`, `open_stream`): the same error map
(`transport/failures.py`), the same `SEND_ERRORS` and the same retry helper, so a fault gives
the same reason here as in a model call.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import attrs
import httpx

from aigateway_sdk._decode import malformed
from aigateway_sdk.errors import AiError, Conflict, NotFound, Reason
from aigateway_sdk.transport.client import LazyClient
from aigateway_sdk.transport.failures import (
    conflict_if_taken,
    reason_from_body,
    reason_from_exception,
)
from aigateway_sdk.transport.http import (
    DEFAULT_MAX_RESPONSE_BYTES,
    SEND_ERRORS,
    open_stream,
    read_body,
    request_json,
)
from aigateway_sdk.transport.retry import (
    DEFAULT_RETRY,
    Classifier,
    RetryPolicy,
    retry_if_retryable,
)
from aigateway_sdk.validation import FieldError, ValidationError

DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"
DEFAULT_TIMEOUT = 30.0

QueryPairs = Sequence[tuple[str, str | int]]
T = TypeVar("T")


@attrs.frozen(slots=True)
class Envelope:
    """A successful reply's `result` and, for lists, its `result_info`."""

    result: Any
    total_count: int | None = None
    total_pages: int | None = None
    body: Any = attrs.field(default=None, repr=False, eq=False)
    """The whole reply, for the few APIs that answer beside `result` (`{data}`, `{route}`)."""


def segment(value: str) -> str:
    """One path segment, escaped (ids come from users and files)."""
    return quote(value, safe="@")


def classify_create(reason: Reason) -> Reason | None:
    """The retry classifier of a create: a taken id or name (409, or a 400 saying so) is a
    `Conflict` raised at once, never repeated; anything else is retried if retryable."""
    reason = conflict_if_taken(reason)
    return reason if isinstance(reason, Conflict) or not reason.is_retryable else None


async def or_none(call: Awaitable[T]) -> T | None:
    """What `call` returns, or None when it fails with `NotFound`."""
    try:
        return await call
    except AiError as error:
        if isinstance(error.reason, NotFound):
            return None
        raise


async def deleted(call: Awaitable[object]) -> bool:
    """Await a delete: True when it deleted, False when it failed with `NotFound` (already
    gone)."""
    try:
        await call
    except AiError as error:
        if isinstance(error.reason, NotFound):
            return False
        raise
    return True


def _connection_problems(
    account_id: str, api_token: str, timeout: float | None
) -> list[FieldError]:
    """What is wrong with an admin's account id, token and timeout (all refused when built)."""
    problems = [
        FieldError((name,), "is required and must be one line")
        for name, value in (("account_id", account_id), ("api_token", api_token))
        if not isinstance(value, str) or not value.strip() or any(c in value for c in "\r\n\0")
    ]
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0
    ):
        problems.append(FieldError(("timeout",), f"must be seconds > 0, got {timeout!r}"))
    return problems


class ControlApi:
    """Calls `{base_url}/accounts/{account_id}/ai-gateway{path}` with the account's token."""

    def __init__(
        self,
        account_id: str,
        api_token: str,
        base_url: str,
        *,
        client: httpx.AsyncClient | None,
        retry: RetryPolicy | None,
        timeout: float | None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        problems = _connection_problems(account_id, api_token, timeout)
        if client is not None and transport is not None:
            problems.append(FieldError(("transport",), "cannot be combined with client="))
        if problems:
            raise ValidationError(problems, what="gateway admin")
        self.account_id = account_id
        self.retry = DEFAULT_RETRY if retry is None else retry
        self._root = f"{base_url.rstrip('/')}/accounts/{segment(account_id)}/ai-gateway"
        self._headers = {"authorization": f"Bearer {api_token}", "accept": "application/json"}
        self._clients = LazyClient(client, timeout=timeout, transport=transport)
        self.max_response_bytes = max_response_bytes

    @property
    def client(self) -> httpx.AsyncClient:
        """The pooled client, opened on first use (again after `aclose`)."""
        return self._clients.get()

    async def call(
        self,
        method: str,
        path: str,
        *,
        json_body: object = None,
        query: QueryPairs = (),
        retry: RetryPolicy | None = None,
        classify: Classifier = retry_if_retryable,
    ) -> Envelope:
        """Send one request and unwrap Cloudflare's envelope; raise `AiError` on failure.

        Failures are retried by the admin's policy (or `retry`) as `classify` allows."""
        url = self._root + path
        if query:
            url += "?" + urlencode(query)
        headers = self._headers
        if json_body is not None:
            headers = {**headers, "content-type": "application/json"}
        reply = await request_json(
            self.client,
            method,
            url,
            headers=headers,
            json_body=json_body,
            retry=self.retry if retry is None else retry,
            max_response_bytes=self.max_response_bytes,
            classify=classify,
        )
        return unwrap(reply.body, reply.status, reply.headers)

    async def fetch(self, path: str) -> tuple[httpx.Headers, bytes]:
        """GET a body that is not an envelope (a stored request or response): headers, bytes."""
        headers = {"authorization": self._headers["authorization"]}
        async with open_stream(
            self.client,
            "GET",
            self._root + path,
            headers=headers,
            retry=self.retry,
            max_response_bytes=self.max_response_bytes,
        ) as response:
            try:
                content = await read_body(response, self.max_response_bytes)
            except SEND_ERRORS as error:
                raise AiError(reason_from_exception(error)) from error
            return response.headers, content

    async def aclose(self) -> None:
        await self._clients.aclose()


def iterate_pages(
    api: ControlApi,
    path: str,
    *,
    query: QueryPairs,
    per_page: int,
    decode: Callable[[object], T],
    what: str,
) -> AsyncGenerator[T, None]:
    """Every item of a paged list, fetching page after page as the caller iterates.

    A bad `per_page` raises `ValidationError` here, when the list is asked for, not on the
    first iteration."""
    check_per_page(per_page)
    return _pages(api, path, query, per_page, decode, what)


def check_per_page(per_page: object) -> None:
    """`ValidationError` unless `per_page` is an integer >= 1 (checked when a list is asked
    for, not on its first iteration)."""
    if isinstance(per_page, bool) or not isinstance(per_page, int) or per_page < 1:
        raise ValidationError(
            [FieldError(("per_page",), f"must be an integer >= 1, got {per_page!r}")],
            what="list query",
        )


async def _pages(
    api: ControlApi,
    path: str,
    query: QueryPairs,
    per_page: int,
    decode: Callable[[object], T],
    what: str,
) -> AsyncGenerator[T, None]:
    page, seen = 1, 0
    while True:
        envelope = await api.call(
            "GET", path, query=[*query, ("page", page), ("per_page", per_page)]
        )
        items = envelope.result
        if not isinstance(items, list):
            raise malformed(what, f"expected a list, got {type(items).__name__}")
        for item in items:
            yield decode(item)
        seen += len(items)
        if (
            len(items) < per_page
            or (envelope.total_pages is not None and page >= envelope.total_pages)
            or (envelope.total_count is not None and seen >= envelope.total_count)
        ):
            return
        page += 1


def unwrap(body: Any, status: int, headers: httpx.Headers | None = None) -> Envelope:
    """The `result` of a 2xx envelope; a `success: false` body is an error even on a 2xx
    (`UnexpectedStatus`, read by the shared error map: messages, code and details)."""
    if not isinstance(body, dict):
        raise malformed("reply", f"expected an envelope object, got {type(body).__name__}")
    if body.get("success") is False:
        raise AiError(reason_from_body(status, headers, body, fallback="success: false"))
    info = body.get("result_info")
    total_count = total_pages = None
    if isinstance(info, dict):
        total_count = _int_or_none(info.get("total_count"))
        total_pages = _int_or_none(info.get("total_pages"))
    return Envelope(body.get("result"), total_count, total_pages, body)


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


__all__ = [
    "DEFAULT_BASE_URL",
    "ControlApi",
    "Envelope",
    "QueryPairs",
    "check_per_page",
    "classify_create",
    "deleted",
    "iterate_pages",
    "or_none",
    "segment",
    "unwrap",
]
