"""Reading log filters from a query string, in every form clients send them:

- JSON: `filters=[{"key": "model", "operator": "eq", "value": ["m"]}]`;
- the official `cloudflare` SDK's flattened form: `filters.key=model&filters.operator=eq&
  filters.value=m` (repeated per filter: values are paired with filters one each, or all go
  to the only filter; anything else is ambiguous and refused);
- brackets: `filters[0][key]=model&filters[0][operator]=eq&filters[0][value][]=m`;
- the SDK's simple parameters: `provider`, `model`, `success`, `cached`, `start_date`,
  `min_tokens_in`, `max_duration`, ...
"""

from __future__ import annotations

import re
from typing import Any, cast

from starlette.datastructures import QueryParams

from aigateway_sdk._json import loads
from aigateway_sdk.contract.logs import (
    FILTER_KEYS,
    LIST_EQ_PARAMS,
    LIST_RANGE_PARAMS,
    MAX_FILTER_VALUES,
    MAX_FILTERS,
    OPERATORS,
    FilterValue,
)
from aigateway_sdk.local.storage.records import LogFilter
from aigateway_sdk.local.web.params import bad_param

_BRACKET = re.compile(r"^filters\[(\d+)\]\[(key|operator|value)\](?:\[(\d*)\])?$")


def _make(key: object, operator: object, values: list[Any], where: str) -> LogFilter:
    if not isinstance(key, str) or key not in FILTER_KEYS:
        raise bad_param(where, f"unknown filter key {key!r}")
    if operator not in OPERATORS:
        raise bad_param(where, f"operator must be one of {', '.join(OPERATORS)}")
    if not values:
        raise bad_param(where, "needs at least one value")
    if len(values) > MAX_FILTER_VALUES:
        raise bad_param(where, f"takes at most {MAX_FILTER_VALUES} values")
    for value in values:
        if value is not None and not isinstance(value, str | int | float | bool):
            raise bad_param(where, "values must be strings, numbers, booleans or null")
    return LogFilter(key, operator, tuple(cast(list[FilterValue], values)))


def _json_filters(raw: str) -> list[LogFilter]:
    try:
        data = loads(raw)
    except ValueError:
        raise bad_param("filters", "must be a JSON array of {key, operator, value}") from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise bad_param("filters", "must be a JSON array")
    filters = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise bad_param(f"filters[{index}]", "must be an object")
        value = item.get("value")
        values = value if isinstance(value, list) else [value]
        filters.append(_make(item.get("key"), item.get("operator"), values, f"filters[{index}]"))
    return filters


def _flat_filters(query: QueryParams) -> list[LogFilter]:
    keys = query.getlist("filters.key")
    operators = query.getlist("filters.operator")
    values: list[Any] = list(query.getlist("filters.value"))
    if not keys and not operators and not values:
        return []
    if len(keys) != len(operators):
        raise bad_param("filters", "every filter needs a key and an operator")
    if len(keys) == 1:
        groups = [values]
    elif len(values) == len(keys):
        groups = [[value] for value in values]
    else:
        raise bad_param(
            "filters",
            "cannot tell which value belongs to which filter; send filters as JSON "
            '(filters=[{"key":..,"operator":..,"value":[..]}])',
        )
    return [
        _make(key, operator, group, f"filters[{index}]")
        for index, (key, operator, group) in enumerate(zip(keys, operators, groups, strict=True))
    ]


def _bracket_filters(query: QueryParams) -> list[LogFilter]:
    found: dict[int, dict[str, Any]] = {}
    for name, value in query.multi_items():
        match = _BRACKET.match(name)
        if not match:
            continue
        entry = found.setdefault(int(match.group(1)), {"value": []})
        if match.group(2) == "value":
            entry["value"].append(value)
        else:
            entry[match.group(2)] = value
    return [
        _make(entry.get("key"), entry.get("operator"), entry["value"], f"filters[{index}]")
        for index, entry in sorted(found.items())
    ]


def parse_filters(query: QueryParams) -> tuple[LogFilter, ...]:
    filters: list[LogFilter] = []
    for raw in query.getlist("filters"):
        filters.extend(_json_filters(raw))
    filters.extend(_flat_filters(query))
    filters.extend(_bracket_filters(query))
    for name in LIST_EQ_PARAMS:
        value = query.get(name)
        if value:
            filters.append(LogFilter(name, "eq", (value,)))
    for name, (key, operator) in LIST_RANGE_PARAMS.items():
        value = query.get(name)
        if value:
            filters.append(LogFilter(key, operator, (value,)))
    if len(filters) > MAX_FILTERS:
        raise bad_param("filters", f"at most {MAX_FILTERS} filters per request")
    return tuple(filters)


__all__ = ["parse_filters"]
