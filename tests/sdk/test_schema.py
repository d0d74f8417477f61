"""`Schema.of`: the JSON Schema derived from each supported Python type (exactly, for the ones
a model sees most), the typed value decoded from a model's JSON (round trips), errors naming
the failing path, the strict form, and the specs that are refused."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
from collections.abc import Mapping, Sequence
from typing import (
    Annotated,
    Any,
    Generic,
    Literal,
    NewType,
    NotRequired,
    Optional,
    TypedDict,
    TypeVar,
    Union,
)

import attrs
import pytest

from aigateway_sdk.schema import Constraints, Schema, SchemaError, SchemaMismatch
from aigateway_sdk.validation import ValidationError

# -- the types the tests derive from (module level: annotations are strings here) ----------


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@attrs.frozen
class Item:
    """A line of an order.

    The second paragraph is not part of the description."""

    name: str
    price: Annotated[float, Constraints(minimum=0)]
    tags: list[str] = attrs.field(factory=list, metadata={"description": "free labels"})


@attrs.frozen
class Order:
    """An order."""

    items: list[Item]
    color: Color
    placed: dt.datetime
    note: Optional[str] = None  # noqa: UP045 - Optional spelled out on purpose
    kind: Literal["online", "shop"] = "online"


@attrs.frozen
class Tree:
    value: int
    children: list[Tree] = attrs.field(factory=list)


@dataclasses.dataclass(frozen=True)
class Point:
    x: float
    y: float = 0.0
    label: str = dataclasses.field(default="", metadata={"description": "what the point is"})


class Movie(TypedDict):
    """A film."""

    title: str
    year: int
    rating: NotRequired[float]


class Partial(TypedDict, total=False):
    title: str
    year: int


@attrs.frozen
class Documented:
    """Where fields are described in the docstring.

    Attributes:
        city: The city's name.
        days: How many days ahead.
    """

    city: str
    days: int = 1


@attrs.frozen
class Private:
    _secret: str


@attrs.frozen
class Refusing:
    even: int = attrs.field(validator=lambda _, __, value: _require_even(value))


def _require_even(value: int) -> None:
    if value % 2:
        raise ValueError("must be even")


Element = TypeVar("Element")


@attrs.frozen
class Page(Generic[Element]):
    items: list[Element]
    total: int


@attrs.frozen
class Holder:
    first: Page[int]
    second: Page[str]


@attrs.frozen
class Cat:
    meow: str


@attrs.frozen
class Dog:
    bark: int


@attrs.frozen
class Pets:
    pet: Cat | Dog
    maybe: Cat | Dog | None = None


UserId = NewType("UserId", int)


class Plain:
    x: int


# -- derivation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (str, {"type": "string"}),
        (int, {"type": "integer"}),
        (float, {"type": "number"}),
        (bool, {"type": "boolean"}),
        (None, {"type": "null"}),
        (type(None), {"type": "null"}),
        (Any, {}),
        (list[int], {"type": "array", "items": {"type": "integer"}}),
        (Sequence[str], {"type": "array", "items": {"type": "string"}}),
        (tuple[int, ...], {"type": "array", "items": {"type": "integer"}}),
        (
            tuple[int, str],
            {
                "type": "array",
                "minItems": 2,
                "maxItems": 2,
                "prefixItems": [{"type": "integer"}, {"type": "string"}],
                "items": False,
            },
        ),
        (set[str], {"type": "array", "items": {"type": "string"}, "uniqueItems": True}),
        (frozenset[int], {"type": "array", "items": {"type": "integer"}, "uniqueItems": True}),
        (dict[str, int], {"type": "object", "additionalProperties": {"type": "integer"}}),
        (Mapping[str, Any], {"type": "object", "additionalProperties": True}),
        (Literal["a", "b"], {"type": "string", "enum": ["a", "b"]}),
        (Literal[1, "a", None], {"type": ["string", "integer", "null"], "enum": [1, "a", None]}),
        (Color, {"type": "string", "enum": ["red", "green"]}),
        (Level, {"type": "integer", "enum": [1, 2]}),
        (Optional[int], {"type": ["integer", "null"]}),  # noqa: UP045
        (int | None, {"type": ["integer", "null"]}),
        (list[str] | None, {"type": ["array", "null"], "items": {"type": "string"}}),
        (Union[int, str], {"anyOf": [{"type": "integer"}, {"type": "string"}]}),  # noqa: UP007
        (
            Color | None,
            {"anyOf": [{"type": "string", "enum": ["red", "green"]}, {"type": "null"}]},
        ),
        (Annotated[str, "a city"], {"type": "string", "description": "a city"}),
        (
            Annotated[int, Constraints(minimum=1, maximum=10, description="a count")],
            {"type": "integer", "minimum": 1, "maximum": 10, "description": "a count"},
        ),
        (
            Annotated[str, Constraints(min_length=1, max_length=3, pattern="^[A-Z]+$")],
            {"type": "string", "minLength": 1, "maxLength": 3, "pattern": "^[A-Z]+$"},
        ),
        (
            Annotated[list[int], Constraints(min_length=1)],
            {"type": "array", "items": {"type": "integer"}, "minItems": 1},
        ),
        (
            Annotated[float, Constraints(exclusive_minimum=0, multiple_of=0.5)],
            {"type": "number", "exclusiveMinimum": 0, "multipleOf": 0.5},
        ),
        (dt.datetime, {"type": "string", "format": "date-time"}),
        (dt.date, {"type": "string", "format": "date"}),
        (UserId, {"type": "integer"}),
    ],
)
def test_each_supported_type_has_its_json_schema(spec: Any, expected: dict[str, Any]) -> None:
    schema = Schema.of(spec)
    assert schema.json_schema == expected
    assert schema.name == "output"


def test_an_attrs_class_is_an_object_with_its_fields_defaults_and_descriptions() -> None:
    schema = Schema.of(Order)
    assert schema.name == "Order"
    assert schema.description == "An order."
    assert schema.json_schema == {
        "type": "object",
        "description": "An order.",
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/$defs/Item"}},
            "color": {"type": "string", "enum": ["red", "green"]},
            "placed": {"type": "string", "format": "date-time"},
            "note": {"type": ["string", "null"]},
            "kind": {"type": "string", "enum": ["online", "shop"]},
        },
        "required": ["items", "color", "placed"],
        "additionalProperties": False,
        "$defs": {
            "Item": {
                "type": "object",
                "description": "A line of an order.",
                "properties": {
                    "name": {"type": "string"},
                    "price": {"type": "number", "minimum": 0},
                    "tags": {
                        "type": "array",
                        "items": {"type": "string"},
                        "description": "free labels",
                    },
                },
                "required": ["name", "price"],
                "additionalProperties": False,
            }
        },
    }


def test_a_dataclass_and_typeddicts_are_objects_too() -> None:
    assert Schema.of(Point).json_schema == {
        "type": "object",
        "properties": {
            "x": {"type": "number"},
            "y": {"type": "number"},
            "label": {"type": "string", "description": "what the point is"},
        },
        "required": ["x"],
        "additionalProperties": False,
    }
    assert Schema.of(Point).description is None  # not dataclasses' made-up "Point(x: ...)"
    movie = Schema.of(Movie)
    assert movie.description == "A film."
    assert movie.json_schema["required"] == ["title", "year"]
    assert movie.json_schema["properties"]["rating"] == {"type": "number"}
    assert Schema.of(Partial).json_schema["required"] == []


def test_attributes_documented_in_the_class_docstring_are_field_descriptions() -> None:
    properties = Schema.of(Documented).json_schema["properties"]
    assert properties["city"] == {"type": "string", "description": "The city's name."}
    assert properties["days"] == {"type": "integer", "description": "How many days ahead."}
    assert Schema.of(Documented).description == "Where fields are described in the docstring."


def test_a_recursive_class_refers_to_itself_through_defs() -> None:
    document = Schema.of(Tree).json_schema
    assert document["properties"]["children"] == {
        "type": "array",
        "items": {"$ref": "#/$defs/Tree"},
    }
    assert document["$defs"]["Tree"]["properties"] == document["properties"]


def test_generic_classes_are_derived_per_argument() -> None:
    document = Schema.of(Holder).json_schema
    assert document["properties"] == {
        "first": {"$ref": "#/$defs/Page_int"},
        "second": {"$ref": "#/$defs/Page_str"},
    }
    assert document["$defs"]["Page_int"]["properties"]["items"]["items"] == {"type": "integer"}
    assert document["$defs"]["Page_str"]["properties"]["items"]["items"] == {"type": "string"}
    holder = Schema.of(Holder).decode(
        {"first": {"items": [1], "total": 1}, "second": {"items": ["a"], "total": 1}}
    )
    assert holder == Holder(Page([1], 1), Page(["a"], 1))


def test_an_attrs_private_field_is_named_by_its_init_argument() -> None:
    schema = Schema.of(Private)
    assert list(schema.json_schema["properties"]) == ["secret"]
    assert schema.decode({"secret": "s"}) == Private("s")


def test_name_and_description_can_be_given() -> None:
    assert Schema.of(list[int], name="numbers").name == "numbers"
    assert Schema.of(Order, name="purchase").name == "purchase"
    renamed = Schema.of(Schema.of(Order), name="other")
    assert (renamed.name, renamed.description) == ("other", "An order.")
    same = Schema.of(Order)
    assert Schema.of(same) is same
    assert Schema.of({"type": "string", "description": "a word"}).description == "a word"


# -- decoding ------------------------------------------------------------------------------


def to_json(value: Any) -> Any:
    """A Python value as a model would send it (through real JSON text)."""

    def plain(item: Any) -> Any:
        if attrs.has(type(item)):
            return {
                (field.alias or field.name): plain(getattr(item, field.name))
                for field in attrs.fields(type(item))
            }
        if dataclasses.is_dataclass(item) and not isinstance(item, type):
            return {
                field.name: plain(getattr(item, field.name)) for field in dataclasses.fields(item)
            }
        if isinstance(item, enum.Enum):
            return item.value
        if isinstance(item, dt.date):
            return item.isoformat()
        if isinstance(item, dict):
            return {name: plain(member) for name, member in item.items()}
        if isinstance(item, list | tuple | set | frozenset):
            return [plain(member) for member in item]
        return item

    return json.loads(json.dumps(plain(value)))


ROUND_TRIPS: list[tuple[Any, Any]] = [
    (
        Order,
        Order(
            items=[Item("pen", 1.5, ["office"]), Item("ink", 3.0)],
            color=Color.GREEN,
            placed=dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.UTC),
            note="ring twice",
            kind="shop",
        ),
    ),
    (Tree, Tree(1, [Tree(2), Tree(3, [Tree(4)])])),
    (Point, Point(1.5, -2.0, "origin-ish")),
    (Movie, {"title": "Alien", "year": 1979, "rating": 8.5}),
    (list[Item], [Item("a", 0.0)]),
    (tuple[int, str, Color], (1, "x", Color.RED)),
    (tuple[float, ...], (1.0, 2.5)),
    (set[Color], {Color.RED, Color.GREEN}),
    (frozenset[str], frozenset({"a", "b"})),
    (dict[str, Item], {"one": Item("a", 1.0)}),
    (dict[str, list[dt.date]], {"days": [dt.date(2024, 1, 2)]}),
    (Optional[Item], None),  # noqa: UP045
    (Item | None, Item("a", 1.0)),
    (Pets, Pets(Dog(3), Cat("purr"))),
    (Pets, Pets(Cat("x"))),
    (Level, Level.HIGH),
    (Literal[1, "one"], 1),
    (Holder, Holder(Page([1, 2], 2), Page([], 0))),
]


@pytest.mark.parametrize(("spec", "value"), ROUND_TRIPS)
def test_a_value_survives_json_and_decode(spec: Any, value: Any) -> None:
    schema = Schema.of(spec)
    sent = to_json(value)
    assert schema.errors(sent) == ()
    decoded = schema.decode(sent)
    assert decoded == value
    assert type(decoded) is type(value)


def test_decoded_values_are_typed() -> None:
    order = Schema.of(Order).decode(
        {"items": [{"name": "a", "price": 2}], "color": "red", "placed": "2024-01-02T03:04:05Z"}
    )
    assert isinstance(order.items[0], Item)
    assert isinstance(order.items[0].price, float)  # 2 sent, a float built
    assert order.color is Color.RED
    assert order.placed == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert order.kind == "online"  # the default, not sent
    assert Schema.of(int).decode(3.0) == 3
    assert type(Schema.of(int).decode(3.0)) is int
    assert Schema.of(Literal[True, 1]).decode(1.0) == 1
    assert Schema.of(Literal[True, 1]).decode(True) is True


def test_a_json_schema_dict_decodes_to_the_json_value_itself() -> None:
    schema = Schema.of({"type": "object", "properties": {"a": {"type": "integer"}}})
    value = {"a": 1, "b": [1, 2]}
    assert schema.decode(value) is value
    with pytest.raises(SchemaMismatch) as caught:
        schema.decode({"a": "1"})
    assert caught.value.errors == (SchemaError(("a",), "expected integer, got string"),)


def test_a_union_decodes_by_the_branch_the_value_matches() -> None:
    schema = Schema.of(int | str | list[Color])
    assert schema.decode(2.0) == 2
    assert schema.decode("2") == "2"
    assert schema.decode(["red"]) == [Color.RED]
    assert Schema.of(bool | int).decode(True) is True
    assert type(Schema.of(int | float).decode(1)) is int
    assert type(Schema.of(float | int).decode(1)) is float  # equal unions, their own order


# -- errors --------------------------------------------------------------------------------


def test_nested_failures_name_their_paths() -> None:
    schema = Schema.of(Order)
    bad = {
        "items": [{"name": "a", "price": 1}, {"name": 2, "price": -1, "size": "L"}],
        "color": "blue",
        "note": 3,
    }
    assert schema.errors(bad) == (
        SchemaError(("placed",), "is required"),
        SchemaError(("items", 1, "name"), "expected string, got integer"),
        SchemaError(("items", 1, "price"), "must be >= 0, got -1"),
        SchemaError(("items", 1, "size"), "unexpected property"),
        SchemaError(("color",), 'must be one of "red", "green"'),
        SchemaError(("note",), "expected string or null, got integer"),
    )
    with pytest.raises(SchemaMismatch) as caught:
        schema.decode(bad)
    assert caught.value.errors == schema.errors(bad)
    assert str(caught.value).startswith(
        "$.placed: is required; $.items[1].name: expected string, got integer; "
    )
    assert str(caught.value).endswith("; and 1 more")
    assert isinstance(caught.value, ValueError)


def test_error_paths_print_as_json_paths() -> None:
    assert str(SchemaError(("items", 2, "price"), "bad")) == "$.items[2].price: bad"
    assert str(SchemaError((), "bad")) == "$: bad"
    assert str(SchemaError(("odd key", 0), "bad")) == '$["odd key"][0]: bad'


def test_a_failed_union_reports_the_closest_branch_or_one_summary() -> None:
    pets = Schema.of(Pets)
    assert pets.errors({"pet": {"bark": "loud"}}) == (
        SchemaError(("pet", "bark"), "expected integer, got string"),
    )
    assert pets.errors({"pet": "rex"}) == (SchemaError(("pet",), "expected object, got string"),)
    assert Schema.of(Item | None).errors(3) == (
        SchemaError((), "expected object or null, got integer"),
    )


def test_a_value_that_validates_but_cannot_be_built_names_its_path() -> None:
    schema = Schema.of(dict[str, list[dt.datetime]])
    bad = {"days": ["2024-01-01T00:00:00", "someday"]}
    expected = (SchemaError(("days", 1), "'someday' is not an ISO 8601 date-time"),)
    assert schema.errors(bad) == expected
    with pytest.raises(SchemaMismatch) as caught:
        schema.decode(bad)
    assert caught.value.errors == expected
    refusing = Schema.of(list[Refusing])
    assert refusing.errors([{"even": 2}, {"even": 3}]) == (
        SchemaError((1,), "Refusing: must be even"),
    )


def test_errors_stop_at_twenty() -> None:
    assert len(Schema.of(list[int]).errors(["x"] * 100)) == 20


def test_bool_is_never_a_number_and_one_point_zero_is_an_integer() -> None:
    assert Schema.of(int).errors(True) == (SchemaError((), "expected integer, got boolean"),)
    assert Schema.of(float).errors(False) == (SchemaError((), "expected number, got boolean"),)
    assert Schema.of(int).errors(1.0) == ()
    assert Schema.of(int).errors(1.5) == (SchemaError((), "expected integer, got number"),)


# -- the strict form -----------------------------------------------------------------------


def test_the_strict_form_requires_every_property_and_makes_optional_ones_nullable() -> None:
    strict = Schema.of(Order).strict_json_schema()
    assert strict["required"] == ["items", "color", "placed", "note", "kind"]
    assert strict["additionalProperties"] is False
    assert strict["properties"]["kind"] == {
        "anyOf": [{"type": "string", "enum": ["online", "shop"]}, {"type": "null"}]
    }
    assert strict["properties"]["note"] == {"type": ["string", "null"]}
    item = strict["$defs"]["Item"]
    assert item["required"] == ["name", "price", "tags"]
    assert item["properties"]["tags"]["type"] == ["array", "null"]


def test_the_strict_form_of_a_dict_schema_closes_every_object() -> None:
    schema = Schema.of(
        {
            "type": "object",
            "properties": {
                "a": {"type": "object", "properties": {"b": {"type": "integer"}}},
                "c": {"$ref": "#/$defs/C", "description": "see C"},
            },
            "$defs": {"C": {"type": "object", "properties": {"d": {"type": "string"}}}},
        }
    )
    strict = schema.strict_json_schema()
    assert strict["properties"]["a"] == {
        "type": ["object", "null"],
        "properties": {"b": {"type": ["integer", "null"]}},
        "additionalProperties": False,
        "required": ["b"],
    }
    assert strict["properties"]["c"] == {  # a $ref with siblings is inlined
        "type": ["object", "null"],
        "properties": {"d": {"type": ["string", "null"]}},
        "additionalProperties": False,
        "required": ["d"],
        "description": "see C",
    }
    assert strict["required"] == ["a", "c"]


def test_a_value_in_the_strict_form_decodes_with_defaults_for_the_nulls() -> None:
    schema = Schema.of(Order)
    strict_reply = {
        "items": [{"name": "a", "price": 1, "tags": None}],
        "color": "red",
        "placed": "2024-01-01T00:00:00",
        "note": None,
        "kind": None,
    }
    assert schema.errors(strict_reply) == ()
    order = schema.decode(strict_reply)
    assert order.kind == "online"
    assert order.items == [Item("a", 1.0, [])]
    assert order.note is None
    dict_schema = Schema.of(schema.json_schema)
    assert dict_schema.decode(strict_reply) == {
        "items": [{"name": "a", "price": 1}],
        "color": "red",
        "placed": "2024-01-01T00:00:00",
        "note": None,  # note's own schema allows null: kept
    }


def test_a_value_that_fits_neither_form_reports_the_closer_one() -> None:
    schema = Schema.of(Item)
    # strict form (every property present), one real mistake: reported alone
    assert schema.errors({"name": "a", "price": "free", "tags": None}) == (
        SchemaError(("price",), "expected number, got string"),
    )


# -- the Schema value ----------------------------------------------------------------------


def test_the_json_schema_is_a_fresh_copy_and_the_schema_is_immutable() -> None:
    schema = Schema.of(Item)
    document = schema.json_schema
    document["properties"]["name"]["type"] = "integer"  # type: ignore[index]
    assert schema.json_schema["properties"]["name"] == {"type": "string"}
    assert schema.decode({"name": "a", "price": 1}) == Item("a", 1.0)
    with pytest.raises(AttributeError):
        schema.name = "other"  # type: ignore[misc]
    given = {"type": "string"}
    from_dict = Schema.of(given)
    given["type"] = "integer"
    assert from_dict.json_schema == {"type": "string"}


def test_the_same_type_gives_the_same_schema_object() -> None:
    assert Schema.of(Order) is Schema.of(Order)
    assert Schema.of(list[Item]) is Schema.of(list[Item])


# -- refused -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        (object, "object says nothing"),
        (Plain, "Plain is not an attrs class"),
        (lambda x: x, "no JSON Schema for"),
        (dict[int, str], "keys are strings"),
        (Annotated[int, Constraints(min_length=1)], "min_length/max_length"),
        (Annotated[str, Constraints(minimum=1)], "do not apply to string"),
        (Literal[b"x"], "not a JSON string"),
        (list[Element], "type variable"),  # type: ignore[valid-type]
        (complex, "complex is not an attrs class"),
    ],
)
def test_unsupported_specs_are_refused_by_name(spec: Any, named: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Schema.of(spec)
    assert named in str(caught.value)


@attrs.frozen
class HasBadField:
    ok: int
    bad: object
    worse: list[complex]


def test_every_bad_field_is_named_with_its_path() -> None:
    with pytest.raises(ValidationError) as caught:
        Schema.of(HasBadField)
    assert caught.value.fields == ("HasBadField.bad", "HasBadField.worse.[]")


@attrs.frozen
class Unresolvable:
    x: Missing  # type: ignore[name-defined]  # noqa: F821


def test_an_annotation_that_cannot_be_resolved_is_refused() -> None:
    with pytest.raises(ValidationError, match="Missing"):
        Schema.of(Unresolvable)


def test_bad_names_are_refused() -> None:
    with pytest.raises(ValidationError, match="must match"):
        Schema.of(int, name="has space")
    with pytest.raises(ValidationError, match="must match"):
        Schema.of(int, name="x" * 65)


def test_enum_values_must_be_json() -> None:
    class Weird(enum.Enum):
        A = (1, 2)

    with pytest.raises(ValidationError, match=r"Weird\.A"):
        Schema.of(Weird)


def test_constraints_are_checked_when_built() -> None:
    with pytest.raises(ValidationError) as caught:
        Constraints(minimum="0", min_length=-1, pattern="(", multiple_of=0)  # type: ignore[arg-type]
    assert set(caught.value.fields) == {"minimum", "min_length", "pattern", "multiple_of"}
    with pytest.raises(ValidationError, match="greater than maximum"):
        Constraints(minimum=2, maximum=1)


Untyped = attrs.make_class("Untyped", ["x"])
TypedByField = attrs.make_class("TypedByField", {"x": attrs.field(type=int)})


def test_an_attrs_field_without_a_type_is_refused_and_field_types_are_read() -> None:
    with pytest.raises(ValidationError, match=r"Untyped\.x has no type annotation"):
        Schema.of(Untyped)
    assert Schema.of(TypedByField).json_schema["properties"] == {"x": {"type": "integer"}}


def test_numbers_become_the_annotated_number_type_inside_lists_too() -> None:
    assert Schema.of(list[int]).decode([1, 2.0]) == [1, 2]
    assert [type(n) for n in Schema.of(list[int]).decode([1, 2.0])] == [int, int]
    assert [type(n) for n in Schema.of(list[float]).decode([1, 2.5])] == [float, float]
    assert Schema.of(list[float]).errors([1.0, 10**400]) == (
        SchemaError((1,), "is too large for a float"),
    )
