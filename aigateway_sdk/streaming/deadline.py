"""`Deadline`: a call's `total_timeout` as a point in time, set when the call starts.

`generate_text` and `stream_text` both make one (`Deadline.after`) and hand its `at` to the
transport, which bounds sending, retries and the waits between them; a stream then reads its
body within the same deadline (`within`). Times are `time.monotonic()` values, whichever
event loop (asyncio or trio) runs the call.
"""

from __future__ import annotations

import time
from contextlib import AbstractContextManager

import anyio
import attrs

from aigateway_sdk.errors import Timeout


@attrs.frozen(slots=True)
class Deadline:
    at: float
    """`time.monotonic()` past which the call has failed."""
    seconds: float
    """The `total_timeout` it was made from (for messages)."""

    @classmethod
    def after(cls, seconds: float | None) -> Deadline | None:
        """The deadline `seconds` from now; None for no limit."""
        return None if seconds is None else cls(time.monotonic() + seconds, seconds)

    def remaining(self) -> float:
        """Seconds left (0 once passed)."""
        return max(0.0, self.at - time.monotonic())

    def within(self) -> AbstractContextManager[anyio.CancelScope]:
        """A scope that raises `TimeoutError` when the deadline passes inside it."""
        return anyio.fail_after(self.remaining())

    def passed(self, log_id: str | None = None) -> Timeout:
        """The reason for a stream not complete in time."""
        return Timeout(message=f"stream not complete within {self.seconds} s", log_id=log_id)


def deadline_at(deadline: Deadline | None) -> float | None:
    """What the transport takes (`request_json`, `open_stream`): the monotonic time, or None."""
    return None if deadline is None else deadline.at


__all__ = ["Deadline", "deadline_at"]
