"""Sampling parameters of a model, checked when built."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

import attrs

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

    def merged(self, override: ModelParameters | None) -> ModelParameters:
        """These parameters with every field set in `override` replacing ours."""
        if override is None:
            return self
        changes: dict[str, Any] = override.to_json()
        return attrs.evolve(self, **changes) if changes else self

    def to_json(self) -> dict[str, float | int]:
        """The parameters that are set, by their wire names (shared by both APIs)."""
        return {name: value for name in _FIELD_NAMES if (value := getattr(self, name)) is not None}


_FIELD_NAMES = tuple(a.name for a in attrs.fields(ModelParameters))

ParametersInput: TypeAlias = ModelParameters | Mapping[str, float]
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


__all__ = ["ModelParameters", "ParametersInput", "to_parameters"]
