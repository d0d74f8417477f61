"""Decoders: functions from a JSON value that already passed validation to the typed Python
value (attrs / dataclass instances, TypedDict dicts, Enum members, tuples, sets, datetimes).
`None` stands for "the JSON value as it is" (str, bool, a list of them), so containers of such
values skip the copy. A value that is valid JSON but cannot be built (a date that is not ISO
8601, a class's own validator refusing a field) raises `DecodeFailure`, each container putting
its key in front of the path on the way up."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from aigateway_sdk.schema.checks import Valid
from aigateway_sdk.schema.errors import DecodeFailure, SchemaError
from aigateway_sdk.schema.jsonvalues import key

Decoder = Callable[[Any], Any]


def run(decoder: Decoder | None, value: Any) -> Any:
    return value if decoder is None else decoder(value)


def to_int(value: Any) -> Any:
    """1.0 is a JSON Schema integer; the typed value is the int 1."""
    return value if type(value) is int else int(value)


def to_float(value: Any) -> Any:
    if type(value) is float:
        return value
    try:
        return float(value)
    except OverflowError:
        raise DecodeFailure.at_root("is too large for a float") from None


def optional(inner: Decoder) -> Decoder:
    def decode(value: Any) -> Any:
        return None if value is None else inner(value)

    return decode


def _find(inner: Decoder, members: Iterable[tuple[str | int, Any]]) -> DecodeFailure:
    """Decode member by member to name the one that fails (the slow path of a failure)."""
    for step, member in members:
        try:
            inner(member)
        except DecodeFailure as failure:
            return failure.under(step)
    return DecodeFailure.at_root("could not be decoded")


def _ints(value: Any) -> Any:
    return [member if type(member) is int else int(member) for member in value]


def _floats(value: Any) -> Any:
    try:
        return [member if type(member) is float else to_float(member) for member in value]
    except DecodeFailure:  # an int too large for a float: name which
        raise _find(to_float, enumerate(value)) from None


def list_of(inner: Decoder) -> Decoder:
    if inner is to_int:  # the common list[int] without a call per item
        return _ints
    if inner is to_float:
        return _floats

    def decode(value: Any) -> Any:
        try:
            return [inner(member) for member in value]
        except DecodeFailure:
            raise _find(inner, enumerate(value)) from None

    return decode


def collection_of(inner: Decoder | None, build: Callable[[Iterable[Any]], Any]) -> Decoder:
    """tuple[X, ...], set[X], frozenset[X]: the members decoded, then gathered by `build`."""
    each = list_of(inner) if inner is not None else None

    def decode(value: Any) -> Any:
        members = value if each is None else each(value)
        try:
            return build(members)
        except TypeError as error:  # an unhashable member of a set
            raise DecodeFailure.at_root(f"cannot be a {build.__name__}: {error}") from None

    return decode


def tuple_of(inners: tuple[Decoder | None, ...]) -> Decoder:
    """tuple[X, Y]: each position by its own decoder."""
    pairs = tuple(enumerate(inners))

    def decode(value: Any) -> Any:
        built = []
        for index, inner in pairs:
            try:
                built.append(run(inner, value[index]))
            except DecodeFailure as failure:
                raise failure.under(index) from None
        return tuple(built)

    return decode


def dict_of(inner: Decoder) -> Decoder:
    def decode(value: Any) -> Any:
        try:
            return {name: inner(member) for name, member in value.items()}
        except DecodeFailure:
            raise _find(inner, value.items()) from None

    return decode


def lookup(table: dict[Any, Any], what: str) -> Decoder:
    """Enum members and Literal values, found by their JSON value (1 and 1.0 alike)."""

    def decode(value: Any) -> Any:
        try:
            return table[key(value)]
        except (KeyError, TypeError):
            raise DecodeFailure.at_root(f"{value!r} is not a {what}") from None

    return decode


def union(branches: list[tuple[Valid, Decoder | None]]) -> Decoder:
    """X | Y: the first branch whose schema the value passes (filled in once the document's
    checks are compiled)."""

    def decode(value: Any) -> Any:
        for valid, inner in branches:
            if valid(value):
                return run(inner, value)
        raise DecodeFailure.at_root("matches none of the union's types")

    return decode


def iso(kind: type[dt.date]) -> Decoder:
    """datetime / date from ISO 8601 (`datetime.fromisoformat`, which takes a trailing Z)."""
    parse = kind.fromisoformat
    word = "date-time" if kind is dt.datetime else "date"

    def decode(value: Any) -> Any:
        try:
            return parse(value)
        except (TypeError, ValueError):
            raise DecodeFailure.at_root(f"{value!r} is not an ISO 8601 {word}") from None

    return decode


Member = tuple[str, str, Decoder | None]
"""One field of a class: its JSON property name, its constructor argument, its decoder."""


def instance_of(build: Callable[..., Any], members: tuple[Member, ...], name: str) -> Decoder:
    """An attrs / dataclass instance (or a TypedDict's dict) from a JSON object: the members
    present are decoded and passed by name; the ones left out take the class's defaults."""
    plain = tuple((prop, argument) for prop, argument, inner in members if inner is None)
    converted = tuple(
        (prop, argument, inner) for prop, argument, inner in members if inner is not None
    )

    def decode(value: Any) -> Any:
        arguments = {argument: value[prop] for prop, argument in plain if prop in value}
        for prop, argument, inner in converted:
            if prop in value:
                try:
                    arguments[argument] = inner(value[prop])
                except DecodeFailure as failure:
                    raise failure.under(prop) from None
        try:
            return build(**arguments)
        except (TypeError, ValueError) as error:
            raise DecodeFailure.at_root(f"{name}: {error}") from None

    return decode


def model_of(model: Any) -> Decoder:
    """A pydantic model through its own `model_validate`; its errors keep their locations."""
    validate = model.model_validate

    def decode(value: Any) -> Any:
        try:
            return validate(value)
        except ValueError as error:
            raise DecodeFailure(_pydantic_errors(error)) from None

    return decode


def _pydantic_errors(error: ValueError) -> list[SchemaError]:
    listed = getattr(error, "errors", None)
    found: list[SchemaError] = []
    if callable(listed):
        for item in listed():
            location = tuple(step for step in item.get("loc", ()) if isinstance(step, str | int))
            found.append(SchemaError(location, str(item.get("msg", "is not valid"))))
    return found or [SchemaError((), str(error))]


def deferred(cell: list[Decoder]) -> Decoder:
    """The decoder of a class still being derived (a recursive class refers to itself)."""

    def decode(value: Any) -> Any:
        return cell[0](value)

    return decode


__all__ = [
    "Decoder",
    "Member",
    "collection_of",
    "deferred",
    "dict_of",
    "instance_of",
    "iso",
    "list_of",
    "lookup",
    "model_of",
    "optional",
    "to_float",
    "to_int",
    "tuple_of",
    "union",
]
