"""`cf-aig-custom-cost`: the price to record for a request instead of the gateway's own.

Cloudflare's shape is `{per_token_in, per_token_out}` or `{total_cost}`. Its bounds are ours,
not Cloudflare's (Cloudflare documents none): each value is a finite number from 0 to
`CUSTOM_COST_MAX`, and at least one is given.
"""

from __future__ import annotations

import math
from typing import Any

import attrs

from aigateway_sdk.validation import FieldError, ValidationError

CUSTOM_COST_MAX = 1_000_000.0
COST_FIELDS = ("per_token_in", "per_token_out", "total_cost")


def price_problem(value: object) -> str | None:
    """What is wrong with one custom-cost value, or None."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= CUSTOM_COST_MAX
    ):
        return f"must be a number from 0 to {CUSTOM_COST_MAX:.0f}"
    return None


def _check_price(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (problem := price_problem(value)) is not None:
        raise ValidationError([FieldError((attribute.name,), problem)], what="custom cost")


@attrs.frozen(slots=True, kw_only=True)
class CustomCost:
    """`cf-aig-custom-cost`: per-token prices, or one total for the request.

    Building one checks it: each value a finite number from 0 to 1,000,000, at least one
    given; else `ValidationError` naming the field.
    """

    per_token_in: float | None = attrs.field(default=None, validator=_check_price)
    per_token_out: float | None = attrs.field(default=None, validator=_check_price)
    total_cost: float | None = attrs.field(default=None, validator=_check_price)

    def __attrs_post_init__(self) -> None:
        if not self.to_json():
            problem = "needs per_token_in/per_token_out or total_cost"
            raise ValidationError([FieldError(("custom_cost",), problem)], what="custom cost")

    def to_json(self) -> dict[str, float]:
        """The header's JSON object: only the values given."""
        return {name: value for name in COST_FIELDS if (value := getattr(self, name)) is not None}

    def cost(self, tokens_in: int | None, tokens_out: int | None) -> float:
        """The request's cost: `total_cost`, else tokens times the per-token prices."""
        if self.total_cost is not None:
            return float(self.total_cost)
        return (tokens_in or 0) * (self.per_token_in or 0.0) + (tokens_out or 0) * (
            self.per_token_out or 0.0
        )


__all__ = ["COST_FIELDS", "CUSTOM_COST_MAX", "CustomCost", "price_problem"]
