"""Per-gateway rate limiting, `fixed` and `sliding`, exact under concurrency.

`check` decides and counts in one synchronous step (no await), so on one event loop no two
requests can both take the last slot.

- fixed: windows aligned to the clock, window number = floor(now / interval); at most `limit`
  requests per window.
- sliding: at most `limit` requests in any trailing `interval` seconds; the accepted requests'
  timestamps are kept (at most `limit` of them).
"""

from __future__ import annotations

import math
from collections import deque

import attrs

from aigateway_sdk.contract.gateway import GatewaySettings


@attrs.frozen(slots=True)
class Decision:
    allowed: bool
    retry_after: int = 0
    """Whole seconds until a slot frees (for `Retry-After`), when not allowed."""


ALLOWED = Decision(True)


@attrs.frozen(slots=True)
class Rule:
    limit: int
    interval: int
    technique: str

    @classmethod
    def of(cls, settings: GatewaySettings) -> Rule | None:
        limit, interval = settings.rate_limiting_limit, settings.rate_limiting_interval
        if not limit or not interval:
            return None
        return cls(limit, interval, settings.rate_limiting_technique or "fixed")


class _Fixed:
    __slots__ = ("count", "rule", "window")

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.window = -1
        self.count = 0

    def check(self, now: float) -> Decision:
        window = math.floor(now / self.rule.interval)
        if window != self.window:
            self.window, self.count = window, 0
        if self.count < self.rule.limit:
            self.count += 1
            return ALLOWED
        wait = (window + 1) * self.rule.interval - now
        return Decision(False, max(1, math.ceil(wait)))


class _Sliding:
    __slots__ = ("rule", "stamps")

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.stamps: deque[float] = deque()

    def check(self, now: float) -> Decision:
        stamps, interval = self.stamps, self.rule.interval
        while stamps and stamps[0] <= now - interval:
            stamps.popleft()
        if len(stamps) < self.rule.limit:
            stamps.append(now)
            return ALLOWED
        wait = stamps[0] + interval - now
        return Decision(False, max(1, math.ceil(wait)))


class RateLimiter:
    """The counters of every gateway. A gateway whose rule changes starts counting afresh."""

    def __init__(self) -> None:
        self._states: dict[tuple[str, str], _Fixed | _Sliding] = {}

    def check(self, scope: tuple[str, str], rule: Rule | None, now: float) -> Decision:
        if rule is None:
            return ALLOWED
        state = self._states.get(scope)
        if state is None or state.rule != rule:
            state = _Sliding(rule) if rule.technique == "sliding" else _Fixed(rule)
            self._states[scope] = state
        return state.check(now)

    def forget(self, scope: tuple[str, str]) -> None:
        self._states.pop(scope, None)


__all__ = ["Decision", "RateLimiter", "Rule"]
