"""Query-string parameters of the control plane, checked (400 with the parameter's name)."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import QueryParams

from aigateway_sdk.local.web.errors import ApiError
from aigateway_sdk.validation import FieldError


def bad_param(name: str, message: str) -> ApiError:
    return ApiError.invalid([FieldError((name,), message)])


# Bounds every integer query parameter: a page number times a page size stays far inside
# SQLite's 64-bit integers (found by the schemathesis fuzz: page=2**70 was a 500).
_LARGEST = 1_000_000_000


def int_param(
    query: QueryParams, name: str, default: int, minimum: int, maximum: int | None = None
) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_param(name, "must be an integer") from None
    maximum = _LARGEST if maximum is None else maximum
    if value < minimum or value > maximum:
        raise bad_param(name, f"must be between {minimum} and {maximum}")
    return value


def choice_param(
    query: QueryParams, names: Sequence[str], default: str, choices: Sequence[str]
) -> str:
    for name in names:
        raw = query.get(name)
        if raw:
            if raw not in choices:
                raise bad_param(name, "must be one of " + ", ".join(choices))
            return raw
    return default


__all__ = ["bad_param", "choice_param", "int_param"]
