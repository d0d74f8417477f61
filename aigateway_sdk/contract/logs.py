"""The log vocabulary: entry fields, filter keys with their types, the operators each takes,
ordering, and the caps on one query.

Cloudflare's list and delete endpoints take `filters` of `{key, operator, value: [...]}`
(operators `eq`, `neq`, `contains`, `lt`, `gt`), `order_by` and `order_by_direction`; the keys
and orders below are those of Cloudflare's API reference (its generated `LogListParams`), less
the ones this project does not model, plus `status_code`, `step` and `path`. Which operator
applies to which field type is ours (Cloudflare does not say): `contains` matches text, `lt`/
`gt` compare text, numbers and times, booleans take only `eq`/`neq`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

FilterOperator = Literal["eq", "neq", "contains", "lt", "gt"]
OPERATORS: tuple[FilterOperator, ...] = get_args(FilterOperator)
FilterValue = str | int | float | bool | None
FieldKind = Literal["text", "bool", "number", "time", "metadata"]

FILTER_FIELDS: dict[str, FieldKind] = {
    "id": "text",
    "created_at": "time",
    "request_content_type": "text",
    "response_content_type": "text",
    "request_type": "text",
    "success": "bool",
    "cached": "bool",
    "provider": "text",
    "model": "text",
    "model_type": "text",
    "cost": "number",
    "tokens": "number",
    "tokens_in": "number",
    "tokens_out": "number",
    "duration": "number",
    "feedback": "number",
    "event_id": "text",
    "status_code": "number",
    "step": "number",
    "path": "text",
    "metadata.key": "metadata",
    "metadata.value": "metadata",
}
"""Every filter key and its type (`tokens` is `tokens_in + tokens_out`)."""
FILTER_KEYS = tuple(FILTER_FIELDS)

OPERATORS_BY_KIND: dict[FieldKind, tuple[FilterOperator, ...]] = {
    "text": OPERATORS,
    "bool": ("eq", "neq"),
    "number": ("eq", "neq", "lt", "gt"),
    "time": ("eq", "neq", "lt", "gt"),
    "metadata": ("eq", "neq", "contains"),
}
ORDERED_OPERATORS: tuple[FilterOperator, ...] = ("lt", "gt")

OrderBy = Literal[
    "created_at",
    "provider",
    "model",
    "model_type",
    "success",
    "cached",
    "cost",
    "tokens_in",
    "tokens_out",
    "duration",
    "feedback",
]
ORDER_BY: tuple[OrderBy, ...] = get_args(OrderBy)
Direction = Literal["asc", "desc"]
DIRECTIONS: tuple[Direction, ...] = get_args(Direction)

MAX_FILTERS = 50
MAX_FILTER_VALUES = 100
"""Ours, not Cloudflare's (it documents none): the caps on one query keep the local gateway's
SQL within SQLite's expression depth (1,000) and bound-parameter (32,766) limits."""

LIST_EQ_PARAMS = (
    "provider",
    "model",
    "model_type",
    "success",
    "cached",
    "feedback",
    "request_content_type",
    "response_content_type",
)
"""The list endpoint's simple parameters that each mean `<name> eq <value>`."""
LIST_RANGE_PARAMS: dict[str, tuple[str, FilterOperator]] = {
    "start_date": ("created_at", "gt"),
    "end_date": ("created_at", "lt"),
    "min_cost": ("cost", "gt"),
    "max_cost": ("cost", "lt"),
    "min_duration": ("duration", "gt"),
    "max_duration": ("duration", "lt"),
    "min_tokens_in": ("tokens_in", "gt"),
    "max_tokens_in": ("tokens_in", "lt"),
    "min_tokens_out": ("tokens_out", "gt"),
    "max_tokens_out": ("tokens_out", "lt"),
    "min_total_tokens": ("tokens", "gt"),
    "max_total_tokens": ("tokens", "lt"),
}
"""The list endpoint's simple range parameters, as the filter each stands for."""

LOG_FIELDS = (
    "id",
    "created_at",
    "provider",
    "model",
    "model_type",
    "path",
    "success",
    "cached",
    "status_code",
    "duration",
    "tokens_in",
    "tokens_out",
    "cost",
    "custom_cost",
    "metadata",
    "event_id",
    "step",
    "request_type",
    "request_content_type",
    "response_content_type",
    "feedback",
    "score",
)
"""The fields of a log entry as the list endpoint returns it (`metadata` is JSON text)."""
LOG_DETAIL_FIELDS = (
    "request_head",
    "request_head_complete",
    "request_size",
    "response_head",
    "response_head_complete",
    "response_size",
)
"""What reading one entry adds: the heads of the stored bodies and their full sizes."""

FEEDBACK_VALUES = (-1, 0, 1)
SCORE_MIN, SCORE_MAX = 0, 100


def operator_problem(key: str, operator: object) -> str | None:
    """What is wrong with `operator` on the field `key`, or None. An unknown key is left to
    whoever reads it (the SDK lets the server decide; the local gateway refuses it)."""
    if operator not in OPERATORS:
        return "operator must be one of " + ", ".join(OPERATORS)
    kind = FILTER_FIELDS.get(key)
    if kind is not None and operator not in OPERATORS_BY_KIND[kind]:
        return f"`{operator}` does not apply to {key} (a {kind} field)"
    return None


def filter_problem(key: str, operator: object, values: Sequence[FilterValue]) -> str | None:
    """What is wrong with a filter's operator, or its values given the operator, or None."""
    problem = operator_problem(key, operator)
    if problem is not None:
        return problem
    if operator in ORDERED_OPERATORS and values and values[0] is None:
        return f"`{operator}` needs a value that is not null"
    if FILTER_FIELDS.get(key) == "metadata" and all(value is None for value in values):
        return "needs a value that is not null"
    return None


def feedback_problem(value: object) -> str | None:
    """What is wrong with a log entry's `feedback` (-1 bad, 0 none, 1 good), or None."""
    if isinstance(value, bool) or value not in FEEDBACK_VALUES:
        return "must be -1, 0 or 1"
    return None


def score_problem(value: object) -> str | None:
    """What is wrong with a log entry's `score` (a number from 0 to 100), or None."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not SCORE_MIN <= value <= SCORE_MAX
    ):
        return f"must be a number from {SCORE_MIN} to {SCORE_MAX}"
    return None


__all__ = [
    "DIRECTIONS",
    "FEEDBACK_VALUES",
    "FILTER_FIELDS",
    "FILTER_KEYS",
    "LIST_EQ_PARAMS",
    "LIST_RANGE_PARAMS",
    "LOG_DETAIL_FIELDS",
    "LOG_FIELDS",
    "MAX_FILTERS",
    "MAX_FILTER_VALUES",
    "OPERATORS",
    "OPERATORS_BY_KIND",
    "ORDERED_OPERATORS",
    "ORDER_BY",
    "Direction",
    "FieldKind",
    "FilterOperator",
    "FilterValue",
    "OrderBy",
    "feedback_problem",
    "filter_problem",
    "operator_problem",
    "score_problem",
]
