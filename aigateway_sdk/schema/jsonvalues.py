"""JSON values seen the way JSON Schema sees them: their type names (`true` is a boolean, never
a number; `1.0` is an integer), a hashable key under which equal JSON values are equal (for
`enum`, `const` and `uniqueItems`), and the check-and-copy of a document that must be JSON."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from aigateway_sdk.validation import FieldError

JSON_TYPES = frozenset({"null", "boolean", "integer", "number", "string", "array", "object"})


def type_name(value: Any) -> str:
    """The JSON type of `value` as an error message says it (`integer` for 1, `number` for
    1.5); the Python type's name for something that is not JSON at all."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def is_integer(value: Any) -> bool:
    """JSON Schema's integer: a number with a zero fractional part (1 and 1.0), never a bool."""
    if isinstance(value, int):
        return not isinstance(value, bool)
    return isinstance(value, float) and value.is_integer()


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def key(value: Any) -> Any:
    """A hashable stand-in under which two JSON values are equal exactly when JSON Schema says
    so: 1 == 1.0, but true != 1; arrays by their items in order, objects by their members."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, list | tuple):
        return ("array", tuple(key(item) for item in value))
    if isinstance(value, dict):
        return ("object", frozenset((name, key(item)) for name, item in value.items()))
    return value


def copy_json(value: Any, path: tuple[str, ...], errors: list[FieldError]) -> Any:
    """A deep copy of `value` with tuples turned into lists; every part that is not JSON (a
    non-string key, NaN, a set, an object) is reported in `errors` with its path."""
    if value is None or type(value) in (str, bool, int):
        return value
    if isinstance(value, str):  # a str Enum member, say: its plain string
        return str.__str__(value)
    if isinstance(value, bool | int):  # an IntEnum member: its plain int
        return bool(value) if isinstance(value, bool) else int(value)
    if isinstance(value, float):
        value = float(value)
        if not math.isfinite(value):
            errors.append(FieldError(path, f"{value} is not a JSON number"))
        return value
    if isinstance(value, list | tuple):
        return [copy_json(item, (*path, str(i)), errors) for i, item in enumerate(value)]
    if isinstance(value, Mapping):
        copied: dict[str, Any] = {}
        for name, item in value.items():
            if not isinstance(name, str):
                errors.append(FieldError(path, f"key {name!r} is not a string"))
                continue
            copied[name] = copy_json(item, (*path, name), errors)
        return copied
    errors.append(FieldError(path, f"a {type(value).__name__} is not JSON-serialisable"))
    return None


def thaw(value: Any) -> Any:
    """A fresh deep copy of a JSON document (dicts and lists), so callers may keep or change it
    without touching the schema's own."""
    if isinstance(value, dict):
        return {name: thaw(item) for name, item in value.items()}
    if isinstance(value, list):
        return [thaw(item) for item in value]
    return value


__all__ = ["JSON_TYPES", "copy_json", "is_integer", "is_number", "key", "thaw", "type_name"]
