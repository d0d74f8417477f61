"""Pydantic models, when pydantic is installed (it is not a dependency: the floors job runs
without it, and this module is skipped there): their own `model_json_schema()`, decoding
through `model_validate`, their errors with paths, nested in other types and as a tool's
parameter."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from aigateway_sdk.schema import Schema, SchemaError, SchemaMismatch, parameters_of

pydantic = pytest.importorskip("pydantic")


class Address(pydantic.BaseModel):  # type: ignore[misc,name-defined]
    street: str
    zip_code: str = pydantic.Field(default="00000", pattern=r"^\d{5}$", description="five digits")


class Person(pydantic.BaseModel):  # type: ignore[misc,name-defined]
    """Someone we know.

    Only the first paragraph describes the schema."""

    name: str
    age: int = 0
    address: Address | None = None

    @pydantic.field_validator("name")  # type: ignore[misc]
    @classmethod
    def not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("name must not be blank")
        return value


class Node(pydantic.BaseModel):  # type: ignore[misc,name-defined]
    value: int
    children: list[Node] = []


@attrs.frozen
class Team:
    lead: Person
    members: list[Person]


def test_a_model_brings_its_own_json_schema() -> None:
    schema = Schema.of(Person)
    assert schema.json_schema == Person.model_json_schema()
    assert schema.name == "Person"
    assert schema.description == "Someone we know."


def test_decode_builds_the_model_through_model_validate() -> None:
    person = Schema.of(Person).decode(
        {"name": "Ada", "address": {"street": "Main", "zip_code": "12345"}}
    )
    assert person == Person(name="Ada", address=Address(street="Main", zip_code="12345"))
    tree = Schema.of(Node).decode({"value": 1, "children": [{"value": 2}]})
    assert tree.children[0].value == 2


def test_schema_errors_and_the_models_own_checks_both_name_paths() -> None:
    schema = Schema.of(Person)
    assert schema.errors({"name": "Ada", "address": {"street": 5, "zip_code": "1"}}) == (
        SchemaError(("address", "street"), "expected string, got integer"),
        SchemaError(("address", "zip_code"), "must match the pattern '^\\\\d{5}$'"),
    )
    with pytest.raises(SchemaMismatch) as caught:
        schema.decode({"name": "  "})  # valid JSON Schema; the model's validator refuses it
    assert [error.path for error in caught.value.errors] == [("name",)]
    assert "name must not be blank" in caught.value.errors[0].message


def test_models_nested_in_attrs_classes_share_the_documents_defs() -> None:
    schema = Schema.of(Team)
    document = schema.json_schema
    assert document["properties"]["lead"] == {"$ref": "#/$defs/Person"}
    assert set(document["$defs"]) == {"Person", "Address"}
    team = schema.decode(
        {"lead": {"name": "Ada"}, "members": [{"name": "Bob", "address": {"street": "S"}}]}
    )
    assert isinstance(team.lead, Person)
    assert team.members[0].address == Address(street="S")


def test_a_model_is_a_tool_parameter_like_any_type() -> None:
    def register(person: Person, notify: bool = False) -> None:
        """Register someone."""

    schema = parameters_of(register)
    assert schema.json_schema["properties"]["person"] == {"$ref": "#/$defs/Person"}
    assert schema.decode({"person": {"name": "Ada"}}) == {"person": Person(name="Ada")}


def test_a_model_decodes_from_the_strict_form_with_its_defaults() -> None:
    schema = Schema.of(Person)
    strict = schema.strict_json_schema()
    assert strict["required"] == ["name", "age", "address"]
    person = schema.decode({"name": "Ada", "age": None, "address": None})
    assert person == Person(name="Ada")


AttrsAddress = attrs.make_class("Address", {"line": attrs.field(type=str)}, frozen=True)
"""An attrs class with the same name as the pydantic model inside Person."""


@attrs.frozen
class Both:
    mine: AttrsAddress  # type: ignore[valid-type]
    person: Person


def test_a_name_taken_in_defs_is_renamed_not_overwritten() -> None:
    document: Any = Schema.of(Both).json_schema
    assert document["properties"]["mine"] == {"$ref": "#/$defs/Address"}
    assert document["$defs"]["Address"]["properties"] == {"line": {"type": "string"}}
    person = document["$defs"]["Person"]
    renamed = person["properties"]["address"]["anyOf"][0]["$ref"]
    assert renamed == "#/$defs/Address_2"
    assert document["$defs"]["Address_2"]["properties"]["zip_code"]["pattern"] == r"^\d{5}$"
    both = Schema.of(Both).decode(
        {"mine": {"line": "x"}, "person": {"name": "A", "address": {"street": "s"}}}
    )
    assert both.mine == AttrsAddress("x")
    assert both.person.address == Address(street="s")
