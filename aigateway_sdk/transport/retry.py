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
    to decide. `max_total_delay` bounds the time one call spends waiting between attempts: a
    wait that would take the sum past it is not made, and the last error is raised at once.
    With the defaults a call waits at most 30 s in all, however the server answers.
    """

    max_retries: int = attrs.field(default=2, validator=attrs.validators.ge(0))
    initial_delay: float = attrs.field(default=0.5, validator=attrs.validators.ge(0))
    max_delay: float = attrs.field(default=8.0, validator=attrs.validators.ge(0))
    multiplier: float = attrs.field(default=2.0, validator=attrs.validators.ge(1))
    jitter: float = attrs.field(
        default=0.2, validator=[attrs.validators.ge(0), attrs.validators.le(1)]
    )
    max_retry_after: float = attrs.field(default=30.0, validator=attrs.validators.ge(0))
    max_total_delay: float = attrs.field(default=30.0, validator=attrs.validators.ge(0))

    def delay(
        self, retry_number: int, retry_after: float | None, waited: float = 0.0
    ) -> float | None:
        """Seconds to wait before retry `retry_number` (0-based), after `waited` seconds of
        waiting already in this call; None to give up."""
        if retry_number >= self.max_retries:
            return None
        if retry_after is not None:
            if retry_after > self.max_retry_after:
                return None
            wait = retry_after
        else:
            try:
                wait = min(self.max_delay, self.initial_delay * self.multiplier**retry_number)
            except OverflowError:  # a float power past 1e308, after very many retries
                wait = self.max_delay
            if self.jitter:
                wait *= 1 - self.jitter * random.random()
        return wait if waited + wait <= self.max_total_delay else None


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
