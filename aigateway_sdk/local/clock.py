"""Time for the local gateway, injectable so tests can move it (rate-limit windows, cache ttl)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Seconds since the Unix epoch, as a float. Must be safe to call from any thread."""

    def now(self) -> float: ...


class SystemClock:
    """The wall clock."""

    __slots__ = ()

    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that only moves when told to: `set(...)` or `advance(seconds)`. Thread-safe."""

    __slots__ = ("_lock", "_now")

    def __init__(self, start: float | datetime = 1_767_225_600.0) -> None:
        self._lock = threading.Lock()
        self._now = _seconds(start)

    def now(self) -> float:
        return self._now

    def set(self, when: float | datetime) -> None:
        with self._lock:
            self._now = _seconds(when)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


def _seconds(when: float | datetime) -> float:
    if isinstance(when, datetime):
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when.timestamp()
    return float(when)


def rfc3339(seconds: float) -> str:
    """`2026-01-01T00:00:00.000Z`: UTC, millisecond precision, sortable as text."""
    whole = int(seconds)
    millis = round((seconds - whole) * 1000)
    if millis == 1000:
        whole, millis = whole + 1, 0
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
    return f"{stamp}.{millis:03d}Z"


def parse_rfc3339(text: str) -> float:
    """Seconds since the epoch from an RFC 3339 / ISO 8601 string (naive means UTC)."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


__all__ = ["Clock", "ManualClock", "SystemClock", "parse_rfc3339", "rfc3339"]
