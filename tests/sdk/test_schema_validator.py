"""The validator compiled from a JSON Schema: each keyword's meaning and message, the paths of
nested failures, schemas that are themselves malformed (refused when built, naming the
keyword), and a cross-check against `jsonschema_rs` on generated (schema, value) pairs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aigateway_sdk.schema import Schema, SchemaError, SchemaMismatch
from aigateway_sdk.schema.compiler import compile_schema
from aigateway_sdk.validation import ValidationError


def errors(schema: dict[str, Any], value: Any) -> list[tuple[tuple[str | int, ...], str]]:
    return [(error.path, error.message) for error in Schema.of(schema).errors(value)]


@pytest.mark.parametrize(
    ("schema", "value", "expected"),
    [
        ({"type": "string"}, 1, [((), "expected string, got integer")]),
        ({"type": ["string", "null"]}, None, []),
        ({"type": ["string", "integer"]}, 1.5, [((), "expected string or integer, got number")]),
        ({"type": "integer"}, 2.0, []),
        ({"type": "number"}, True, [((), "expected number, got boolean")]),
        ({"type": "boolean"}, 0, [((), "expected boolean, got integer")]),
        ({"type": "array"}, {}, [((), "expected array, got object")]),
        ({"type": "object"}, [], [((), "expected object, got array")]),
        ({"type": "integer", "nullable": True}, None, []),
        ({"enum": ["a", 1]}, 1.0, []),
        ({"enum": [1]}, True, [((), "must be one of 1")]),
        ({"enum": ["a", "b"]}, ["a"], [((), 'must be one of "a", "b"')]),
        ({"enum": [[1, {"a": True}]]}, [1.0, {"a": True}], []),
        ({"const": {"a": [1]}}, {"a": [2]}, [((), 'must be {"a": [1]}')]),
        ({"const": False}, 0, [((), "must be false")]),
        ({"minimum": 1}, 0, [((), "must be >= 1, got 0")]),
        ({"minimum": 1}, 1, []),
        ({"maximum": 1}, 1.0, []),
        ({"exclusiveMinimum": 1}, 1.5, []),
        ({"exclusiveMaximum": 1}, 0.5, []),
        ({"minLength": 2, "maxLength": 2}, "ab", []),
        ({"minItems": 1, "maxItems": 1}, [None], []),
        ({"minProperties": 1, "maxProperties": 1}, {"a": None}, []),
        ({"minimum": 1}, "zero", []),  # number keywords ignore other types
        ({"exclusiveMinimum": 1}, 1, [((), "must be > 1, got 1")]),
        ({"maximum": 1}, 1.5, [((), "must be <= 1, got 1.5")]),
        ({"exclusiveMaximum": 1}, 1.0, [((), "must be < 1, got 1.0")]),
        ({"minimum": 1, "exclusiveMinimum": True}, 1, [((), "must be > 1, got 1")]),  # draft 4
        ({"multipleOf": 3}, 9, []),
        ({"multipleOf": 3}, 0, []),
        ({"multipleOf": 0.5}, 2.5, []),
        ({"multipleOf": 3}, 10, [((), "must be a multiple of 3, got 10")]),
        ({"multipleOf": 2}, 1e308, []),
        ({"minLength": 2}, "é", [((), "must have at least 2 characters (has 1)")]),
        ({"maxLength": 1}, "ab", [((), "must have at most 1 characters (has 2)")]),
        ({"pattern": "^[a-z]+$"}, "abc", []),
        ({"pattern": "b"}, "abc", []),  # searched, not anchored
        ({"pattern": "^b"}, "abc", [((), "must match the pattern '^b'")]),
        ({"minItems": 1}, [], [((), "must have at least 1 items (has 0)")]),
        ({"maxItems": 1}, [1, 2], [((), "must have at most 1 items (has 2)")]),
        (
            {"uniqueItems": True},
            [1, 1.0],
            [((), "must have unique items (items 0 and 1 are equal)")],
        ),
        ({"uniqueItems": True}, [1, True], []),
        (
            {"items": {"type": "integer"}},
            [1, "x", 3, None],
            [
                ((1,), "expected integer, got string"),
                ((3,), "expected integer, got null"),
            ],
        ),
        (
            {"prefixItems": [{"type": "string"}], "items": False},
            ["a", 1],
            [
                ((), "must have at most 1 items (has 2)"),
            ],
        ),
        (
            {"prefixItems": [{"type": "string"}], "items": {"type": "integer"}},
            [1, 2],
            [
                ((0,), "expected string, got integer"),
            ],
        ),
        (
            {"items": [{"type": "string"}], "additionalItems": False},
            ["a", "b"],
            [
                ((), "must have at most 1 items (has 2)"),
            ],
        ),
        ({"required": ["a", "b"]}, {"a": 1}, [(("b",), "is required")]),
        ({"required": ["a"]}, "not an object", []),
        (
            {"properties": {"a": {"type": "string"}}, "additionalProperties": False},
            {"b": 1},
            [
                (("b",), "unexpected property"),
            ],
        ),
        (
            {"additionalProperties": {"type": "integer"}},
            {"x": "1"},
            [
                (("x",), "expected integer, got string"),
            ],
        ),
        (
            {"patternProperties": {"^n_": {"type": "number"}}, "additionalProperties": False},
            {"n_a": "1", "o": 1},
            [
                (("n_a",), "expected number, got string"),
                (("o",), "unexpected property"),
            ],
        ),
        ({"minProperties": 1}, {}, [((), "must have at least 1 properties (has 0)")]),
        ({"maxProperties": 0}, {"a": 1}, [((), "must have at most 0 properties (has 1)")]),
        (
            {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            None,
            [
                ((), "expected string or integer, got null"),
            ],
        ),
        (
            {"anyOf": [{"type": "string", "minLength": 3}, {"type": "integer"}]},
            "ab",
            [
                ((), "must have at least 3 characters (has 2)"),
            ],
        ),
        (
            {"oneOf": [{"type": "integer"}, {"minimum": 0}]},
            1,
            [
                ((), "matches more than one oneOf schema (0, 1)"),
            ],
        ),
        ({"oneOf": [{"type": "integer"}, {"type": "string"}]}, "a", []),
        ({"allOf": [{"minimum": 0}, {"maximum": 1}]}, 2, [((), "must be <= 1, got 2")]),
        ({"not": {"type": "string"}}, "a", [((), "must not match the schema in `not`")]),
        ({"properties": {"a": False}}, {"a": 1}, [(("a",), "no value is allowed here")]),
        ({"type": "object", "title": "T", "format": "x", "examples": [1], "x-vendor": 1}, {}, []),
    ],
)
def test_each_keyword(schema: dict[str, Any], value: Any, expected: list[Any]) -> None:
    assert errors(schema, value) == expected


RECURSIVE = {
    "$defs": {
        "node": {
            "type": "object",
            "properties": {
                "value": {"type": "integer"},
                "next": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]},
            },
            "required": ["value"],
        }
    },
    "$ref": "#/$defs/node",
}


def test_refs_resolve_and_may_recurse() -> None:
    chain = {"value": 1, "next": {"value": 2, "next": {"value": "three", "next": None}}}
    assert errors(RECURSIVE, chain) == [
        (("next", "next", "value"), "expected integer, got string"),
    ]
    assert errors({"items": {"$ref": "#"}, "type": "array"}, [[[]], [[1]]]) == [
        ((1, 0, 0), "expected array, got integer"),
    ]
    tilde = {"$defs": {"a/b~c": {"type": "string"}}, "$ref": "#/$defs/a~1b~0c"}
    assert errors(tilde, 1) == [((), "expected string, got integer")]
    legacy = {"definitions": {"x": {"type": "string"}}, "$ref": "#/definitions/x"}
    assert errors(legacy, "ok") == []


def test_python_values_that_are_not_plain_json_are_still_checked() -> None:
    from collections import OrderedDict

    schema = {"type": "object", "properties": {"a": {"minimum": 0}}}
    assert errors(schema, OrderedDict(a=-1)) == [(("a",), "must be >= 0, got -1")]
    assert errors({"type": "array", "maxItems": 1}, (1, 2)) == [
        ((), "must have at most 1 items (has 2)")
    ]
    assert errors({"enum": [1]}, {1, 2}) == [((), "must be one of 1")]
    assert errors({"type": "string"}, b"x") == [((), "expected string, got bytes")]


@pytest.mark.parametrize(
    ("schema", "field", "message"),
    [
        ({"type": "str"}, "type", "unknown type 'str'"),
        ({"type": ["string", 3]}, "type", "must be a type name"),
        ({"minimum": "0"}, "minimum", "must be a number"),
        ({"minLength": -1}, "minLength", "non-negative integer"),
        ({"minItems": 1.5}, "minItems", "non-negative integer"),
        ({"multipleOf": 0}, "multipleOf", "greater than 0"),
        ({"pattern": "("}, "pattern", "not a valid regular expression"),
        ({"properties": {"a": {"type": "nope"}}}, "properties.a.type", "unknown type"),
        ({"properties": []}, "properties", "must be an object of schemas"),
        ({"items": 3}, "items", "must be an object or a boolean"),
        ({"anyOf": []}, "anyOf", "non-empty array"),
        ({"required": "a"}, "required", "array of property names"),
        ({"uniqueItems": "yes"}, "uniqueItems", "true or false"),
        ({"$ref": "#/$defs/missing"}, "$ref", "names no definition"),
        ({"$ref": "http://example.com/s.json"}, "$ref", "only '#/$defs/<name>'"),
        ({"$ref": 1}, "$ref", "must be a string"),
        ({"$defs": {"a": {"$ref": "#/$defs/a"}}}, "$defs.a", "refers to itself"),
        ({"$defs": {"a": {"type": 1}}}, "$defs.a.type", "must be a type name"),
        ({"enum": "a"}, "enum", "must be an array"),
        ({"properties": {"a": {"anyOf": [{"maximum": "x"}]}}}, "properties.a.anyOf.0.maximum", ""),
    ],
)
def test_a_malformed_schema_is_refused_naming_the_keyword(
    schema: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        Schema.of(schema)
    assert field in caught.value.fields
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"const": float("nan")}, "not a JSON number"),
        ({"enum": [{1, 2}]}, "set is not JSON-serialisable"),
        ({"properties": {1: {}}}, "key 1 is not a string"),
        ({"default": object()}, "object is not JSON-serialisable"),
    ],
)
def test_a_schema_that_is_not_json_is_refused(spec: dict[Any, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Schema.of(spec)


def test_every_problem_of_a_schema_is_listed() -> None:
    with pytest.raises(ValidationError) as caught:
        Schema.of({"type": "nope", "minimum": "x", "properties": {"a": {"maxLength": -1}}})
    assert set(caught.value.fields) == {"type", "minimum", "properties.a.maxLength"}


def test_a_failed_anyof_names_the_closest_branch_deep_down() -> None:
    schema = {
        "anyOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
            {
                "type": "object",
                "properties": {"b": {"type": "integer"}, "c": {"type": "integer"}},
                "required": ["b", "c"],
            },
        ]
    }
    assert errors(schema, {"b": 1, "c": "2"}) == [(("c",), "expected integer, got string")]


def test_the_error_list_is_capped_but_every_reported_path_is_real() -> None:
    schema = {"type": "object", "additionalProperties": {"type": "integer"}}
    found = Schema.of(schema).errors({f"k{i}": "x" for i in range(50)})
    assert len(found) == 20
    assert all(
        error == SchemaError((f"k{i}",), "expected integer, got string")
        for i, error in enumerate(found)
    )


# -- the cross-check -----------------------------------------------------------------------

KEYS = st.sampled_from(["a", "b", "c", "a1", "ba"])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 3),
    st.sampled_from([0.0, 1.0, 2.0, -1.5, 0.5, 1.5, 2.5, 3.25]),
    st.text(alphabet="ab1", max_size=4),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=3)),
    max_leaves=10,
)
SAMPLES = st.lists(
    st.one_of(
        SCALARS,
        st.lists(SCALARS, max_size=4),
        st.dictionaries(KEYS, st.one_of(SCALARS, st.lists(SCALARS, max_size=2)), max_size=3),
        VALUES,
    ),
    min_size=1,
    max_size=8,
)
"""Values to check a document against: scalars, flat arrays and objects often, nested too."""

TYPE_NAMES = ["null", "boolean", "integer", "number", "string", "array", "object"]
TYPES = st.one_of(
    st.sampled_from(TYPE_NAMES),
    st.lists(st.sampled_from(TYPE_NAMES), min_size=1, max_size=3, unique=True),
)
COUNTS = st.integers(0, 3)
BOUNDS = st.sampled_from([-1, 0, 1, 1.5, 2])
PATTERNS = st.sampled_from(["^a", "b$", "[0-9]", "^$", "a+b"])


def scalar_keywords() -> dict[str, st.SearchStrategy[Any]]:
    return {
        "type": TYPES,
        "enum": st.one_of(
            st.lists(VALUES, min_size=1, max_size=3),
            st.lists(st.text("ab1", max_size=2), min_size=1, max_size=3),
        ),
        "const": VALUES,
        "minimum": BOUNDS,
        "maximum": BOUNDS,
        "exclusiveMinimum": BOUNDS,
        "exclusiveMaximum": BOUNDS,
        "multipleOf": st.sampled_from([1, 2, 3, 0.5, 0.25]),
        "minLength": COUNTS,
        "maxLength": COUNTS,
        "pattern": PATTERNS,
    }


def container_keywords(sub: st.SearchStrategy[Any]) -> dict[str, st.SearchStrategy[Any]]:
    return {
        "type": TYPES,
        "properties": st.dictionaries(KEYS, sub, max_size=3),
        "required": st.lists(KEYS, max_size=3, unique=True),
        "additionalProperties": sub,
        "patternProperties": st.dictionaries(PATTERNS, sub, max_size=2),
        "minProperties": COUNTS,
        "maxProperties": COUNTS,
        "items": sub,
        "prefixItems": st.lists(sub, min_size=1, max_size=3),
        "minItems": COUNTS,
        "maxItems": COUNTS,
        "uniqueItems": st.booleans(),
    }


def logic_keywords(sub: st.SearchStrategy[Any]) -> dict[str, st.SearchStrategy[Any]]:
    branches = st.lists(sub, min_size=1, max_size=3)
    return {"anyOf": branches, "oneOf": branches, "allOf": branches, "not": sub}


def some_of(keywords: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """A schema with any subset of `keywords` (each present about half the time)."""
    return st.fixed_dictionaries({}, optional=keywords)


SCALAR_SCHEMAS = some_of(scalar_keywords())
LEAVES = st.one_of(st.booleans(), SCALAR_SCHEMAS)


def nested(sub: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        some_of(container_keywords(sub)),
        some_of(logic_keywords(sub)),
        some_of({**scalar_keywords(), **container_keywords(sub), **logic_keywords(sub)}),
    )


SCHEMAS = st.recursive(LEAVES, nested, max_leaves=5)
REF = st.just({"$ref": "#/$defs/shared"})
ROOTS = st.one_of(
    SCALAR_SCHEMAS,
    nested(st.one_of(LEAVES, REF)),
    nested(nested(st.one_of(LEAVES, REF))),
    SCHEMAS,
)


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    shared = draw(SCHEMAS)
    root = draw(ROOTS)
    if not isinstance(root, dict):
        root = {"allOf": [root]}
    return {**root, "$defs": {"shared": shared}}


GRID_VALUES: list[Any] = [
    None, True, False, -2, -1, 0, 1, 2, 3, 0.0, 1.0, 1.5, 2.0, 2.5, -1.5, 0.25, 1e308,
    "", "a", "ab", "ba", "1", "aab", "é",
    [], [1], [1, 1.0], [1, True], [0, False], [[1], [1.0]], [{"a": 1}, {"a": 1.0}], ["a", 1, None],
    {}, {"a": 1}, {"a": None, "b": 2}, {"ba": "x"}, {"a1": 1.0}, {"c": [1]},
]  # fmt: skip
GRID_KEYWORDS: dict[str, list[Any]] = {
    "minimum": [-1, 0, 1, 1.5],
    "maximum": [-1, 0, 1, 1.5],
    "exclusiveMinimum": [-1, 0, 1, 1.5],
    "exclusiveMaximum": [-1, 0, 1, 1.5],
    "multipleOf": [1, 2, 3, 0.5, 0.25],
    "minLength": [0, 1, 2],
    "maxLength": [0, 1, 2],
    "pattern": ["^a", "b$", "[0-9]", "^$", "a+b"],
    "minItems": [0, 1, 2],
    "maxItems": [0, 1, 2],
    "uniqueItems": [True, False],
    "minProperties": [0, 1, 2],
    "maxProperties": [0, 1, 2],
    "required": [["a"], ["a", "b"], []],
    "items": [{"type": "integer"}, False, True],
    "prefixItems": [[{"type": "integer"}], [{"type": "integer"}, {"type": "null"}]],
    "properties": [{"a": {"type": "integer"}}, {"a": False, "b": {"minimum": 2}}],
    "additionalProperties": [False, {"type": "integer"}],
    "patternProperties": [{"a$": {"type": "integer"}}, {"^a": False}],
    "enum": [[1], ["a", "b"], [None, [1], {"a": 1}], [True]],
    "const": [1, "a", None, [1], {"a": 1}, False, 0],
    "type": [*TYPE_NAMES, ["integer", "string"], ["number", "null"]],
}
GRID = [{name: value} for name, values in GRID_KEYWORDS.items() for value in values] + [
    {"type": kind, name: values[0]}
    for kind in TYPE_NAMES
    for name, values in GRID_KEYWORDS.items()
    if name != "type"
]


def test_every_keyword_agrees_with_jsonschema_rs_on_a_grid_of_values() -> None:
    """Each keyword (alone and under each `type`) on values at and around its bounds."""
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    disagreements = []
    for schema in GRID:
        reference = jsonschema_rs.Draft202012Validator(schema)
        check = compile_schema(schema)
        for value in GRID_VALUES:
            found: list[SchemaError] = []
            check.collect(value, (), found)
            expected = reference.is_valid(value)
            if check.valid(value) is not expected or bool(found) is expected:
                disagreements.append((schema, value, expected))
    assert disagreements == []
    assert len(GRID) * len(GRID_VALUES) > 5000


@given(documents(), SAMPLES)
@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_validator_agrees_with_jsonschema_rs(
    document: dict[str, Any], values: list[Any]
) -> None:
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    reference = jsonschema_rs.Draft202012Validator(document)
    check = compile_schema(document)
    for value in values:
        expected = reference.is_valid(value)
        assert check.valid(value) is expected, (document, value)
        found: list[SchemaError] = []
        check.collect(value, (), found)
        assert bool(found) is not expected, (document, value, found)


@given(documents(), SAMPLES)
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_schema_errors_accept_the_original_or_the_strict_form(
    document: dict[str, Any], values: list[Any]
) -> None:
    """What `Schema.errors` / `decode` accept: a value valid against the schema, or one valid
    against its strict form whose strict-only nulls, once dropped, leave a valid value (not
    so under `not`, `oneOf` or `uniqueItems`, where dropping a null can change the verdict).
    The decoded value is always valid against the schema itself."""
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    schema = Schema.of(document)
    original = jsonschema_rs.Draft202012Validator(document)
    strict = jsonschema_rs.Draft202012Validator(dict(schema.strict_json_schema()))
    monotonic = not any(word in json.dumps(document) for word in ('"not"', "oneOf", "unique"))
    for value in values:
        accepted = schema.errors(value) == ()
        if original.is_valid(value) or (monotonic and strict.is_valid(value)):
            assert accepted, (document, value)
        if accepted:
            assert original.is_valid(value) or strict.is_valid(value), (document, value)
            assert original.is_valid(schema.decode(value)), (document, value)
        else:
            with pytest.raises(SchemaMismatch):
                schema.decode(value)
