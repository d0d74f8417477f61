"""anyOf, oneOf, allOf and not. A failed anyOf (or a oneOf that matched nothing) reports the
errors of the branch closest to matching: among the branches whose types admit the value, the
one with the fewest errors about the object's shape (a missing or unexpected member), then
the fewest errors; when no branch admits the value's type, one summary error ("expected
object or null, got string")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aigateway_sdk.schema.checks import (
    MAX_ERRORS,
    SHAPE_MESSAGES,
    Check,
    all_of,
    mismatch,
    type_allows,
)
from aigateway_sdk.schema.errors import Path, SchemaError

if TYPE_CHECKING:
    from aigateway_sdk.schema.compiler import Compiler, SchemaPath


def logic_checks(c: Compiler, schema: Mapping[str, Any], path: SchemaPath) -> list[Check]:
    checks: list[Check] = []
    branches = c.subschemas(schema, "anyOf", path)
    if branches is not None:
        checks.append(any_of(branches))
    branches = c.subschemas(schema, "oneOf", path)
    if branches is not None:
        checks.append(_one_of(branches))
    branches = c.subschemas(schema, "allOf", path)
    if branches is not None:
        every = all_of(branches)
        if every is not None:
            checks.append(every)
    if "not" in schema:
        checks.append(_not(c.node(schema["not"], (*path, "not"))))
    return checks


def _union_types(branches: list[Check]) -> frozenset[str] | None:
    types: set[str] = set()
    for branch in branches:
        if branch.types is None:
            return None
        types |= branch.types
    return frozenset(types)


def closest(branches: list[Check], value: Any, path: Path, out: list[SchemaError]) -> None:
    """Report why `value` matched none of `branches`."""
    candidates = [branch for branch in branches if type_allows(branch.types, value)]
    if not candidates:
        out.append(SchemaError(path, mismatch(_union_types(branches) or frozenset(), value)))
        return
    best: list[SchemaError] | None = None
    best_score = (0, 0)
    for branch in candidates:
        found: list[SchemaError] = []
        branch.collect(value, path, found)
        score = (sum(error.message in SHAPE_MESSAGES for error in found), len(found))
        if best is None or score < best_score:
            best, best_score = found, score
    out.extend((best or [SchemaError(path, "matches none of the allowed schemas")])[:MAX_ERRORS])


def any_of(branches: list[Check]) -> Check:
    tests = tuple(branch.valid for branch in branches)

    def valid(value: Any) -> bool:
        for test in tests:  # noqa: SIM110 - a loop, not a generator: hot path
            if test(value):
                return True
        return False

    def collect(value: Any, path: Path, out: list[SchemaError]) -> None:
        if not valid(value):
            closest(branches, value, path, out)

    return Check(valid, collect, _union_types(branches))


def _one_of(branches: list[Check]) -> Check:
    tests = tuple(branch.valid for branch in branches)

    def valid(value: Any) -> bool:
        matched = False
        for test in tests:
            if test(value):
                if matched:
                    return False
                matched = True
        return matched

    def collect(value: Any, path: Path, out: list[SchemaError]) -> None:
        matching = [index for index, test in enumerate(tests) if test(value)]
        if not matching:
            closest(branches, value, path, out)
        elif len(matching) > 1:
            which = ", ".join(str(index) for index in matching)
            out.append(SchemaError(path, f"matches more than one oneOf schema ({which})"))

    return Check(valid, collect, _union_types(branches))


def _not(inner: Check) -> Check:
    test = inner.valid

    def valid(value: Any) -> bool:
        return not test(value)

    def collect(value: Any, path: Path, out: list[SchemaError]) -> None:
        if test(value):
            out.append(SchemaError(path, "must not match the schema in `not`"))

    return Check(valid, collect)


__all__ = ["any_of", "closest", "logic_checks"]
