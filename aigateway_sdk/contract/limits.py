"""Integer ranges, and the retry vocabulary that `cf-aig-*` headers, Universal step `config`
and gateway settings share (one bound, three places it applies)."""

from __future__ import annotations

from typing import Literal, get_args

import attrs

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
"""Integers on the wire hold 64-bit values: Cloudflare's generated clients (its Terraform
provider) type every gateway integer as int64, so a larger one cannot be sent or stored."""


@attrs.frozen(slots=True)
class IntRange:
    """An inclusive range of integers; `bool` is not an integer here."""

    low: int
    high: int

    def __contains__(self, value: object) -> bool:
        return is_int(value) and self.low <= value <= self.high  # type: ignore[operator]

    def problem(self, value: object) -> str | None:
        """What is wrong with `value`, or None when it is an integer in range."""
        if not is_int(value):
            return "must be an integer"
        if value not in self:
            return f"must be between {self.low} and {self.high}, got {shown(value)}"
        return None


def shown(value: object) -> str:
    """`value` for an error message: a huge integer by its size (Python refuses to write one
    past 4,300 digits: a `ValueError` in place of the message)."""
    if isinstance(value, int) and abs(value).bit_length() > 256:
        sign = "a negative" if value < 0 else "an"
        return f"{sign} integer of {abs(value).bit_length()} bits"
    return repr(value)


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


Backoff = Literal["constant", "linear", "exponential"]
"""How a retry delay grows (`cf-aig-backoff`, Universal `config.backoff`, `retry_backoff`)."""
BACKOFFS: tuple[Backoff, ...] = get_args(Backoff)

MAX_ATTEMPTS = IntRange(1, 5)
"""Attempts at the provider: Cloudflare's documented maximum is 5."""
RETRY_DELAY_MS = IntRange(0, 5_000)
"""Milliseconds between attempts: at most 5 seconds (Cloudflare's request-handling docs and the
gateway's `retry_delay` in its API reference)."""
REQUEST_TIMEOUT_MS = IntRange(1, 3_600_000)
"""Milliseconds to the provider's first byte. Ours, not Cloudflare's: Cloudflare documents no
bound; an hour keeps a typo from holding a connection for days."""

__all__ = [
    "BACKOFFS",
    "INT64_MAX",
    "INT64_MIN",
    "MAX_ATTEMPTS",
    "REQUEST_TIMEOUT_MS",
    "RETRY_DELAY_MS",
    "Backoff",
    "IntRange",
    "is_int",
    "shown",
]
