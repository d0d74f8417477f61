"""A handler's return value as the text sent back to the model: a string as is, anything else
as JSON (attrs and dataclass instances, pydantic models, mappings, lists, numbers, None)."""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping
from typing import Any

import attrs

from aigateway_sdk import _json


class NotJson(ValueError):
    """The value (or a value inside it) cannot be written as JSON."""


def _plain(value: Any) -> Any:
    """`value` made of JSON types only (dict, list, str, int, float, bool, None)."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotJson(f"{value!r} is not a JSON number")
        return value
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if isinstance(value, Mapping):
        plain: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotJson(f"a key of type {type(key).__name__} (JSON keys are strings)")
            plain[key] = _plain(item)
        return plain
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return _plain(_fields(value))


def _fields(value: Any) -> Any:
    """The fields of an attrs or dataclass instance, or a pydantic model's dump."""
    if attrs.has(type(value)):
        return {f.name: getattr(value, f.name) for f in attrs.fields(type(value))}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    dump = getattr(value, "model_dump", None)
    if callable(dump) and not isinstance(value, type):
        return dump(mode="json")
    raise NotJson(f"a {type(value).__name__}")


def result_content(value: Any) -> str:
    """The text sent back to the model for a handler's return value; raise `NotJson` when it
    cannot be written as JSON."""
    if isinstance(value, str):
        return value
    try:
        return _json.dumps_str(_plain(value))
    except RecursionError:
        raise NotJson("a value that contains itself") from None
    except (TypeError, ValueError) as error:
        if isinstance(error, NotJson):
            raise
        raise NotJson(str(error)) from None


__all__ = ["NotJson", "result_content"]
