"""The compiled form of a schema: a `Check` is a pair of closures built once, `valid(value)`
(a fast yes/no with no allocation, run on every value) and `collect(value, path, out)` (run
only where `valid` said no, to name every violation with its path). Also the helpers that
combine checks and the error cap."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from aigateway_sdk.schema.errors import Path, SchemaError
from aigateway_sdk.schema.jsonvalues import is_integer, is_number, type_name

MAX_ERRORS = 20
"""Collection stops after this many violations: enough to repair a reply, bounded for a huge one."""

REQUIRED = "is required"
UNEXPECTED = "unexpected property"
SHAPE_MESSAGES = frozenset({REQUIRED, UNEXPECTED})
"""Errors about an object's shape (a member missing or extra) rather than a member's value:
a branch of an anyOf with fewer of these is closer to what the value meant to be."""

Valid = Callable[[Any], bool]
Collect = Callable[[Any, Path, list[SchemaError]], None]


@attrs.frozen(slots=True)
class Check:
    """One compiled (sub)schema or keyword. `types` is the set of JSON types a value may have
    to pass, when known (used to pick the closest branch of a failed `anyOf`)."""

    valid: Valid
    collect: Collect
    types: frozenset[str] | None = None


def _always(value: Any) -> bool:
    return True


def _never(value: Any) -> bool:
    return False


def _collect_nothing(value: Any, path: Path, out: list[SchemaError]) -> None:
    return None


def _collect_never(value: Any, path: Path, out: list[SchemaError]) -> None:
    out.append(SchemaError(path, "no value is allowed here"))


ALWAYS = Check(_always, _collect_nothing)
NEVER = Check(_never, _collect_never, frozenset())


def failing(valid: Valid, message: Callable[[Any], str]) -> Check:
    """A check that adds one error at the value's own path when `valid` says no."""

    def collect(value: Any, path: Path, out: list[SchemaError]) -> None:
        if not valid(value):
            out.append(SchemaError(path, message(value)))

    return Check(valid, collect)


def all_of(checks: Sequence[Check]) -> Check | None:
    """One check passing when every one of `checks` passes; None when there are none."""
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0]
    valids = tuple(check.valid for check in checks)
    members = tuple(checks)

    def valid(value: Any) -> bool:
        for test in valids:  # noqa: SIM110 - a loop, not a generator: hot path
            if not test(value):
                return False
        return True

    def collect(value: Any, path: Path, out: list[SchemaError]) -> None:
        for check in members:
            if len(out) >= MAX_ERRORS:
                return
            if not check.valid(value):
                check.collect(value, path, out)

    return Check(valid, collect)


TYPE_TESTS: dict[str, Valid] = {
    "null": lambda value: value is None,
    "boolean": lambda value: isinstance(value, bool),
    "integer": is_integer,
    "number": is_number,
    "string": lambda value: isinstance(value, str),
    "array": lambda value: isinstance(value, (list, tuple)),
    "object": lambda value: isinstance(value, dict),
}


_CLASSES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "array": (list, tuple),
    "object": (dict,),
    "null": (type(None),),
}


def type_test(types: frozenset[str]) -> Valid:
    """The predicate for a `type` keyword (one name or several)."""
    if len(types) == 1:
        return TYPE_TESTS[next(iter(types))]
    classes = tuple(kind for name in sorted(types) for kind in _CLASSES.get(name, ()))
    tests = tuple(TYPE_TESTS[name] for name in sorted(types) if name not in _CLASSES)
    if not tests:
        return lambda value: isinstance(value, classes)
    if classes:
        tests = (lambda value: isinstance(value, classes), *tests)

    def test(value: Any) -> bool:
        for one in tests:  # noqa: SIM110 - a loop, not a generator: hot path
            if one(value):
                return True
        return False

    return test


ORDER = ("object", "array", "string", "integer", "number", "boolean", "null")


def describe(types: frozenset[str]) -> str:
    """`string`, `string or null`, `object, array or null`: in a fixed order."""
    names = [name for name in ORDER if name in types]
    if len(names) <= 1:
        return names[0] if names else "nothing"
    return ", ".join(names[:-1]) + " or " + names[-1]


def type_allows(types: frozenset[str] | None, value: Any) -> bool:
    """Whether a value of this JSON type could pass a check of these types (None: any)."""
    if types is None:
        return True
    return any(TYPE_TESTS[name](value) for name in types)


def mismatch(types: frozenset[str], value: Any) -> str:
    return f"expected {describe(types)}, got {type_name(value)}"


__all__ = [
    "ALWAYS",
    "MAX_ERRORS",
    "NEVER",
    "REQUIRED",
    "SHAPE_MESSAGES",
    "UNEXPECTED",
    "Check",
    "Collect",
    "Valid",
    "all_of",
    "describe",
    "failing",
    "mismatch",
    "type_allows",
    "type_test",
]
