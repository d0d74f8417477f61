"""The built-in model's values from a JSON Schema: valid against the schema (checked with
`jsonschema_rs`, formats included), the same for the same PRNG, and taking the values a prompt
gives as `name=value` when they are valid."""

from __future__ import annotations

import random
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aigateway_sdk.local.upstreams.schema_value import MAX_DEPTH, generate
from aigateway_sdk.local.upstreams.toolrule import named_values

WEATHER = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "description": "a city"},
        "units": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
        "detailed": {"type": "boolean"},
        "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
    },
    "required": ["city", "units"],
    "additionalProperties": False,
}

SCHEMAS: list[dict[str, Any]] = [
    WEATHER,
    {"type": "object"},
    {},
    {"type": "string", "minLength": 30, "maxLength": 31},
    {"type": "string", "maxLength": 1},
    {"type": "string", "minLength": 0, "maxLength": 0},
    {"type": "integer", "minimum": -5, "maximum": -5},
    {"type": "integer", "exclusiveMinimum": 10},
    {"type": "integer", "maximum": -1000},
    {"type": "integer", "multipleOf": 7, "minimum": 1, "maximum": 30},
    {"type": "number", "minimum": 0.001, "maximum": 0.002},
    {"type": "number", "multipleOf": 0.25, "minimum": 1, "maximum": 2},
    {"type": "number", "multipleOf": 0.01},
    {  # draft 4's boolean form
        "$schema": "http://json-schema.org/draft-04/schema#",
        "type": "number",
        "minimum": 5,
        "exclusiveMinimum": True,
    },
    {"const": {"fixed": [1, 2]}},
    {"enum": [None, "b", 3]},
    {"type": ["null", "integer"]},
    {"type": "string", "nullable": True},
    {"anyOf": [{"type": "null"}, {"type": "string", "format": "email"}]},
    {"oneOf": [{"type": "boolean"}, {"type": "string"}]},
    {"type": "array", "items": {"type": "integer"}, "minItems": 4, "maxItems": 4},
    {"type": "array", "items": {"enum": ["a", "b", "c"]}, "minItems": 3, "uniqueItems": True},
    {"type": "array", "maxItems": 0},
    {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "items": False},
    {  # draft 7's tuple form
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "array",
        "items": [{"type": "boolean"}],
        "additionalItems": False,
    },
    {"type": "array", "contains": {"const": 42}, "items": {"type": "integer"}},
    {
        "type": "object",
        "properties": {"a": {"type": "string"}},
        "required": ["a", "b"],
        "additionalProperties": {"type": "integer"},
    },
    {"type": "object", "minProperties": 3, "additionalProperties": {"type": "boolean"}},
    {
        "type": "object",
        "properties": {"a": {}, "b": {}, "c": {}},
        "required": ["c"],
        "maxProperties": 1,
    },
    {
        "type": "object",
        "properties": {
            "when": {"type": "string", "format": "date-time"},
            "day": {"type": "string", "format": "date"},
            "at": {"type": "string", "format": "time"},
            "site": {"type": "string", "format": "uri"},
            "id": {"type": "string", "format": "uuid"},
            "host": {"type": "string", "format": "hostname"},
            "v4": {"type": "string", "format": "ipv4"},
            "v6": {"type": "string", "format": "ipv6"},
        },
    },
    {
        "allOf": [
            {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
            {"properties": {"b": {"type": "string"}}, "required": ["b"]},
        ]
    },
    {  # what pydantic writes for a model with a nested model and an optional field
        "$defs": {
            "Address": {
                "type": "object",
                "properties": {"street": {"type": "string"}, "zip": {"type": "string"}},
                "required": ["street", "zip"],
                "additionalProperties": False,
            }
        },
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "address": {"$ref": "#/$defs/Address"},
            "nickname": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["name", "address", "nickname", "tags"],
        "additionalProperties": False,
    },
    {  # recursive: ends because deep objects keep only what is required
        "definitions": {
            "Node": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#/definitions/Node"}},
                },
                "required": ["name"],
            }
        },
        "$ref": "#/definitions/Node",
    },
]


def check(schema: dict[str, Any], value: Any) -> None:
    validator = jsonschema_rs.validator_for(schema, validate_formats=True)
    errors = [error.message for error in validator.iter_errors(value)]
    assert not errors, (schema, value, errors)


@pytest.mark.parametrize("schema", SCHEMAS)
def test_generated_values_are_valid(schema: dict[str, Any]) -> None:
    for seed in range(25):
        check(schema, generate(schema, random.Random(seed)))


@pytest.mark.parametrize("schema", SCHEMAS)
def test_the_same_prng_gives_the_same_value(schema: dict[str, Any]) -> None:
    assert generate(schema, random.Random(7)) == generate(schema, random.Random(7))


def test_values_vary_with_the_prng_and_honour_enum_and_nesting() -> None:
    values = [generate(WEATHER, random.Random(seed)) for seed in range(20)]
    assert len({value["city"] for value in values}) > 5
    assert {value["units"] for value in values} == {"celsius"}  # an enum's first value
    assert all(set(value) == set(WEATHER["properties"]) for value in values)


def test_a_recursive_schema_ends() -> None:
    def depth(node: dict[str, Any]) -> int:
        return 1 + max((depth(child) for child in node.get("children", [])), default=0)

    tree = generate(SCHEMAS[-1], random.Random(1))
    assert 1 < depth(tree) <= MAX_DEPTH


def test_named_values_are_read_from_a_prompt() -> None:
    text = 'Weather for city="New York", units: fahrenheit days=3. detailed=TRUE ratio: 0.5?'
    assert named_values(text) == {
        "city": "New York",
        "units": "fahrenheit",
        "days": "3",
        "detailed": "TRUE",
        "ratio": "0.5",
    }
    assert named_values("a=1 a=2 b='x y' c=...") == {"a": "1", "b": "x y"}


def test_given_values_are_converted_and_used() -> None:
    given = {"city": "New York", "units": "fahrenheit", "days": "3", "detailed": "TRUE"}
    value = generate(WEATHER, random.Random(0), {**given, "ratio": "0.5"})
    assert value["city"] == "New York"
    assert value["units"] == "fahrenheit"
    assert value["days"] == 3
    assert value["detailed"] is True
    assert value["ratio"] == 0.5
    check(WEATHER, value)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("units", "kelvin"),  # not in the enum
        ("days", "9"),  # above the maximum
        ("days", "two"),  # not an integer
        ("days", "2.5"),
        ("ratio", "1"),  # the exclusive maximum
        ("detailed", "yes"),
    ],
)
def test_invalid_given_values_are_ignored(name: str, text: str) -> None:
    generated = generate(WEATHER, random.Random(3))
    with_given = generate(WEATHER, random.Random(3), {name: text})
    assert with_given == generated
    check(WEATHER, with_given)


def test_given_names_match_in_any_case_and_reach_nullable_properties() -> None:
    schema = SCHEMAS[-2]
    value = generate(schema, random.Random(0), {"Name": "Ada", "NICKNAME": "ada"})
    assert (value["name"], value["nickname"]) == ("Ada", "ada")
    check(schema, value)


# --- generated schemas ---------------------------------------------------------------------


@st.composite
def string_schemas(draw: st.DrawFn) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    low = draw(st.none() | st.integers(0, 40))
    high = draw(st.none() | st.integers(low or 0, 60))
    if low is not None:
        schema["minLength"] = low
    if high is not None:
        schema["maxLength"] = high
    return schema


@st.composite
def number_schemas(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["integer", "number"]))
    schema: dict[str, Any] = {"type": kind}
    low = draw(st.none() | st.integers(-1000, 1000))
    high = draw(st.none() | st.integers(low + 2 if low is not None else -1000, 1100))
    if low is not None:
        schema["exclusiveMinimum" if draw(st.booleans()) else "minimum"] = low
    if high is not None:  # two apart at least: an integer fits between exclusive bounds
        schema["exclusiveMaximum" if draw(st.booleans()) else "maximum"] = high
    if draw(st.booleans()) and low is None and high is None:
        schema["multipleOf"] = draw(st.sampled_from([1, 2, 5, 0.5, 0.25]))
    return schema


SCALARS = (
    string_schemas()
    | number_schemas()
    | st.just({"type": "boolean"})
    | st.just({"type": "null"})
    | st.lists(st.integers() | st.text(max_size=5), min_size=1, max_size=4, unique=True).map(
        lambda values: {"enum": values}
    )
)


def containers(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    names = st.text("abcdefgh_", min_size=1, max_size=6)
    objects = st.dictionaries(names, children, max_size=5).flatmap(
        lambda properties: st.builds(
            lambda required, closed: {
                "type": "object",
                "properties": properties,
                "required": sorted(required),
                "additionalProperties": not closed,
            },
            st.sets(st.sampled_from(sorted(properties))) if properties else st.just(set()),
            st.booleans(),
        )
    )
    arrays = st.builds(
        lambda items, low, extra: {
            "type": "array",
            "items": items,
            "minItems": low,
            "maxItems": low + extra,
        },
        children,
        st.integers(0, 3),
        st.integers(0, 3),
    )
    nullable = children.map(lambda child: {"anyOf": [child, {"type": "null"}]})
    return objects | arrays | nullable


@settings(max_examples=300, deadline=None)
@given(st.recursive(SCALARS, containers, max_leaves=12), st.integers(0, 2**32))
def test_any_generated_schema_gets_a_valid_value(schema: dict[str, Any], seed: int) -> None:
    check(schema, generate(schema, random.Random(seed)))


def test_unique_items_from_an_enum_with_an_integer_past_64_bits() -> None:
    """Found by the fuzz test above: uniqueness was judged by the JSON text, which orjson
    cannot write for such an integer (TypeError, a 500 on the gateway)."""
    schema = {
        "type": "array",
        "uniqueItems": True,
        "minItems": 2,
        "maxItems": 2,
        "items": {"enum": [-(2**63) - 1, 1]},
    }
    value = generate(schema, random.Random(0))
    assert sorted(value) == [-(2**63) - 1, 1]
