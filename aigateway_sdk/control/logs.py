"""`LogsClient`: a gateway's request log — list with filters, read, give feedback, delete.

logs = admin.logs("prod-gateway")
async for entry in logs.list(filters=[LogFilter("model", "contains", "llama")], limit=100):
    print(entry.id, entry.tokens_out)
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping
from typing import Any, Literal

import attrs

from aigateway_sdk.contract.headers import BODY_TRUNCATED, MetadataValue, metadata_problem
from aigateway_sdk.contract.logs import (
    DIRECTIONS,
    OPERATORS,
    ORDER_BY,
    Direction,
    FilterOperator,
    FilterValue,
    OrderBy,
    feedback_problem,
    filter_problem,
    operator_problem,
    score_problem,
)
from aigateway_sdk.control._api import ControlApi, QueryPairs, iterate_pages, segment
from aigateway_sdk.control.models import LogBody, LogEntry
from aigateway_sdk.validation import FieldError, ValidationError


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValidationError([FieldError((name,), f"must be one of {allowed}")], what="log query")


def _validate_operator(instance: Any, _attribute: attrs.Attribute[Any], value: Any) -> None:
    if (problem := operator_problem(instance.key, value)) is not None:
        raise ValidationError([FieldError(("operator",), problem)], what="filter")


def _validate_value(instance: Any, _attribute: attrs.Attribute[Any], value: Any) -> None:
    if (problem := filter_problem(instance.key, instance.operator, (value,))) is not None:
        raise ValidationError([FieldError(("value",), problem)], what="filter")


def _validate_key(_instance: Any, _attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise ValidationError([FieldError(("key",), "must be a non-empty string")], what="filter")


@attrs.frozen(slots=True)
class LogFilter:
    """One condition on logs: `LogFilter("model", "eq", "@cf/meta/llama-3.1-8b-instruct")`.

    Keys are Cloudflare's (`aigateway_sdk.contract.logs.FILTER_FIELDS`: `id, created_at,
    success, cached, provider, model, model_type, tokens_in, tokens_out, duration, cost,
    feedback, event_id, status_code, metadata.key, metadata.value, ...`). `lt`/`gt` compare
    text, numbers and times and need a value; `contains` matches text and metadata; booleans
    take `eq`/`neq`. An operator that does not fit a known key fails when the filter is built
    (`ValidationError`); a key the SDK does not know is left to the server to judge.
    """

    key: str = attrs.field(validator=_validate_key)
    operator: FilterOperator = attrs.field(validator=_validate_operator)
    value: FilterValue = attrs.field(validator=_validate_value)

    @classmethod
    def parse(cls, text: str) -> LogFilter:
        """From the command-line form `key=op:value`, e.g. `success=eq:false`, `tokens_out=gt:10`.

        `true`/`false` become booleans and `null` None; everything else stays text (the
        server converts numbers and times by the key's type).
        """
        key, sep, rest = text.partition("=")
        operator, colon, raw = rest.partition(":")
        if not sep or not colon or not key:
            raise ValidationError(
                [FieldError(("filter",), f"{text!r} is not of the form key=op:value")],
                what="filter",
            )
        value: FilterValue = {"true": True, "false": False, "null": None}.get(raw, raw)
        return cls(key.strip(), operator.strip(), value)  # type: ignore[arg-type]

    def __str__(self) -> str:
        return f"{self.key}={self.operator}:{_wire_value(self.value)}"


def _wire_value(value: FilterValue) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def filter_query(filters: Iterable[LogFilter]) -> list[tuple[str, str | int]]:
    """Filters as query pairs, the way Cloudflare's SDKs send them (`filters.key=...`, repeated
    in order: key, operator, value for each filter)."""
    pairs: list[tuple[str, str | int]] = []
    for item in filters:
        pairs.append(("filters.key", item.key))
        pairs.append(("filters.operator", item.operator))
        pairs.append(("filters.value", _wire_value(item.value)))
    return pairs


def _order_query(order_by: str | None, direction: str | None) -> QueryPairs:
    pairs: list[tuple[str, str | int]] = []
    if order_by is not None:
        _check_choice("order_by", order_by, ORDER_BY)
        pairs.append(("order_by", order_by))
    if direction is not None:
        _check_choice("direction", direction, DIRECTIONS)
        pairs.append(("order_by_direction", direction))
    return pairs


def _check_limit(limit: object) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        problem = FieldError(("limit",), f"must be an integer >= 0, got {limit!r}")
        raise ValidationError([problem], what="log query")


class LogsClient:
    """The request log of one gateway. Get it from `GatewayAdmin.logs(gateway)`."""

    def __init__(self, api: ControlApi, gateway_id: str) -> None:
        self._api = api
        self.gateway_id = gateway_id
        self._path = f"/gateways/{segment(gateway_id)}/logs"

    def list(
        self,
        *,
        filters: Iterable[LogFilter] = (),
        order_by: OrderBy | None = "created_at",
        direction: Direction | None = "desc",
        per_page: int = 50,
        limit: int | None = None,
        search: str | None = None,
    ) -> AsyncIterator[LogEntry]:
        """Log entries matching every filter, newest first by default, fetched page by page.

        `limit` stops after that many entries (and fetches no page beyond them).
        """
        query = [*filter_query(filters), *_order_query(order_by, direction)]
        if search is not None:
            query.append(("search", search))
        if limit is not None:
            _check_limit(limit)
            if type(per_page) is int:  # a bad one is refused by iterate_pages
                per_page = max(1, min(per_page, limit))
        entries = iterate_pages(
            self._api,
            self._path,
            query=query,
            per_page=per_page,
            decode=LogEntry.from_api,
            what="log list",
        )
        return entries if limit is None else _take(entries, limit)

    async def get(self, log_id: str) -> LogEntry:
        """One entry with its request/response heads and sizes; `AiError(NotFound)` if absent."""
        envelope = await self._api.call("GET", f"{self._path}/{segment(log_id)}")
        return LogEntry.from_api(envelope.result)

    async def request_body(self, log_id: str) -> LogBody:
        """The stored request body of a log entry (`.json()`, `.text`, `.content`)."""
        return await self._body(log_id, "request")

    async def response_body(self, log_id: str) -> LogBody:
        """The stored response body of a log entry: JSON, or SSE text for a stream."""
        return await self._body(log_id, "response")

    async def _body(self, log_id: str, which: str) -> LogBody:
        headers, content = await self._api.fetch(f"{self._path}/{segment(log_id)}/{which}")
        return LogBody(
            content,
            headers.get("content-type"),
            headers.get(BODY_TRUNCATED, "").lower() == "true",
        )

    async def patch(
        self,
        log_id: str,
        *,
        feedback: Literal[-1, 0, 1] | None = None,
        score: float | None = None,
        metadata: Mapping[str, MetadataValue] | None = None,
    ) -> None:
        """Set feedback (-1 bad, 1 good, 0 none), a score (0..100) and/or metadata on an entry.

        Only the arguments given are sent.
        """
        errors = _patch_errors(feedback, score, metadata)
        if errors:
            raise ValidationError(errors, what="log feedback")
        body: dict[str, Any] = {}
        if feedback is not None:
            body["feedback"] = feedback
        if score is not None:
            body["score"] = score
        if metadata is not None:
            body["metadata"] = dict(metadata)
        if not body:
            return
        await self._api.call("PATCH", f"{self._path}/{segment(log_id)}", json_body=body)

    async def delete(
        self,
        *,
        filters: Iterable[LogFilter] = (),
        limit: int | None = None,
        order_by: OrderBy | None = None,
        direction: Direction | None = None,
    ) -> int | None:
        """Delete the entries matching every filter (all of them with no filter), at most
        `limit` of them taken in the given order. Returns how many were deleted when the
        server says (the local gateway does; Cloudflare answers only `success`)."""
        query = [*filter_query(filters), *_order_query(order_by, direction)]
        if limit is not None:
            _check_limit(limit)
            query.append(("limit", limit))
        envelope = await self._api.call("DELETE", self._path, query=query)
        result = envelope.result
        deleted = result.get("deleted") if isinstance(result, dict) else None
        return deleted if isinstance(deleted, int) and not isinstance(deleted, bool) else None


def _patch_errors(feedback: object, score: object, metadata: object) -> list[FieldError]:
    problems = (
        ("feedback", None if feedback is None else feedback_problem(feedback)),
        ("score", None if score is None else score_problem(score)),
    )
    errors = [FieldError((name,), problem) for name, problem in problems if problem]
    if metadata is not None and (found := metadata_problem(metadata)) is not None:
        key, problem = found
        errors.append(FieldError(("metadata",) if key is None else ("metadata", key), problem))
    return errors


async def _take(
    entries: AsyncGenerator[LogEntry, None], limit: int
) -> AsyncGenerator[LogEntry, None]:
    count = 0
    try:
        while count < limit:
            try:
                entry = await entries.__anext__()
            except StopAsyncIteration:
                return
            yield entry
            count += 1
    finally:
        await entries.aclose()


__all__ = [
    "DIRECTIONS",
    "OPERATORS",
    "ORDER_BY",
    "Direction",
    "FilterOperator",
    "FilterValue",
    "LogBody",
    "LogEntry",
    "LogFilter",
    "LogsClient",
    "OrderBy",
    "filter_query",
]
