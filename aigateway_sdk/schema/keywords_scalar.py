"""Keywords on strings (minLength, maxLength, pattern), on numbers (minimum, maximum, their
exclusive forms, multipleOf: exact, on the decimal numbers the JSON text wrote) and on any
value (enum, const). A string or number group runs
only on a value of that type (the compiler dispatches), so its closures need no type test."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from aigateway_sdk.schema.checks import Check, all_of, failing
from aigateway_sdk.schema.jsonvalues import key, type_name

if TYPE_CHECKING:
    from aigateway_sdk.schema.compiler import Compiler, SchemaPath

SHOWN_VALUES = 10


def string_group(c: Compiler, schema: Mapping[str, Any], path: SchemaPath) -> Check | None:
    checks: list[Check] = []
    shortest = c.count(schema, "minLength", path)
    if shortest is not None:
        checks.append(
            failing(
                lambda value: len(value) >= shortest,
                lambda value: f"must have at least {shortest} characters (has {len(value)})",
            )
        )
    longest = c.count(schema, "maxLength", path)
    if longest is not None:
        checks.append(
            failing(
                lambda value: len(value) <= longest,
                lambda value: f"must have at most {longest} characters (has {len(value)})",
            )
        )
    if "pattern" in schema:
        regex = c.regex(schema["pattern"], (*path, "pattern"))
        if regex is not None:
            search = regex.search
            checks.append(
                failing(
                    lambda value: search(value) is not None,
                    lambda value: f"must match the pattern {regex.pattern!r}",
                )
            )
    return all_of(checks)


def _bound(limit: float, test: Callable[[Any], bool], words: str) -> Check:
    return failing(test, lambda value: f"must be {words} {limit}, got {value}")


def _lower(c: Compiler, schema: Mapping[str, Any], path: SchemaPath) -> list[Check]:
    checks: list[Check] = []
    minimum = c.number(schema, "minimum", path)
    exclusive = schema.get("exclusiveMinimum")
    if isinstance(exclusive, bool):  # draft 4: a flag on `minimum`
        exclusive_minimum = minimum if exclusive and minimum is not None else None
        minimum = None if exclusive_minimum is not None else minimum
    else:
        exclusive_minimum = c.number(schema, "exclusiveMinimum", path)
    if minimum is not None:
        low = minimum
        checks.append(_bound(low, lambda value: value >= low, ">="))
    if exclusive_minimum is not None:
        low_x = exclusive_minimum
        checks.append(_bound(low_x, lambda value: value > low_x, ">"))
    return checks


def _upper(c: Compiler, schema: Mapping[str, Any], path: SchemaPath) -> list[Check]:
    checks: list[Check] = []
    maximum = c.number(schema, "maximum", path)
    exclusive = schema.get("exclusiveMaximum")
    if isinstance(exclusive, bool):  # draft 4: a flag on `maximum`
        exclusive_maximum = maximum if exclusive and maximum is not None else None
        maximum = None if exclusive_maximum is not None else maximum
    else:
        exclusive_maximum = c.number(schema, "exclusiveMaximum", path)
    if maximum is not None:
        high = maximum
        checks.append(_bound(high, lambda value: value <= high, "<="))
    if exclusive_maximum is not None:
        high_x = exclusive_maximum
        checks.append(_bound(high_x, lambda value: value < high_x, "<"))
    return checks


def _exact(number: float) -> Fraction:
    """The number a JSON literal means: 0.1 is one tenth (its shortest repr), not the binary
    float nearest to it, so 0.3 is a multiple of 0.1 as a reader of the JSON expects."""
    return Fraction(number) if isinstance(number, int) else Fraction(repr(float(number)))


def _multiple_of(step: float) -> Callable[[Any], bool]:
    exact_step = _exact(step)

    def test(value: Any) -> bool:
        if isinstance(value, int) and isinstance(step, int):
            return value % step == 0
        return (_exact(value) / exact_step).denominator == 1

    return test


def number_group(c: Compiler, schema: Mapping[str, Any], path: SchemaPath) -> Check | None:
    checks = [*_lower(c, schema, path), *_upper(c, schema, path)]
    step = c.number(schema, "multipleOf", path)
    if step is not None and step <= 0:
        c.problem((*path, "multipleOf"), f"must be greater than 0, got {step}")
    elif step is not None:
        checks.append(
            failing(_multiple_of(step), lambda value: f"must be a multiple of {step}, got {value}")
        )
    return all_of(checks)


def _shown(values: list[Any]) -> str:
    shown = ", ".join(json.dumps(value, ensure_ascii=False) for value in values[:SHOWN_VALUES])
    return shown + (", ..." if len(values) > SHOWN_VALUES else "")


def _safe_key(value: Any) -> Any:
    try:
        found = key(value)
        hash(found)
    except TypeError:  # not JSON (a set, an object): equal to no JSON value
        return _Unequal()
    return found


class _Unequal:
    """Stands for a value that is equal to nothing in an enum."""


def _enum(c: Compiler, values: Any, path: SchemaPath) -> Check | None:
    if not isinstance(values, list | tuple):
        c.problem(path, f"must be an array, got {values!r}")
        return None
    options = list(values)
    message = f"must be one of {_shown(options)}"
    if options and all(isinstance(value, str) for value in options):
        strings = frozenset(options)

        def valid_string(value: Any) -> bool:
            return isinstance(value, str) and value in strings

        return failing(valid_string, lambda value: message)
    keys = frozenset(key(value) for value in options)

    def valid(value: Any) -> bool:
        return _safe_key(value) in keys

    return failing(valid, lambda value: message)


def _const(expected: Any) -> Check:
    wanted = key(expected)
    message = f"must be {_shown([expected])}"

    def valid(value: Any) -> bool:
        return bool(_safe_key(value) == wanted)

    return failing(valid, lambda value: message)


def value_checks(c: Compiler, schema: Mapping[str, Any], path: SchemaPath) -> list[Check]:
    checks: list[Check] = []
    if "enum" in schema:
        check = _enum(c, schema["enum"], (*path, "enum"))
        if check is not None:
            checks.append(_typed(check, schema["enum"]))
    if "const" in schema:
        checks.append(_typed(_const(schema["const"]), [schema["const"]]))
    return checks


def _typed(check: Check, values: Any) -> Check:
    """`check` knowing the JSON types its values have (a failed anyOf's closest branch)."""
    names = frozenset(type_name(value) for value in values) if isinstance(values, list) else None
    return Check(check.valid, check.collect, names)


__all__ = ["number_group", "string_group", "value_checks"]
