"""`Tool`: one tool a model may call, with the JSON Schema of its arguments and (optionally) the
handler that runs it.

A tool is declared once and handled wherever the handler lives (Effect AI keeps the two apart
the same way: a `Tool` is a description; a `Toolkit`'s handlers are provided separately, here
through the dependency-injector container):

    @attrs.frozen
    class WeatherArgs:
        city: str

    get_weather = Tool("get_weather", description="Today's weather.", parameters=WeatherArgs)

    @tool
    async def add(a: int, b: int) -> int:
        "Add two numbers."
        return a + b

A tool made from a class or a JSON Schema dict is called with one value (an instance of the
class, or the dict); a tool made from a function is called with keyword arguments.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeAlias, overload

import attrs

from aigateway_sdk import _json
from aigateway_sdk.content import TOOL_NAME_PATTERN
from aigateway_sdk.request import ToolDefinition
from aigateway_sdk.schema import Schema, parameters_of
from aigateway_sdk.validation import FieldError, ValidationError

Handler: TypeAlias = Callable[..., Any]
"""A tool's handler: a sync or async callable taking what the tool's handler takes (the decoded
value, or keyword arguments for a tool made from a function); its return value is the result."""


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError([FieldError((field,), message)], what="tool")


def check_name(name: object) -> str:
    """`name`, when every provider takes it as a tool name."""
    if not isinstance(name, str) or TOOL_NAME_PATTERN.fullmatch(name) is None:
        raise _invalid("name", f"must be 1 to 64 letters, digits, '_' or '-' (got {name!r})")
    return name


def _under_parameters(error: ValueError | TypeError) -> ValidationError:
    """The schema's own complaint, each path under `parameters` (`parameters.add.x`)."""
    if isinstance(error, ValidationError):
        errors = [FieldError(("parameters", *e.path), e.message) for e in error.errors]
        return ValidationError(errors, what="tool")
    return _invalid("parameters", f"not a schema: {error}")


def _schema(spec: Any) -> Schema[Any]:
    """The parameters as a `Schema`; an object schema that can be written as JSON."""
    try:
        schema: Schema[Any] = Schema.of(spec)
    except (TypeError, ValueError) as error:
        raise _under_parameters(error) from None
    json_schema = schema.json_schema
    if not isinstance(json_schema, Mapping) or json_schema.get("type") != "object":
        raise _invalid("parameters", 'must be an object schema ({"type": "object", ...})')
    try:
        _json.dumps(json_schema)
    except (TypeError, ValueError) as error:
        raise _invalid("parameters", f"the schema cannot be written as JSON: {error}") from None
    return schema


def _function_name(fn: Any) -> Any:
    """A function's name (a `functools.partial`'s function's)."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    return getattr(fn, "__name__", None)


def _handler(handler: object) -> Handler | None:
    if handler is not None and not callable(handler):
        raise _invalid("handler", f"must be callable, got {type(handler).__name__}")
    return handler


@attrs.frozen(slots=True)
class Tool:
    """A tool: `name` (`^[a-zA-Z0-9_-]{1,64}$`), `description`, `parameters` (a `Schema` made
    from an attrs class, dataclass, TypedDict, pydantic model or JSON Schema dict; an object
    schema) and an optional default `handler`.

    Bad input raises `ValidationError` naming the field."""

    name: str = attrs.field(converter=check_name)
    description: str | None = attrs.field(default=None, kw_only=True)
    parameters: Schema[Any] = attrs.field(
        kw_only=True, converter=_schema, eq=False, repr=lambda s: s.name
    )
    handler: Handler | None = attrs.field(
        default=None, kw_only=True, converter=_handler, eq=False, repr=False
    )
    takes_keywords: bool = attrs.field(default=False, kw_only=True)
    """True for a tool made from a function: the handler is called with keyword arguments."""

    def __attrs_post_init__(self) -> None:
        if self.description is not None and not isinstance(self.description, str):
            raise _invalid("description", "must be a string")
        if self.description is None and self.parameters.description:
            object.__setattr__(self, "description", self.parameters.description)

    @classmethod
    def from_function(
        cls, fn: Handler, *, name: str | None = None, description: str | None = None
    ) -> Tool:
        """A tool whose parameters are `fn`'s (its signature's types), described by its
        docstring unless `description` is given, handled by `fn` (sync or async)."""
        if not callable(fn):
            raise _invalid("handler", f"must be callable, got {type(fn).__name__}")
        tool_name = check_name(name if name is not None else _function_name(fn))
        try:
            schema = parameters_of(fn, name=tool_name)
        except (TypeError, ValueError) as error:
            raise _under_parameters(error) from None
        return cls(
            tool_name,  # checked by the converter
            description=description,
            parameters=schema,
            handler=fn,
            takes_keywords=True,
        )

    def with_handler(self, handler: Handler | None) -> Tool:
        """The same tool handled by `handler` (None: no handler)."""
        return attrs.evolve(self, handler=handler)

    def definition(self, *, strict: bool = False) -> ToolDefinition:
        """The tool as the model sees it (strict: OpenAI's strict form of the schema)."""
        parameters = self.parameters
        schema = parameters.strict_json_schema() if strict else parameters.json_schema
        return ToolDefinition(self.name, self.description, schema, strict)


@overload
def tool(fn: Handler, /) -> Tool: ...


@overload
def tool(
    *, name: str | None = None, description: str | None = None
) -> Callable[[Handler], Tool]: ...


def tool(
    fn: Handler | None = None, /, *, name: str | None = None, description: str | None = None
) -> Tool | Callable[[Handler], Tool]:
    """Make a function a `Tool`: `@tool` or `@tool(name=..., description=...)`."""
    if fn is not None:
        return Tool.from_function(fn, name=name, description=description)

    def decorate(function: Handler) -> Tool:
        return Tool.from_function(function, name=name, description=description)

    return decorate


__all__ = ["Handler", "Tool", "check_name", "tool"]
