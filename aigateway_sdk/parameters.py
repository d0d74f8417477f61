"""Sampling parameters of a model, checked when built."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn, TypeAlias

import attrs

from aigateway_sdk import _json
from aigateway_sdk.validation import FieldError, ValidationError


def _range(low: float, high: float | None, integer: bool) -> Any:
    kind = int if integer else int | float

    def check(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, kind):
            expected = "an integer" if integer else "a number"
            raise ValidationError(
                [FieldError((attribute.name,), f"must be {expected}")], what="model parameters"
            )
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f">= {low}"
            raise ValidationError(
                [FieldError((attribute.name,), f"must be {bound}, got {value}")],
                what="model parameters",
            )

    return check


MAX_STOP_SEQUENCES = 4
"""OpenAI's limit on `stop` sequences."""


def _stop(value: object) -> str | tuple[str, ...] | None:
    """`stop` as given: one string, or a sequence of 1-4 non-empty strings (kept as a tuple)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value if value else _refuse_stop("must not be empty")
    if not isinstance(value, Sequence):
        return _refuse_stop(f"must be a string or a list of strings, got {type(value).__name__}")
    items = tuple(value)
    problem: str | None = None
    if not 1 <= len(items) <= MAX_STOP_SEQUENCES:
        problem = f"must hold 1 to {MAX_STOP_SEQUENCES} sequences, got {len(items)}"
    elif not all(isinstance(item, str) and item for item in items):
        problem = "must hold non-empty strings"
    if problem is not None:
        _refuse_stop(problem)
    return items


def _refuse_stop(message: str) -> NoReturn:
    raise ValidationError([FieldError(("stop",), message)], what="model parameters")


def _param(low: float, high: float | None = None, *, integer: bool = False) -> Any:
    return attrs.field(default=None, kw_only=True, validator=_range(low, high, integer))


@attrs.frozen(slots=True)
class ModelParameters:
    """Sampling parameters; `None` leaves a parameter to the model's default."""

    temperature: float | None = _param(0, 5)
    max_tokens: int | None = _param(1, integer=True)
    top_p: float | None = _param(0, 2)
    top_k: int | None = _param(1, 50, integer=True)
    seed: int | None = _param(0, integer=True)
    repetition_penalty: float | None = _param(0, 2)
    frequency_penalty: float | None = _param(-2, 2)
    presence_penalty: float | None = _param(-2, 2)
    stop: str | tuple[str, ...] | None = attrs.field(default=None, kw_only=True, converter=_stop)
    """Stop sequences: one string or up to 4; the reply ends before the first one. OpenAI
    routes only (Workers AI's native API has no `stop`: a model on it refuses one)."""

    def merged(self, override: ModelParameters | None) -> ModelParameters:
        """These parameters with every field set in `override` replacing ours."""
        if override is None:
            return self
        changes: dict[str, Any] = override.to_json()
        return attrs.evolve(self, **changes) if changes else self

    def to_json(self) -> dict[str, Any]:
        """The parameters that are set, by their wire names (shared by both APIs)."""
        return {name: value for name in _FIELD_NAMES if (value := getattr(self, name)) is not None}


_FIELD_NAMES = tuple(a.name for a in attrs.fields(ModelParameters))

ParametersInput: TypeAlias = ModelParameters | Mapping[str, object]
"""What `parameters=` accepts: `ModelParameters`, or a dict of the same fields."""


def to_parameters(value: ParametersInput | None) -> ModelParameters | None:
    """`value` as `ModelParameters`: a dict is checked like the class, and a key that is not a
    parameter raises `ValidationError` naming it."""
    if value is None or isinstance(value, ModelParameters):
        return value
    if not isinstance(value, Mapping):
        raise ValidationError(
            [
                FieldError(
                    ("parameters",),
                    f"must be ModelParameters or a dict, got {type(value).__name__}",
                )
            ],
            what="model parameters",
        )
    unknown = [str(key) for key in value if key not in _FIELD_NAMES]
    if unknown:
        known = ", ".join(_FIELD_NAMES)
        raise ValidationError(
            [FieldError((key,), f"is not a model parameter ({known})") for key in unknown],
            what="model parameters",
        )
    fields: dict[str, Any] = dict(value)
    return ModelParameters(**fields)


# -- escape hatches: extra_body / extra_headers ------------------------------------------------

RESERVED_BODY_KEYS = frozenset(("messages", "prompt", "model", "stream", "stream_options"))
"""Body fields the SDK writes itself; `extra_body` may not set them."""
RESERVED_HEADERS = frozenset(
    ("authorization", "cf-aig-authorization", "content-type", "content-length", "host")
)
"""Headers `extra_headers` may not set: the credentials come from the binding, the framing
from the SDK."""
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_VALUE = re.compile(r"[\r\n\x00]")


def to_extra_body(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """`extra_body` checked: a JSON object whose keys are not `RESERVED_BODY_KEYS`; None when
    empty. Its fields go into the request body last, over the modelled parameters."""
    if value is None or (isinstance(value, Mapping) and not value):
        return None
    if not isinstance(value, Mapping):
        raise ValidationError(
            [FieldError(("extra_body",), f"must be a dict, got {type(value).__name__}")],
            what="extra_body",
        )
    errors = [
        FieldError(("extra_body", str(key)), "is written by the SDK and may not be set here")
        if key in RESERVED_BODY_KEYS
        else FieldError(("extra_body", repr(key)), "keys must be strings")
        for key in value
        if not isinstance(key, str) or key in RESERVED_BODY_KEYS
    ]
    if not errors:
        try:
            _json.dumps(value)
        except (TypeError, ValueError) as error:
            errors.append(FieldError(("extra_body",), f"must be JSON ({error})"[:200]))
    if errors:
        raise ValidationError(errors, what="extra_body")
    return dict(value)


def to_extra_headers(value: Mapping[str, str] | None) -> dict[str, str] | None:
    """`extra_headers` checked, names lowercased: valid header names and values (no line
    breaks), none of `RESERVED_HEADERS`; None when empty. They go on the request last, over the
    SDK's own (`cf-aig-*` options included)."""
    if value is None or (isinstance(value, Mapping) and not value):
        return None
    if not isinstance(value, Mapping):
        raise ValidationError(
            [FieldError(("extra_headers",), f"must be a dict, got {type(value).__name__}")],
            what="extra_headers",
        )
    errors: list[FieldError] = []
    headers: dict[str, str] = {}
    for name, text in value.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            errors.append(FieldError(("extra_headers", repr(name)), "is not a header name"))
        elif name.lower() in RESERVED_HEADERS:
            errors.append(
                FieldError(("extra_headers", name), "may not be set here (the binding sets it)")
            )
        elif not isinstance(text, str) or _BAD_VALUE.search(text):
            errors.append(
                FieldError(("extra_headers", name), "must be a string without line breaks")
            )
        else:
            headers[name.lower()] = text
    if errors:
        raise ValidationError(errors, what="extra_headers")
    return headers


__all__ = [
    "MAX_STOP_SEQUENCES",
    "RESERVED_BODY_KEYS",
    "RESERVED_HEADERS",
    "ModelParameters",
    "ParametersInput",
    "to_extra_body",
    "to_extra_headers",
    "to_parameters",
]
