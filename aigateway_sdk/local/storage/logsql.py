"""Log filters, search and ordering as SQL (WHERE / ORDER BY fragments with parameters).

The filter keys, their types and the operators each takes are the contract's
(`aigateway_sdk.contract.logs`); this module knows only how each is stored.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from aigateway_sdk.contract.logs import (
    FILTER_FIELDS,
    ORDER_BY,
    FieldKind,
    FilterValue,
    filter_problem,
)
from aigateway_sdk.local.clock import parse_rfc3339
from aigateway_sdk.local.storage.records import LogFilter

_STORED_AS = {
    "created_at": "created_ms",
    "tokens": "(IFNULL(tokens_in, 0) + IFNULL(tokens_out, 0))",
}
"""The SQL for each filter or order key not stored under its own name."""
ORDER_COLUMNS: dict[str, str] = {name: _STORED_AS.get(name, name) for name in ORDER_BY}

_META_VALUE = (
    "CASE json_each.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
    "ELSE CAST(json_each.value AS TEXT) END"
)


# Milliseconds since the epoch far past any real date, well inside SQLite's 64-bit integers.
_MAX_MILLIS = 2**53


class FilterError(ValueError):
    """A filter that cannot be applied (unknown key, wrong value type, bad operator)."""


def _as_bool(key: str, value: FilterValue) -> object:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return int(value.lower() in ("true", "1"))
    if isinstance(value, int | float) and value in (0, 1):
        return int(value)
    raise FilterError(f"filter {key}: {value!r} is not a boolean")


def _as_number(key: str, value: FilterValue) -> object:
    if isinstance(value, bool):
        raise FilterError(f"filter {key}: {value!r} is not a number")
    try:
        return float(value)  # type: ignore[arg-type]
    except ValueError:
        raise FilterError(f"filter {key}: {value!r} is not a number") from None


def _as_time(key: str, value: FilterValue) -> object:
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value) or abs(value) > _MAX_MILLIS:
            raise FilterError(f"filter {key}: {value!r} is out of range")
        return int(value * 1000) if value < 1e11 else int(value)
    try:
        return int(parse_rfc3339(str(value)) * 1000)
    except ValueError:
        raise FilterError(f"filter {key}: {value!r} is not a date-time") from None


def _as_text(_key: str, value: FilterValue) -> object:
    return text(value)


_COERCE: dict[FieldKind, Callable[[str, FilterValue], object]] = {
    "bool": _as_bool,
    "number": _as_number,
    "time": _as_time,
    "text": _as_text,
    "metadata": _as_text,
}


def coerce(kind: FieldKind, key: str, value: FilterValue) -> object:
    """A filter value converted for comparison with the column `key`."""
    return None if value is None else _COERCE[kind](key, value)


def text(value: FilterValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _like(value: object) -> str:
    escaped = str(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _equal_sql(column: str, negate: bool, values: list[object]) -> tuple[str, list[object]]:
    non_null = [v for v in values if v is not None]
    parts = []
    if non_null:
        parts.append(f"{column} IN ({','.join('?' * len(non_null))})")
    has_null = len(non_null) != len(values)
    if has_null:
        parts.append(f"{column} IS NULL")
    clause = "(" + " OR ".join(parts) + ")"
    if negate:  # NULL is "not equal" to every non-null value
        clause = f"NOT {clause}" if has_null else f"(NOT {clause} OR {column} IS NULL)"
    return clause, non_null


def _contains_sql(column: str, values: list[object]) -> tuple[str, list[object]]:
    clause = " OR ".join(f"{column} LIKE ? ESCAPE '\\'" for _ in values)
    return f"({clause})", [_like(v) for v in values]


def filter_sql(item: LogFilter) -> tuple[str, list[object]]:
    if not item.values:
        raise FilterError(f"filter {item.key}: needs at least one value")
    if item.key not in FILTER_FIELDS:
        raise FilterError(f"unknown filter key {item.key!r}")
    problem = filter_problem(item.key, item.operator, item.values)
    if problem is not None:
        raise FilterError(f"filter {item.key}: {problem}")
    kind = FILTER_FIELDS[item.key]
    if kind == "metadata":
        return _metadata_sql(item)
    column = _STORED_AS.get(item.key, item.key)
    values = [coerce(kind, item.key, v) for v in item.values]
    if item.operator == "contains":
        return _contains_sql(column, values)
    if item.operator in ("lt", "gt"):
        return f"{column} {'<' if item.operator == 'lt' else '>'} ?", [values[0]]
    return _equal_sql(column, item.operator == "neq", values)


def _metadata_sql(item: LogFilter) -> tuple[str, list[object]]:
    field = "json_each.key" if item.key == "metadata.key" else _META_VALUE
    values = [text(v) for v in item.values if v is not None]
    if item.operator == "contains":
        inner, params = _contains_sql(field, list(values))
    else:
        inner, params = f"{field} IN ({','.join('?' * len(values))})", list(values)
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


__all__ = ["ORDER_COLUMNS", "FilterError", "coerce", "order_sql", "where_sql"]
