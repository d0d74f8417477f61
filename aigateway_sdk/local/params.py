"""Query-string parameters of the control plane, checked (400 with the parameter's name)."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import QueryParams

from aigateway_sdk.local.errors import ApiError
from aigateway_sdk.validation import FieldError


def bad_param(name: str, message: str) -> ApiError:
    return ApiError.invalid([FieldError((name,), message)])


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
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise bad_param(name, f"must be {bound}")
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
