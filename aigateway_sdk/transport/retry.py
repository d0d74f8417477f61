"""Retries: the policy (how many times, how long between, what the server asked for) and the
one loop that carries it out (`retrying`), for model calls and control-plane calls alike.

What is retried is decided by a classifier over the reason the attempt failed with (the
reasons come from the error map, `transport/failures.py`): by default whatever the reason
calls retryable (429, 408, 5xx, network errors, timeouts, 409).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Awaitable, Callable
from email.utils import parsedate_to_datetime
from typing import TypeVar

import anyio
import attrs
import httpx

from aigateway_sdk.errors import AiError, Reason
from aigateway_sdk.observe import log
from aigateway_sdk.validation import FieldError, ValidationError

T = TypeVar("T")


@attrs.frozen(slots=True)
class RetryPolicy:
    """Retries of one call: exponential backoff with jitter, honouring `Retry-After`.

    `max_retries` is the number of retries after the first attempt (2 means up to 3 attempts).
    A server's `Retry-After` wins over the computed delay, unless it is longer than
    `max_retry_after`: then the error is raised at once, with `retry_after` set, for the caller
    to decide. `max_total_delay` bounds the time one call spends waiting between attempts: a
    wait that would take the sum past it is not made, and the last error is raised at once.
    With the defaults a call waits at most 30 s in all, however the server answers.

    A bad value raises `ValidationError` naming every bad field (`max_retries` an integer
    >= 0; the delays numbers >= 0, `multiplier` >= 1, `jitter` from 0 to 1).
    """

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    multiplier: float = 2.0
    jitter: float = 0.2
    max_retry_after: float = 30.0
    max_total_delay: float = 30.0

    def __attrs_post_init__(self) -> None:
        problems = [
            FieldError((field.name,), problem)
            for field in attrs.fields(RetryPolicy)
            if (problem := _policy_problem(field.name, getattr(self, field.name))) is not None
        ]
        if problems:
            raise ValidationError(problems, what="retry policy")

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


_LOWEST = {"multiplier": 1.0}
"""The smallest value of each number of the policy (0 unless named here)."""


def _policy_problem(name: str, value: object) -> str | None:
    """What is wrong with one field of a `RetryPolicy`, or None."""
    if name == "max_retries":
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        return None if ok else f"must be an integer >= 0, got {value!r}"
    lowest = _LOWEST.get(name, 0.0)
    highest = 1.0 if name == "jitter" else math.inf
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and lowest <= value <= highest  # NaN fails this too
    ):
        return None
    bounds = f"from {lowest:g} to {highest:g}" if highest < math.inf else f">= {lowest:g}"
    return f"must be a number {bounds}, got {value!r}"


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


Classifier = Callable[[Reason], Reason | None]
"""Given the reason an attempt failed with: None when it may be retried (as far as the policy
allows), or the reason to raise at once (the same one, or another it stands for)."""


def retry_if_retryable(reason: Reason) -> Reason | None:
    """The default classifier: retry what the reason says is retryable, raise the rest."""
    return None if reason.is_retryable else reason


async def retrying(
    attempt: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    classify: Classifier = retry_if_retryable,
    *,
    deadline: float | None = None,
    method: str = "",
    url: str | httpx.URL | None = None,
) -> T:
    """`await attempt()` until it returns, retrying the `AiError`s `classify` allows.

    Waits follow `policy` (`delay`: backoff with jitter or the server's `Retry-After`, at most
    `max_retries` retries and `max_total_delay` seconds of waiting in all). A wait that would
    end at or past `deadline` (a `time.monotonic()` value) is not made. When no retry is made
    the attempt's own `AiError` is raised (its `__cause__` kept), or a new one for the reason
    `classify` returned instead. Retries are logged at INFO and a retryable failure raised at
    WARNING (`aigateway_sdk.observe.log`; `method` and `url` name the request there).
    """
    retries_done = 0
    waited = 0.0
    while True:
        try:
            return await attempt()
        except AiError as error:
            reason = error.reason
            final = classify(reason)
            if final is not None:
                if final is reason:
                    raise
                raise AiError(final) from error.__cause__
            delay = policy.delay(retries_done, reason.retry_after, waited)
            if delay is None or (deadline is not None and delay >= deadline - time.monotonic()):
                if policy.max_retries:
                    why = _why_give_up(policy, retries_done, reason.retry_after, delay)
                    log.give_up_line(reason, retries_done + 1, method, url, why=why)
                raise
            log.retry_line(reason, retries_done + 1, delay, method, url)
        await anyio.sleep(delay)
        waited += delay
        retries_done += 1


def _why_give_up(
    policy: RetryPolicy, retries_done: int, retry_after: float | None, delay: float | None
) -> str:
    """Why no retry is made, for the give-up log line (the policy's field that stopped it)."""
    if delay is not None:
        return "the call's deadline comes first"
    if retries_done >= policy.max_retries:
        return f"max_retries={policy.max_retries} used"
    if retry_after is not None and retry_after > policy.max_retry_after:
        return f"Retry-After {retry_after:g} s is over max_retry_after={policy.max_retry_after:g} s"
    return f"max_total_delay={policy.max_total_delay:g} s reached"


__all__ = [
    "DEFAULT_RETRY",
    "NO_RETRY",
    "Classifier",
    "RetryPolicy",
    "parse_retry_after",
    "retry_if_retryable",
    "retrying",
]
