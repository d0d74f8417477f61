"""Log filters, search and ordering as SQL (WHERE / ORDER BY fragments with parameters)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from aigateway_sdk.local.clock import parse_rfc3339
from aigateway_sdk.local.records import FilterValue, LogFilter

ColumnKind = Literal["text", "bool", "number", "time"]

COLUMNS: dict[str, tuple[str, ColumnKind]] = {
    "id": ("id", "text"),
    "created_at": ("created_ms", "time"),
    "request_content_type": ("request_content_type", "text"),
    "response_content_type": ("response_content_type", "text"),
    "request_type": ("request_type", "text"),
    "success": ("success", "bool"),
    "cached": ("cached", "bool"),
    "provider": ("provider", "text"),
    "model": ("model", "text"),
    "model_type": ("model_type", "text"),
    "cost": ("cost", "number"),
    "tokens": ("(IFNULL(tokens_in, 0) + IFNULL(tokens_out, 0))", "number"),
    "tokens_in": ("tokens_in", "number"),
    "tokens_out": ("tokens_out", "number"),
    "duration": ("duration", "number"),
    "feedback": ("feedback", "number"),
    "event_id": ("event_id", "text"),
    "status_code": ("status_code", "number"),
    "step": ("step", "number"),
    "path": ("path", "text"),
}
METADATA_KEYS = ("metadata.key", "metadata.value")
FILTER_KEYS = (*COLUMNS, *METADATA_KEYS)

ORDER_COLUMNS = {
    "created_at": "created_ms",
    "provider": "provider",
    "model": "model",
    "model_type": "model_type",
    "success": "success",
    "cached": "cached",
    "cost": "cost",
    "tokens_in": "tokens_in",
    "tokens_out": "tokens_out",
    "duration": "duration",
    "feedback": "feedback",
}

_META_VALUE = (
    "CASE json_each.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
    "ELSE CAST(json_each.value AS TEXT) END"
)


# Milliseconds since the epoch far past any real date, well inside SQLite's 64-bit integers.
_MAX_MILLIS = 2**53


class FilterError(ValueError):
    """A filter that cannot be applied (unknown key, wrong value type, bad operator)."""


def coerce(kind: ColumnKind, key: str, value: FilterValue) -> object:
    """A filter value converted for comparison with the column `key`."""
    if value is None:
        return None
    if kind == "bool":
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
            return int(value.lower() in ("true", "1"))
        if isinstance(value, int | float) and value in (0, 1):
            return int(value)
        raise FilterError(f"filter {key}: {value!r} is not a boolean")
    if kind == "number":
        if isinstance(value, bool):
            raise FilterError(f"filter {key}: {value!r} is not a number")
        try:
            return float(value)
        except ValueError:
            raise FilterError(f"filter {key}: {value!r} is not a number") from None
    if kind == "time":
        if isinstance(value, int | float) and not isinstance(value, bool):
            if not math.isfinite(value) or abs(value) > _MAX_MILLIS:
                raise FilterError(f"filter {key}: {value!r} is out of range")
            return int(value * 1000) if value < 1e11 else int(value)
        try:
            return int(parse_rfc3339(str(value)) * 1000)
        except ValueError:
            raise FilterError(f"filter {key}: {value!r} is not a date-time") from None
    return text(value)


def text(value: FilterValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _like(value: object) -> str:
    escaped = str(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def filter_sql(item: LogFilter) -> tuple[str, list[object]]:
    if not item.values:
        raise FilterError(f"filter {item.key}: needs at least one value")
    if item.key in METADATA_KEYS:
        return _metadata_sql(item)
    if item.key not in COLUMNS:
        raise FilterError(f"unknown filter key {item.key!r}")
    column, kind = COLUMNS[item.key]
    values = [coerce(kind, item.key, v) for v in item.values]
    op = item.operator
    if op in ("eq", "neq"):
        non_null = [v for v in values if v is not None]
        parts = []
        params: list[object] = []
        if non_null:
            parts.append(f"{column} IN ({','.join('?' * len(non_null))})")
            params.extend(non_null)
        if len(non_null) != len(values):
            parts.append(f"{column} IS NULL")
        clause = "(" + " OR ".join(parts) + ")"
        if op == "neq":
            if len(non_null) == len(values):
                clause = f"(NOT {clause} OR {column} IS NULL)"
            else:
                clause = f"NOT {clause}"
        return clause, params
    if op == "contains":
        if kind != "text":
            raise FilterError(f"filter {item.key}: `contains` needs a text field")
        clause = " OR ".join(f"{column} LIKE ? ESCAPE '\\'" for _ in values)
        return f"({clause})", [_like(v) for v in values]
    if op in ("lt", "gt"):
        if kind == "bool" or values[0] is None:
            raise FilterError(f"filter {item.key}: `{op}` needs an ordered value")
        return f"{column} {'<' if op == 'lt' else '>'} ?", [values[0]]
    raise FilterError(f"unknown filter operator {op!r}")


def _metadata_sql(item: LogFilter) -> tuple[str, list[object]]:
    field = "json_each.key" if item.key == "metadata.key" else _META_VALUE
    values = [text(v) for v in item.values if v is not None]
    if not values:
        raise FilterError(f"filter {item.key}: needs a value")
    if item.operator in ("eq", "neq"):
        inner = f"{field} IN ({','.join('?' * len(values))})"
        params: list[object] = list(values)
    elif item.operator == "contains":
        inner = "(" + " OR ".join(f"{field} LIKE ? ESCAPE '\\'" for _ in values) + ")"
        params = [_like(v) for v in values]
    else:
        raise FilterError(f"filter {item.key}: operator {item.operator!r} is not supported")
    exists = f"EXISTS (SELECT 1 FROM json_each(IFNULL(logs.metadata, '{{}}')) WHERE {inner})"
    return (f"NOT {exists}" if item.operator == "neq" else exists), params


def where_sql(
    account_id: str, gateway_id: str, filters: Sequence[LogFilter], search: str | None = None
) -> tuple[str, list[object]]:
    clauses = ["account_id = ?", "gateway_id = ?"]
    params: list[object] = [account_id, gateway_id]
    for item in filters:
        clause, more = filter_sql(item)
        clauses.append(clause)
        params.extend(more)
    if search:
        fields = ("id", "provider", "model", "path", "IFNULL(metadata, '')", "IFNULL(event_id, '')")
        clauses.append("(" + " OR ".join(f"{f} LIKE ? ESCAPE '\\'" for f in fields) + ")")
        params.extend([_like(search)] * len(fields))
    return " AND ".join(clauses), params


def order_sql(order_by: str, direction: str) -> str:
    column = ORDER_COLUMNS.get(order_by)
    if column is None:
        raise FilterError(f"cannot order by {order_by!r}")
    word = "ASC" if direction == "asc" else "DESC"
    return f"{column} {word}, seq {word}"


__all__ = ["FILTER_KEYS", "ORDER_COLUMNS", "FilterError", "coerce", "order_sql", "where_sql"]
