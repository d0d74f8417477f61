"""`parameters_of(fn)`: a typed function's parameters as the object schema a tool sends, with
descriptions from the docstring (Google, NumPy, Sphinx), injected parameters left out, and
`decode` giving the keyword arguments the call takes."""

from __future__ import annotations

import functools
from typing import Annotated, Any, Literal

import attrs
import pytest
from dependency_injector import containers, providers
from dependency_injector.wiring import Provide

from aigateway_sdk.schema import Constraints, Injected, SchemaError, SchemaMismatch, parameters_of
from aigateway_sdk.schema.docstrings import parse_docstring
from aigateway_sdk.validation import ValidationError


@attrs.frozen
class Location:
    city: str
    country: str = "FR"


class Repository:
    """A dependency a handler needs; never described to the model."""


class Context:
    """A type the tools layer passes itself, marked as such."""

    __aigateway_injected__ = True


class Services(containers.DeclarativeContainer):
    repository = providers.Singleton(Repository)


def get_weather(
    location: Location,
    unit: Literal["celsius", "fahrenheit"] = "celsius",
    days: Annotated[int, Constraints(minimum=1, maximum=7)] = 1,
) -> str:
    """Get the weather forecast.

    Looks the forecast up in the weather service.

    Args:
        location: Where to look.
        unit (str): The temperature unit,
            celsius unless asked.
        days: How many days ahead.
    """
    return ""


def test_a_typed_function_becomes_an_object_schema_with_descriptions() -> None:
    schema = parameters_of(get_weather)
    assert schema.name == "get_weather"
    assert schema.description == "Get the weather forecast."
    assert schema.json_schema == {
        "type": "object",
        "properties": {
            "location": {"$ref": "#/$defs/Location", "description": "Where to look."},
            "unit": {
                "type": "string",
                "enum": ["celsius", "fahrenheit"],
                "description": "The temperature unit, celsius unless asked.",
            },
            "days": {
                "type": "integer",
                "minimum": 1,
                "maximum": 7,
                "description": "How many days ahead.",
            },
        },
        "required": ["location"],
        "additionalProperties": False,
        "$defs": {
            "Location": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
                "required": ["city"],
                "additionalProperties": False,
            }
        },
    }


def test_decode_gives_typed_keyword_arguments_without_the_defaults() -> None:
    schema = parameters_of(get_weather)
    arguments = schema.decode({"location": {"city": "Paris"}, "days": 3.0})
    assert arguments == {"location": Location("Paris"), "days": 3}
    assert type(arguments["days"]) is int
    assert get_weather(**arguments) == ""
    with pytest.raises(SchemaMismatch) as caught:
        schema.decode({"location": {"city": 1}, "days": 9})
    assert caught.value.errors == (
        SchemaError(("location", "city"), "expected string, got integer"),
        SchemaError(("days",), "must be <= 7, got 9"),
    )


def test_arguments_in_the_strict_form_leave_the_defaults_to_the_call() -> None:
    schema = parameters_of(get_weather)
    strict = schema.strict_json_schema()
    assert strict["required"] == ["location", "unit", "days"]
    assert schema.decode(
        {"location": {"city": "Oslo", "country": None}, "unit": None, "days": None}
    ) == {"location": Location("Oslo")}


def numpy_style(city: str, when: str = "today") -> None:
    """Forecast for a city.

    Parameters
    ----------
    city : str
        The city's name.
    when : str, optional
        A day, or "today".

    Returns
    -------
    None
    """


def sphinx_style(city: str, when: str = "today") -> None:
    """Forecast for a city.

    :param city: The city's
        name.
    :param str when: A day, or "today".
    :returns: nothing
    """


def annotated_wins(city: Annotated[str, "From the annotation."]) -> None:
    """Forecast.

    Args:
        city: From the docstring.
    """


@pytest.mark.parametrize("fn", [numpy_style, sphinx_style])
def test_numpy_and_sphinx_docstrings_describe_parameters_too(fn: Any) -> None:
    schema = parameters_of(fn)
    assert schema.description == "Forecast for a city."
    assert schema.json_schema["properties"] == {
        "city": {"type": "string", "description": "The city's name."},
        "when": {"type": "string", "description": 'A day, or "today".'},
    }


def test_an_annotated_description_wins_over_the_docstring() -> None:
    properties = parameters_of(annotated_wins).json_schema["properties"]
    assert properties["city"]["description"] == "From the annotation."


def test_docstrings_without_sections_or_with_only_a_summary() -> None:
    assert parse_docstring(None).summary is None
    assert parse_docstring("   ").params == {}
    only = parse_docstring("One line.\nStill the first paragraph.\n\nSecond paragraph.")
    assert only.summary == "One line. Still the first paragraph."
    sections_only = parse_docstring("\n    Args:\n        x: the x\n    ")
    assert sections_only.summary is None
    assert sections_only.params == {"x": "the x"}


def handler(
    query: str,
    repository: Annotated[Repository, Injected],
    context: Context,
    service: Repository = Provide[Services.repository],
    other: Annotated[Repository, Provide[Services.repository]] = None,  # type: ignore[assignment]
) -> None:
    """Search."""


def test_injected_parameters_are_left_out() -> None:
    schema = parameters_of(handler)
    assert list(schema.json_schema["properties"]) == ["query"]
    assert schema.json_schema["required"] == ["query"]


class Tools:
    def search(self, query: str, limit: int = 10) -> list[str]:
        """Search the index."""
        return []


async def fetch(url: str) -> bytes:
    """Fetch a page."""
    return b""


def decorated(fn: Any) -> Any:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    return wrapper


def test_methods_coroutines_partials_and_wrapped_functions() -> None:
    assert list(parameters_of(Tools().search).json_schema["properties"]) == ["query", "limit"]
    assert parameters_of(fetch).description == "Fetch a page."
    partial = parameters_of(functools.partial(get_weather, unit="celsius"))
    assert partial.name == "get_weather"
    # a keyword the partial binds is the caller's, not the model's to fill (or to override:
    # `partial(delete_order, user_id=current_user)` must not offer `user_id`)
    assert list(partial.json_schema["properties"]) == ["location", "days"]
    assert parameters_of(decorated(fetch)).json_schema["required"] == ["url"]


def no_annotation(city, days: int):  # type: ignore[no-untyped-def]
    return None


def var_args(*cities: str, **options: int) -> None:
    return None


def positional(city: str, /) -> None:
    return None


def bad_types(when: object, how: complex = 1j) -> None:
    return None


def unresolved(x: NotDefinedAnywhere) -> None:  # type: ignore[name-defined]  # noqa: F821
    return None


@pytest.mark.parametrize(
    ("fn", "fields", "message"),
    [
        (no_annotation, ("no_annotation.city",), "has no type annotation"),
        (var_args, ("var_args.cities", "var_args.options"), "*args cannot be described"),
        (positional, ("positional.city",), "positional-only"),
        (Tools.search, ("search.self",), "bound method"),
        (bad_types, ("bad_types.when", "bad_types.how"), "object says nothing"),
        (unresolved, ("unresolved",), "NotDefinedAnywhere"),
        (lambda city: city, ("function name",), "must match"),
        (next, ("next",), "no signature"),
    ],
)
def test_functions_that_cannot_be_described_are_refused_by_parameter(
    fn: Any, fields: tuple[str, ...], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        parameters_of(fn)
    assert caught.value.fields == fields
    assert message in str(caught.value)
