"""Sampling parameters of a model, checked when built."""

from __future__ import annotations

from typing import Any

import attrs

from aigateway_sdk.validation import FieldError, ValidationError


def _range(low: float, high: float | None) -> Any:
    def check(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError(
                [FieldError((attribute.name,), "must be a number")], what="model parameters"
            )
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f">= {low}"
            raise ValidationError(
                [FieldError((attribute.name,), f"must be {bound}, got {value}")],
                what="model parameters",
            )

    return check


def _param(low: float, high: float | None = None) -> Any:
    return attrs.field(default=None, kw_only=True, validator=_range(low, high))


@attrs.frozen(slots=True)
class ModelParameters:
    """Sampling parameters; `None` leaves a parameter to the model's default."""

    temperature: float | None = _param(0, 5)
    max_tokens: int | None = _param(1)
    top_p: float | None = _param(0, 2)
    top_k: int | None = _param(1, 50)
    seed: int | None = _param(0)
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

__all__ = ["ModelParameters"]
