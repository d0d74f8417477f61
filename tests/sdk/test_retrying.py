"""The one retry loop (`transport.retry.retrying`) and its classifier, without I/O: attempts
are counted, waits come from the policy and stop at its budget and at the deadline."""

from __future__ import annotations

import time

import pytest

from aigateway_sdk.errors import (
    AiError,
    Conflict,
    InvalidRequest,
    NetworkError,
    RateLimited,
    Reason,
)
from aigateway_sdk.transport.retry import RetryPolicy, retry_if_retryable, retrying

pytestmark = pytest.mark.anyio

NO_WAIT = RetryPolicy(max_retries=3, initial_delay=0.0, jitter=0.0)


class Attempts:
    """An attempt that fails with the given reasons in turn, then returns "done"."""

    def __init__(self, *reasons: Reason) -> None:
        self.reasons = list(reasons)
        self.count = 0

    async def __call__(self) -> str:
        self.count += 1
        if self.reasons:
            cause = OSError("underneath")
            raise AiError(self.reasons.pop(0)) from cause
        return "done"


async def test_retryable_failures_are_retried_until_success() -> None:
    attempt = Attempts(NetworkError(message="a"), RateLimited(message="b"))
    assert await retrying(attempt, NO_WAIT) == "done"
    assert attempt.count == 3


async def test_a_failure_that_is_not_retryable_is_raised_at_once_as_it_was() -> None:
    attempt = Attempts(InvalidRequest(message="bad", status=400))
    with pytest.raises(AiError) as caught:
        await retrying(attempt, NO_WAIT)
    assert attempt.count == 1
    assert caught.value.reason == InvalidRequest(message="bad", status=400)
    assert isinstance(caught.value.__cause__, OSError)


async def test_retries_stop_at_max_retries_with_the_last_reason() -> None:
    attempt = Attempts(*(NetworkError(message=str(i)) for i in range(10)))
    with pytest.raises(AiError) as caught:
        await retrying(attempt, NO_WAIT)
    assert attempt.count == 4  # the first attempt and 3 retries
    assert caught.value.message == "3"


async def test_waits_stop_at_max_total_delay() -> None:
    """Waits of 0.01 s in a budget of 0.025 s: two are made, the third would pass it."""
    policy = RetryPolicy(max_retries=10, max_total_delay=0.025)
    attempt = Attempts(*(RateLimited(message="slow", retry_after=0.01) for _ in range(10)))
    with pytest.raises(AiError):
        await retrying(attempt, policy)
    assert attempt.count == 3


async def test_a_wait_past_the_deadline_is_not_made() -> None:
    attempt = Attempts(RateLimited(message="slow", retry_after=5.0))
    with pytest.raises(AiError) as caught:
        await retrying(attempt, NO_WAIT, deadline=time.monotonic() + 1.0)
    assert attempt.count == 1
    assert isinstance(caught.value.reason, RateLimited)


async def test_a_classifier_may_stop_a_retryable_failure_and_remap_another() -> None:
    def classify(reason: Reason) -> Reason | None:
        if isinstance(reason, InvalidRequest):
            return Conflict(message=reason.message, status=reason.status)
        return reason if isinstance(reason, Conflict) else retry_if_retryable(reason)

    attempt = Attempts(NetworkError(message="net"), Conflict(message="taken", status=409))
    with pytest.raises(AiError) as caught:
        await retrying(attempt, NO_WAIT, classify)
    assert attempt.count == 2  # the network error was retried, the conflict was not
    assert caught.value.message == "taken"

    attempt = Attempts(InvalidRequest(message="exists", status=400))
    with pytest.raises(AiError) as caught:
        await retrying(attempt, NO_WAIT, classify)
    assert caught.value.reason == Conflict(message="exists", status=400)
    assert isinstance(caught.value.__cause__, OSError)  # the attempt's cause is kept
    assert attempt.count == 1
