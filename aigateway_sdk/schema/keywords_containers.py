"""Keywords on arrays (items, prefixItems, the older items-as-array with additionalItems,
minItems, maxItems, uniqueItems) and on objects (properties, patternProperties,
additionalProperties, required, minProperties, maxProperties). A group runs only on a value of
its type (the compiler dispatches); each descends into members by their compiled checks and
builds a member's path only when that member failed."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aigateway_sdk.schema.checks import (
    ALWAYS,
    MAX_ERRORS,
    NEVER,
    REQUIRED,
    UNEXPECTED,
    Check,
    all_of,
    failing,
)
from aigateway_sdk.schema.errors import Path, SchemaError
from aigateway_sdk.schema.jsonvalues import key

if TYPE_CHECKING:
    from aigateway_sdk.schema.compiler import Compiler, SchemaPath

_MISSING = object()


# -- arrays --------------------------------------------------------------------------------


def array_group(c: Compiler, schema: Mapping[str, Any], path: SchemaPath) -> Check | None:
    checks: list[Check] = []
    items = _items(c, schema, path)
    if items is not None:
        checks.append(items)
    shortest = c.count(schema, "minItems", path)
    if shortest is not None:
        checks.append(
            failing(
                lambda value: len(value) >= shortest,
                lambda value: f"must have at least {shortest} items (has {len(value)})",
            )
        )
    longest = c.count(schema, "maxItems", path)
    if longest is not None:
        checks.append(_at_most(longest))
    if c.flag(schema, "uniqueItems", path):
        checks.append(_unique())
    return all_of(checks)


def _at_most(longest: int) -> Check:
    return failing(
        lambda value: len(value) <= longest,
        lambda value: f"must have at most {longest} items (has {len(value)})",
    )


def _items(c: Compiler, schema: Mapping[str, Any], path: SchemaPath) -> Check | None:
    """`prefixItems` + `items` (2020-12), or `items` as an array + `additionalItems` (older)."""
    items = schema.get("items")
    if isinstance(items, list | tuple):
        prefix = c.subschemas(schema, "items", path) or []
        rest_schema = schema.get("additionalItems", True)
        rest = c.node(rest_schema, (*path, "additionalItems"))
    else:
        prefix = c.subschemas(schema, "prefixItems", path) or []
        rest = c.node(items, (*path, "items")) if "items" in schema else ALWAYS
    if rest is NEVER:
        capped = _at_most(len(prefix))
        head = _prefix(prefix, None) if prefix else None
        return all_of([check for check in (capped, head) if check is not None])
    if not prefix:
        return None if rest is ALWAYS else _every(rest)
    return _prefix(prefix, None if rest is ALWAYS else rest)


def _every(item: Check) -> Check:
    test, item_collect = item.valid, item.collect

    def valid(value: Any) -> bool:
        for member in value:  # noqa: SIM110 - a loop, not a generator: hot path
            if not test(member):
                return False
        return True

    def collect(value: Any, path: Path, out: list[SchemaError]) -> None:
        for index, member in enumerate(value):
            if not test(member):
                item_collect(member, (*path, index), out)
                if len(out) >= MAX_ERRORS:
                    return

    return Check(valid, collect)


def _prefix(prefix: list[Check], rest: Check | None) -> Check:
    tests = tuple(check.valid for check in prefix)
    start = len(prefix)
    rest_test = rest.valid if rest is not None else None

    def valid(value: Any) -> bool:
        for test, member in zip(tests, value, strict=False):
            if not test(member):
                return False
        if rest_test is not None:
            for member in value[start:]:
                if not rest_test(member):
                    return False
        return True

    def collect(value: Any, path: Path, out: list[SchemaError]) -> None:
        for index, member in enumerate(value):
            check = prefix[index] if index < start else rest
            if check is not None and not check.valid(member):
                check.collect(member, (*path, index), out)
                if len(out) >= MAX_ERRORS:
                    return

    return Check(valid, collect)


def _unique() -> Check:
    def valid(value: Any) -> bool:
        try:
            return len({key(member) for member in value}) == len(value)
        except TypeError:  # not JSON: compare one by one
            return _first_repeat(value) is None

    def message(value: Any) -> str:
        first, second = _first_repeat(value) or (0, 0)
        return f"must have unique items (items {first} and {second} are equal)"

    return failing(valid, message)


def _first_repeat(value: Any) -> tuple[int, int] | None:
    seen: list[Any] = []
    for index, member in enumerate(value):
        try:
            member_key = key(member)
        except TypeError:
            member_key = member
        if member_key in seen:
            return seen.index(member_key), index
        seen.append(member_key)
    return None


# -- objects -------------------------------------------------------------------------------


def object_group(c: Compiler, schema: Mapping[str, Any], path: SchemaPath) -> Check | None:
    checks: list[Check] = []
    members = _members(c, schema, path)
    if members is not None:
        checks.append(members)
    fewest = c.count(schema, "minProperties", path)
    if fewest is not None:
        checks.append(
            failing(
                lambda value: len(value) >= fewest,
                lambda value: f"must have at least {fewest} properties (has {len(value)})",
            )
        )
    most = c.count(schema, "maxProperties", path)
    if most is not None:
        checks.append(
            failing(
                lambda value: len(value) <= most,
                lambda value: f"must have at most {most} properties (has {len(value)})",
            )
        )
    return all_of(checks)


def _properties(
    c: Compiler, schema: Mapping[str, Any], name: str, path: SchemaPath
) -> dict[str, Check]:
    table = schema.get(name, {})
    if not isinstance(table, Mapping):
        c.problem((*path, name), "must be an object of schemas")
        return {}
    return {member: c.node(sub, (*path, name, member)) for member, sub in table.items()}


def _required(c: Compiler, schema: Mapping[str, Any], path: SchemaPath) -> tuple[str, ...]:
    names = schema.get("required", [])
    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        c.problem((*path, "required"), f"must be an array of property names, got {names!r}")
        return ()
    return tuple(dict.fromkeys(names))


def _members(c: Compiler, schema: Mapping[str, Any], path: SchemaPath) -> Check | None:
    props = _properties(c, schema, "properties", path)
    patterns: list[tuple[re.Pattern[str], Check]] = []
    for source, sub in _properties(c, schema, "patternProperties", path).items():
        regex = c.regex(source, (*path, "patternProperties", source))
        if regex is not None:
            patterns.append((regex, sub))
    extra = c.node(schema.get("additionalProperties", True), (*path, "additionalProperties"))
    required = _required(c, schema, path)
    if not props and not patterns and extra is ALWAYS and not required:
        return None
    members = _Members(props, tuple(patterns), None if extra is ALWAYS else extra, required)
    valid = members.valid_simple if not patterns else members.valid_general
    return Check(valid, members.collect)


class _Members:
    """properties + patternProperties + additionalProperties + required, checked in one pass
    over the object (or over the declared properties, when any other member is allowed)."""

    __slots__ = ("extra", "extra_test", "patterns", "props", "required", "required_set", "tests")

    def __init__(
        self,
        props: dict[str, Check],
        patterns: tuple[tuple[re.Pattern[str], Check], ...],
        extra: Check | None,
        required: tuple[str, ...],
    ) -> None:
        self.props = props
        self.tests = {name: check.valid for name, check in props.items()}
        self.patterns = patterns
        self.extra = extra
        self.extra_test = extra.valid if extra is not None else None
        self.required = required
        self.required_set = frozenset(required)

    def valid_simple(self, value: Any) -> bool:
        if self.required_set and not value.keys() >= self.required_set:
            return False
        extra = self.extra_test
        if extra is None:
            for name, test in self.tests.items():
                member = value.get(name, _MISSING)
                if member is not _MISSING and not test(member):
                    return False
            return True
        tests = self.tests
        for name, member in value.items():
            test = tests.get(name, extra)
            if not test(member):
                return False
        return True

    def valid_general(self, value: Any) -> bool:
        if self.required_set and not value.keys() >= self.required_set:
            return False
        for name, member in value.items():
            checks = self._checks_for(name)
            if checks is None:
                if self.extra_test is not None and not self.extra_test(member):
                    return False
                continue
            for check in checks:
                if not check.valid(member):
                    return False
        return True

    def _checks_for(self, name: str) -> list[Check] | None:
        """The checks that apply to member `name`; None when it is an additional property."""
        found = [check for regex, check in self.patterns if regex.search(name)]
        own = self.props.get(name)
        if own is not None:
            found.append(own)
        return found or None

    def collect(self, value: Any, path: Path, out: list[SchemaError]) -> None:
        out.extend(SchemaError((*path, name), REQUIRED) for name in self.missing(value))
        for name, member in value.items():
            if len(out) >= MAX_ERRORS:
                return
            checks = self._checks_for(name)
            if checks is None:
                self._collect_extra(name, member, path, out)
                continue
            for check in checks:
                if not check.valid(member):
                    check.collect(member, (*path, name), out)

    def missing(self, value: Any) -> list[str]:
        return [name for name in self.required if name not in value]

    def _collect_extra(self, name: str, member: Any, path: Path, out: list[SchemaError]) -> None:
        extra = self.extra
        if extra is None or extra.valid(member):
            return
        if extra is NEVER:
            out.append(SchemaError((*path, name), UNEXPECTED))
        else:
            extra.collect(member, (*path, name), out)


__all__ = ["array_group", "object_group"]
