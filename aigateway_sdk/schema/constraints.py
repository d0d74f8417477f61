"""Metadata for `typing.Annotated`: `Constraints` (bounds, lengths, a pattern, a format, a
description, turned into JSON Schema keywords) and `Injected` (a parameter the dependency
container supplies, left out of a tool's parameters).

    price: Annotated[float, Constraints(minimum=0, description="in euros")]
    tags: Annotated[list[str], Constraints(min_length=1, max_length=5)]
    code: Annotated[str, Constraints(pattern=r"^[A-Z]{3}$")]
    repo: Annotated[Repository, Injected]
"""

from __future__ import annotations

import re
from typing import Any, Final

import attrs

from aigateway_sdk.validation import FieldError, ValidationError

_NUMBER_KEYWORDS = {
    "minimum": "minimum",
    "maximum": "maximum",
    "exclusive_minimum": "exclusiveMinimum",
    "exclusive_maximum": "exclusiveMaximum",
    "multiple_of": "multipleOf",
}
_LENGTH_KEYWORDS = {  # by the JSON type the length is of
    "string": ("minLength", "maxLength"),
    "array": ("minItems", "maxItems"),
    "object": ("minProperties", "maxProperties"),
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@attrs.frozen(slots=True, kw_only=True)
class Constraints:
    """JSON Schema constraints for an `Annotated` type. `min_length` / `max_length` bound the
    length of whatever the type is: characters of a string (minLength / maxLength), items of a
    list, tuple or set (minItems / maxItems), members of a dict (minProperties /
    maxProperties). Numbers take `minimum`, `maximum`, `exclusive_minimum`,
    `exclusive_maximum`, `multiple_of`; strings `pattern` (a Python regex, searched, as JSON
    Schema does) and `format` (an annotation: "email", "uri", ...). A constraint that does not
    apply to the annotated type is refused when the schema is built."""

    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    exclusive_maximum: float | None = None
    multiple_of: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    format: str | None = None
    description: str | None = None

    def __attrs_post_init__(self) -> None:
        errors = [*self._types(), *self._consistency()]
        if errors:
            raise ValidationError(errors, what="Constraints")

    def _types(self) -> list[FieldError]:
        errors = [
            FieldError((name,), "must be a number")
            for name in _NUMBER_KEYWORDS
            if getattr(self, name) is not None and not _is_number(getattr(self, name))
        ]
        errors.extend(
            FieldError((name,), "must be a non-negative integer")
            for name in ("min_length", "max_length")
            if getattr(self, name) is not None
            and (type(getattr(self, name)) is not int or getattr(self, name) < 0)
        )
        errors.extend(
            FieldError((name,), "must be a string")
            for name in ("pattern", "format", "description")
            if getattr(self, name) is not None and not isinstance(getattr(self, name), str)
        )
        return errors

    def _consistency(self) -> list[FieldError]:
        errors: list[FieldError] = []
        step = self.multiple_of
        if step is not None and _is_number(step) and step <= 0:
            errors.append(FieldError(("multiple_of",), "must be greater than 0"))
        if isinstance(self.pattern, str):
            try:
                re.compile(self.pattern)
            except re.error as error:
                message = f"is not a valid regular expression: {error}"
                errors.append(FieldError(("pattern",), message))
        pairs = (("minimum", "maximum"), ("min_length", "max_length"))
        for low, high in pairs:
            low_value, high_value = getattr(self, low), getattr(self, high)
            if _is_number(low_value) and _is_number(high_value) and low_value > high_value:
                errors.append(FieldError((low,), f"is greater than {high} ({high_value})"))
        return errors

    def keywords(self, types: frozenset[str] | None) -> dict[str, Any]:
        """The JSON Schema keywords for a schema whose value has one of `types` (None: not
        known); ValueError names a constraint that cannot apply."""
        found: dict[str, Any] = {}
        kinds = (types or frozenset()) - {"null"}
        numbers = {name: getattr(self, name) for name in _NUMBER_KEYWORDS}
        if any(value is not None for value in numbers.values()):
            _require(kinds, {"integer", "number"}, "minimum/maximum/multiple_of", types)
            found.update({_NUMBER_KEYWORDS[n]: v for n, v in numbers.items() if v is not None})
        if self.pattern is not None:
            _require(kinds, {"string"}, "pattern", types)
            found["pattern"] = self.pattern
        if self.min_length is not None or self.max_length is not None:
            found.update(self._lengths(kinds, types))
        if self.format is not None:
            found["format"] = self.format
        return found

    def _lengths(self, kinds: frozenset[str], types: frozenset[str] | None) -> dict[str, Any]:
        sized = kinds & set(_LENGTH_KEYWORDS)
        if len(sized) != 1:
            what = "no string, array or object" if not sized else "more than one sized type"
            raise ValueError(f"min_length/max_length need one sized type, found {what}")
        low, high = _LENGTH_KEYWORDS[next(iter(sized))]
        lengths = ((low, self.min_length), (high, self.max_length))
        return {name: value for name, value in lengths if value is not None}


def _require(
    kinds: frozenset[str], wanted: set[str], names: str, types: frozenset[str] | None
) -> None:
    if not kinds & wanted:
        shown = " or ".join(sorted(types)) if types else "a value of unknown type"
        raise ValueError(f"{names} do not apply to {shown}")


class _InjectedMarker:
    """The type of `Injected`."""

    __aigateway_injected__: Final = True
    __slots__ = ()

    def __repr__(self) -> str:
        return "Injected"


Injected: Final = _InjectedMarker()
"""`Annotated[T, Injected]` marks a function parameter the caller supplies (a handler's
dependency), so `parameters_of` leaves it out of the schema the model sees. Parameters whose
annotation or default is a dependency-injector marker (`Provide[...]`, `Provider[...]`,
`Closing[...]`) and any object with a true `__aigateway_injected__` attribute count as well."""


def is_injected(marker: Any) -> bool:
    """Whether `marker` (an Annotated argument, a default, a type) marks an injected parameter."""
    if getattr(marker, "__aigateway_injected__", False) is True:
        return True
    return any(
        kind.__name__ == "_Marker" and kind.__module__.startswith("dependency_injector")
        for kind in type(marker).__mro__
    )


__all__ = ["Constraints", "Injected", "is_injected"]
