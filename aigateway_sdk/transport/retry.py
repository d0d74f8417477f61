"""Retry policy: how many times, how long between, and what the server asked for."""

from __future__ import annotations

import random
import time
from email.utils import parsedate_to_datetime

import attrs
import httpx


@attrs.frozen(slots=True)
class RetryPolicy:
    """Retries of one call: exponential backoff with jitter, honouring `Retry-After`.

    `max_retries` is the number of retries after the first attempt (2 means up to 3 attempts).
    A server's `Retry-After` wins over the computed delay, unless it is longer than
    `max_retry_after`: then the error is raised at once, with `retry_after` set, for the caller
    to decide.
    """

    max_retries: int = attrs.field(default=2, validator=attrs.validators.ge(0))
    initial_delay: float = attrs.field(default=0.5, validator=attrs.validators.ge(0))
    max_delay: float = attrs.field(default=8.0, validator=attrs.validators.ge(0))
    multiplier: float = attrs.field(default=2.0, validator=attrs.validators.ge(1))
    jitter: float = attrs.field(
        default=0.2, validator=[attrs.validators.ge(0), attrs.validators.le(1)]
    )
    max_retry_after: float = attrs.field(default=60.0, validator=attrs.validators.ge(0))

    def delay(self, retry_number: int, retry_after: float | None) -> float | None:
        """Seconds to wait before retry `retry_number` (0-based), or None to give up."""
        if retry_number >= self.max_retries:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        base = min(self.max_delay, self.initial_delay * self.multiplier**retry_number)
        if self.jitter:
            base *= 1 - self.jitter * random.random()
        return base


DEFAULT_RETRY = RetryPolicy()
NO_RETRY = RetryPolicy(max_retries=0)


def parse_retry_after(headers: httpx.Headers) -> float | None:
    """Seconds from `retry-after-ms`, or `Retry-After` (seconds or an HTTP date); None if absent."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            value = float(raw_ms) / 1000
        except ValueError:
            value = -1.0
        if value >= 0:
            return value
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - time.time())


__all__ = ["DEFAULT_RETRY", "NO_RETRY", "RetryPolicy", "parse_retry_after"]
