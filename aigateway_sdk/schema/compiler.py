"""JSON Schema -> `Check`, compiled once: every keyword becomes a closure over its already
compiled arguments (regexes compiled, subschemas compiled, `$ref`s resolved), so checking a
value never reads the schema's dict again. Compiling also checks the schema's own shape: an
unknown `type`, a `minimum` that is not a number, a `pattern` that is not a regex, a `$ref`
to a definition that does not exist, each a `ValidationError` naming the keyword's path.

Keywords: type (a name or a list), nullable (OpenAPI), enum, const, the numeric, string,
array and object keywords (keywords_scalar.py, keywords_containers.py), anyOf / oneOf / allOf
/ not (keywords_logic.py), $ref to `#`, `#/$defs/<name>` or `#/definitions/<name>`. Every
other keyword (format, title, description, default, examples, ...) is an annotation and is
ignored, as JSON Schema 2020-12 does by default.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

import attrs

from aigateway_sdk.schema import keywords_containers, keywords_logic, keywords_scalar
from aigateway_sdk.schema.checks import (
    ALWAYS,
    MAX_ERRORS,
    NEVER,
    Check,
    Valid,
    all_of,
    mismatch,
    type_test,
)
from aigateway_sdk.schema.errors import Path, SchemaError
from aigateway_sdk.schema.jsonvalues import JSON_TYPES
from aigateway_sdk.validation import FieldError, ValidationError

SchemaPath = tuple[str, ...]
"""Where a keyword sits in the schema document (for errors about the schema itself)."""

DEF_PREFIXES = ("#/$defs/", "#/definitions/")


class Compiler:
    """Compiles one schema document; `$ref`s resolve against its root. Problems with the
    schema itself are gathered in `problems`; `compile_schema` raises them together."""

    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.problems: list[FieldError] = []
        self._refs: dict[str, Check] = {}
        self._cells: dict[str, list[Check]] = {}

    # -- reading the schema's own shape --------------------------------------------------

    def problem(self, path: SchemaPath, message: str) -> None:
        self.problems.append(FieldError(path, message))

    def number(self, schema: Mapping[str, Any], name: str, path: SchemaPath) -> float | None:
        value = schema.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem((*path, name), f"must be a number, got {value!r}")
            return None
        return value

    def count(self, schema: Mapping[str, Any], name: str, path: SchemaPath) -> int | None:
        value = schema.get(name)
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.problem((*path, name), f"must be a non-negative integer, got {value!r}")
            return None
        return value

    def flag(self, schema: Mapping[str, Any], name: str, path: SchemaPath) -> bool:
        value = schema.get(name, False)
        if not isinstance(value, bool):
            self.problem((*path, name), f"must be true or false, got {value!r}")
            return False
        return value

    def regex(self, pattern: Any, path: SchemaPath) -> re.Pattern[str] | None:
        if not isinstance(pattern, str):
            self.problem(path, f"must be a regular expression string, got {pattern!r}")
            return None
        try:
            return re.compile(pattern)
        except re.error as error:
            self.problem(path, f"is not a valid regular expression: {error}")
            return None

    def subschemas(
        self, schema: Mapping[str, Any], name: str, path: SchemaPath
    ) -> list[Check] | None:
        value = schema.get(name)
        if value is None:
            return None
        if not isinstance(value, list | tuple) or not value:
            self.problem((*path, name), "must be a non-empty array of schemas")
            return None
        return [self.node(item, (*path, name, str(i))) for i, item in enumerate(value)]

    # -- compiling ------------------------------------------------------------------------

    def node(self, schema: Any, path: SchemaPath) -> Check:
        """The check of one (sub)schema: a bool or an object of keywords."""
        if schema is True:
            return ALWAYS
        if schema is False:
            return NEVER
        if not isinstance(schema, Mapping):
            self.problem(path, f"a schema must be an object or a boolean, got {schema!r}")
            return ALWAYS
        types = self._types(schema, path)
        groups = {
            "string": keywords_scalar.string_group(self, schema, path),
            "number": keywords_scalar.number_group(self, schema, path),
            "array": keywords_containers.array_group(self, schema, path),
            "object": keywords_containers.object_group(self, schema, path),
        }
        generic = [
            *keywords_scalar.value_checks(self, schema, path),
            *self._ref(schema, path),
            *keywords_logic.logic_checks(self, schema, path),
        ]
        return assemble(types, groups, generic)

    def _types(self, schema: Mapping[str, Any], path: SchemaPath) -> frozenset[str] | None:
        declared = schema.get("type")
        if declared is None:
            return None
        names = [declared] if isinstance(declared, str) else declared
        if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
            self.problem((*path, "type"), f"must be a type name or a list of them: {declared!r}")
            return None
        unknown = [name for name in names if name not in JSON_TYPES]
        if unknown:
            self.problem((*path, "type"), f"unknown type {unknown[0]!r}")
            return None
        if self.flag(schema, "nullable", path):
            names = [*names, "null"]
        return frozenset(names)

    def _ref(self, schema: Mapping[str, Any], path: SchemaPath) -> list[Check]:
        target = schema.get("$ref")
        if target is None:
            return []
        if not isinstance(target, str):
            self.problem((*path, "$ref"), f"must be a string, got {target!r}")
            return []
        return [self.resolve(target, (*path, "$ref"))]

    def resolve(self, target: str, path: SchemaPath) -> Check:
        """The check a `$ref` names, compiled the first time it is referenced; a reference
        back into a definition being compiled (recursion) goes through a cell."""
        compiled = self._refs.get(target)
        if compiled is not None:
            return compiled
        cell = self._cells.get(target)
        if cell is not None:
            return _deferred(cell)
        definition, where = self._definition(target, path)
        if where is None:
            return ALWAYS
        cell = self._cells[target] = []
        if _only_refs_to(definition, target, self.root):
            self.problem(path, f"{target} refers to itself and to nothing else")
            compiled = ALWAYS
        else:
            compiled = self.node(definition, where)
        cell.append(compiled)
        self._refs[target] = compiled
        del self._cells[target]
        return compiled

    def _definition(self, target: str, path: SchemaPath) -> tuple[Any, SchemaPath | None]:
        if target == "#":
            return self.root, ()
        for prefix in DEF_PREFIXES:
            if target.startswith(prefix):
                name = _unescape(target[len(prefix) :])
                table = self.root.get(prefix[2:-1])
                if isinstance(table, Mapping) and name in table:
                    return table[name], (prefix[2:-1], name)
                self.problem(path, f"{target} names no definition in the root's {prefix[2:-1]}")
                return None, None
        self.problem(path, f"only '#/$defs/<name>' references are supported, got {target!r}")
        return None, None

    def definitions(self) -> None:
        """Compile every definition, referenced or not, so a broken one is reported."""
        for table_name in ("$defs", "definitions"):
            table = self.root.get(table_name)
            if table is None:
                continue
            if not isinstance(table, Mapping):
                self.problem((table_name,), "must be an object of schemas")
                continue
            for name in table:
                self.resolve(f"#/{table_name}/{_escape(name)}", (table_name, name))


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _unescape(name: str) -> str:
    return name.replace("~1", "/").replace("~0", "~")


def _only_refs_to(schema: Any, target: str, root: Mapping[str, Any]) -> bool:
    """Whether `schema` is nothing but a chain of `$ref`s leading back to `target`."""
    seen: set[str] = set()
    while isinstance(schema, Mapping) and set(schema) <= {"$ref", "description", "title"}:
        ref = schema.get("$ref")
        if not isinstance(ref, str) or ref in seen:
            return isinstance(ref, str)
        if ref == target:
            return True
        seen.add(ref)
        schema = lookup_ref(root, ref)
    return False


def lookup_ref(root: Mapping[str, Any], target: str) -> Any:
    if target == "#":
        return root
    for prefix in DEF_PREFIXES:
        if target.startswith(prefix):
            table = root.get(prefix[2:-1])
            if isinstance(table, Mapping):
                return table.get(_unescape(target[len(prefix) :]))
    return None


def _deferred(cell: list[Check]) -> Check:
    """A reference to a check still being compiled (a recursive schema)."""

    def valid(value: Any) -> bool:
        return cell[0].valid(value)

    def collect(value: Any, path: Path, out: list[SchemaError]) -> None:
        cell[0].collect(value, path, out)

    return Check(valid, collect)


_KINDS: tuple[tuple[str, tuple[type, ...]], ...] = (
    ("string", (str,)),
    ("number", (int, float)),
    ("array", (list, tuple)),
    ("object", (dict,)),
)
_PLAIN = frozenset({str, int, float, list, tuple, dict, bool, type(None)})


def _group_of(groups: dict[str, Check | None]) -> dict[type, Check]:
    """Which type-specific group of keywords applies to a value, by its exact Python type."""
    table: dict[type, Check] = {}
    for name, kinds in _KINDS:
        group = groups.get(name)
        if group is not None:
            table.update(dict.fromkeys(kinds, group))
    return table


def _group_for(by_type: dict[type, Check], value: Any) -> Check | None:
    """The group for `value`; a subclass (an OrderedDict, an IntEnum) found by isinstance."""
    kind = type(value)
    group = by_type.get(kind)
    if group is not None or kind in _PLAIN:
        return group
    if isinstance(value, bool):
        return None
    for base, check in by_type.items():
        if isinstance(value, base):
            return check
    return None


_SINGLE = {"object": dict, "array": list, "string": str}


def assemble(
    types: frozenset[str] | None, groups: dict[str, Check | None], generic: list[Check]
) -> Check:
    """One schema's check: its `type`, the keywords of the value's own type, then the rest."""
    rest = all_of(generic)
    if types is not None and len(types) == 1 and rest is None:
        only = next(iter(types))
        if only in _SINGLE:
            return _single_type(only, groups.get(only), types)
    check = _general(types, _group_of(groups), rest)
    known = functools.reduce(_meet, [c.types for c in generic], types)
    return check if known == check.types else attrs.evolve(check, types=known)


def _meet(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    """The JSON types both allow (None: any); an integer is also a number."""
    if a is None or b is None:
        return b if a is None else a
    both = a & b
    if ("number" in a and "integer" in b) or ("integer" in a and "number" in b):
        both |= {"integer"}
    return both


def _single_type(name: str, group: Check | None, types: frozenset[str]) -> Check:
    """The common case `{"type": "object", ...}` (or array, string) with nothing else."""
    kind: type | tuple[type, ...] = (list, tuple) if name == "array" else _SINGLE[name]
    if group is None:
        test = type_test(types)
        return Check(test, _type_collector(test, types), types)
    group_valid, group_collect = group.valid, group.collect

    def valid(value: Any) -> bool:
        return isinstance(value, kind) and group_valid(value)

    def collect(value: Any, path: Path, out: list[SchemaError]) -> None:
        if not isinstance(value, kind):
            out.append(SchemaError(path, mismatch(types, value)))
        elif not group_valid(value):
            group_collect(value, path, out)

    return Check(valid, collect, types)


def _type_collector(test: Any, types: frozenset[str]) -> Any:
    def collect(value: Any, path: Path, out: list[SchemaError]) -> None:
        if not test(value):
            out.append(SchemaError(path, mismatch(types, value)))

    return collect


def _general(types: frozenset[str] | None, by_type: dict[type, Check], rest: Check | None) -> Check:
    type_ok = type_test(types) if types is not None else None
    if not by_type:
        return _typed_rest(types, type_ok, rest)
    groups = {kind: check.valid for kind, check in by_type.items()}
    rest_valid = rest.valid if rest is not None else None

    def valid(value: Any) -> bool:
        if type_ok is not None and not type_ok(value):
            return False
        group = groups.get(type(value))
        if group is None and type(value) not in _PLAIN:
            check = _group_for(by_type, value)
            group = check.valid if check is not None else None
        if group is not None and not group(value):
            return False
        return rest_valid is None or rest_valid(value)

    def collect(value: Any, path: Path, out: list[SchemaError]) -> None:
        if type_ok is not None and types is not None and not type_ok(value):
            out.append(SchemaError(path, mismatch(types, value)))
            return
        group = _group_for(by_type, value)
        if group is not None and not group.valid(value):
            group.collect(value, path, out)
        if rest is not None and len(out) < MAX_ERRORS and not rest.valid(value):
            rest.collect(value, path, out)

    return Check(valid, collect, types)


def _typed_rest(types: frozenset[str] | None, type_ok: Valid | None, rest: Check | None) -> Check:
    """A schema with no type-specific keywords: its `type` (if any), then the rest."""
    if rest is None:
        if type_ok is None or types is None:
            return Check(ALWAYS.valid, ALWAYS.collect)
        return Check(type_ok, _type_collector(type_ok, types), types)
    if type_ok is None or types is None:
        return Check(rest.valid, rest.collect, types)
    rest_valid, rest_collect = rest.valid, rest.collect

    def valid(value: Any) -> bool:
        return type_ok(value) and rest_valid(value)

    def collect(value: Any, path: Path, out: list[SchemaError]) -> None:
        if not type_ok(value):
            out.append(SchemaError(path, mismatch(types, value)))
        else:
            rest_collect(value, path, out)

    return Check(valid, collect, types)


def compile_schema(schema: Mapping[str, Any], *, what: str = "JSON Schema") -> Check:
    """Compile a whole document (the root of `$ref`s); `ValidationError` lists every problem
    with the schema itself, each naming the keyword's path."""
    compiler = Compiler(schema)
    check = compiler.node(schema, ())
    compiler.definitions()
    if compiler.problems:
        raise ValidationError(compiler.problems, what=what)
    return check


def compile_in(root: Mapping[str, Any], fragments: list[Any]) -> list[Check]:
    """Checks for parts of a document already compiled once (their `$ref`s resolve against
    `root`); the decoders of unions use them to tell which branch a value took."""
    compiler = Compiler(root)
    checks = [compiler.node(fragment, ()) for fragment in fragments]
    if compiler.problems:
        raise ValidationError(compiler.problems, what="JSON Schema")
    return checks


__all__ = [
    "DEF_PREFIXES",
    "Compiler",
    "SchemaPath",
    "assemble",
    "compile_in",
    "compile_schema",
    "lookup_ref",
]
