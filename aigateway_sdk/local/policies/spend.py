"""Spend limits: each gateway's cost budgets, checked before a request and charged after it.

What Cloudflare documents (https://developers.cloudflare.com/ai-gateway/features/spend-limits/),
and how it is done here:

- Before a request goes to the provider, every active rule whose scope holds the request is
  evaluated; if any is spent (spent >= limit) the request is refused with a 429
  (`spend_limited`). The check runs once the provider and model are known, before the cache.
- The request's cost is charged after it completes ("eventually consistent: a burst of
  concurrent requests can briefly exceed the limit"). So a request admitted under budget may
  overshoot it by its own cost, and requests admitted together by their sum. Locally the
  accounting is exact: `check` and `charge` are synchronous (no await), so on one event loop
  no charge is lost and a check sees every charge made before it.
- The cost (`request_cost`): `cf-aig-custom-cost` when given, else the published price of a
  Workers AI model (`upstreams.pricing`), else 0 (a model without a known price: Cloudflare
  limits "models with known pricing"). A cached reply costs 0 unless a custom cost says
  otherwise; a failed one (non-2xx) is not charged.
- Windows: `fixed` windows are `window` seconds long, aligned to the Unix epoch (window number
  floor(now / window); Cloudflare says only that windows are fixed lengths, "not aligned to
  calendar months"); `sliding` counts the charges of the trailing `window` seconds.
- Scope: a filter (model, provider, metadata value) restricts the rule to matching requests; a
  metadata `partition` gives each value its own budget. A request without a partition key
  shares one budget with the other requests without it (ours: not documented). A model filter
  value matches the bare model (`@cf/meta/...`) or `provider/model`; provider names match in
  any case; metadata values match as text (`true`, `5`).
- Spend lives in memory, per gateway: a restart, or deleting the gateway, starts afresh. A
  rule keeps its spend across updates while its window, technique and scope stay the same
  (raising a limit keeps what was spent).
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Mapping

import attrs

from aigateway_sdk import _json
from aigateway_sdk.contract.cost import CustomCost
from aigateway_sdk.contract.headers import MetadataValue
from aigateway_sdk.contract.spend import (
    SPEND_LIMITED_CODE,
    SPEND_LIMITED_MESSAGE,
    SpendFilter,
    SpendLimits,
    SpendPartition,
    SpendRule,
)
from aigateway_sdk.local.policies.ratelimit import Decision
from aigateway_sdk.local.upstreams.pricing import price_of
from aigateway_sdk.local.web.errors import ApiError

MAX_BUCKETS_PER_GATEWAY = 10_000
"""Budgets (rule x partition value) kept per gateway (ours). Past it, empty budgets are dropped;
if none is empty, a new partition value counts against one shared overflow budget per rule, so a
flood of distinct values can neither grow memory nor reset anyone's spend (it can only make the
newcomers share a budget, which refuses earlier, never later)."""
OVERFLOW = "<overflow>"
PRUNE_EVERY = 1.0
"""Seconds between two searches for empty budgets in a full gateway (ours): each search reads
every budget, so running one per request would let a flood of new partition values cost each
request a scan of `MAX_BUCKETS_PER_GATEWAY` budgets."""

Scope = tuple[str, str]
BucketKey = tuple[object, ...]


def request_cost(
    custom: CustomCost | None,
    provider: str,
    model: str,
    tokens_in: int | None,
    tokens_out: int | None,
    *,
    cached: bool = False,
) -> float:
    """A request's cost in dollars: its custom cost, else the model's published price (0 for
    a cached reply), else 0."""
    if custom is not None:
        return custom.cost(tokens_in, tokens_out)
    price = None if cached else price_of(provider, model)
    return price.cost(tokens_in, tokens_out) if price is not None else 0.0


@attrs.frozen(slots=True)
class Usage:
    """What a request is, as far as rule scopes go."""

    provider: str
    model: str
    metadata: Mapping[str, MetadataValue]

    @classmethod
    def of(cls, provider: str, model: str, metadata_json: str | None) -> Usage:
        """From the request's provider, model and `cf-aig-metadata` (as its JSON text)."""
        metadata = _json.loads(metadata_json) if metadata_json else {}
        return cls(provider, model, metadata if isinstance(metadata, dict) else {})


def _text(value: MetadataValue) -> str:
    return value if isinstance(value, str) else _json.dumps_str(value)


def bucket_of(rule: SpendRule, usage: Usage) -> BucketKey | None:
    """The budget of `rule` that `usage` counts against, or None when it is out of scope."""
    provider = usage.provider.lower()
    if rule.provider is not None and provider not in (v.lower() for v in rule.provider.values):
        return None
    models = (usage.model, f"{provider}/{usage.model}")
    if rule.model is not None and not any(m in rule.model.values for m in models):
        return None
    parts: list[object] = []
    for key, dim in rule.metadata:
        found = usage.metadata.get(key)
        value = None if found is None else _text(found)
        if isinstance(dim, SpendFilter) and value not in dim.values:
            return None
        if isinstance(dim, SpendPartition):
            parts.append(value)
    return (_rule_key(rule), *parts)


def _overflow(rule: SpendRule, key: BucketKey, buckets: Mapping[BucketKey, Bucket]) -> BucketKey:
    """`key` while there is room for a new budget, else the rule's shared overflow budget."""
    if key in buckets or len(buckets) < MAX_BUCKETS_PER_GATEWAY:
        return key
    return (_rule_key(rule), OVERFLOW)


def _rule_key(rule: SpendRule) -> object:
    """What makes two rules count the same spend: window, technique and scope."""
    return (rule.window, rule.technique, rule.metadata, rule.model, rule.provider)


def _neumaier(total: float, compensation: float, cost: float) -> tuple[float, float]:
    """`total + cost` as a compensated sum (so 0.1 added ten times is 1.0)."""
    added = total + cost
    if abs(total) >= abs(cost):
        compensation += (total - added) + cost
    else:
        compensation += (cost - added) + total
    return added, compensation


class _Fixed:
    """Spend in the current epoch-aligned window (a compensated sum: 0.1 x 10 is 1.0)."""

    __slots__ = ("compensation", "spent_sum", "window", "window_index")

    def __init__(self, window: int) -> None:
        self.window = window
        self.window_index = -1
        self.spent_sum = 0.0
        self.compensation = 0.0

    def _roll(self, now: float) -> None:
        index = math.floor(now / self.window)
        if index != self.window_index:
            self.window_index, self.spent_sum, self.compensation = index, 0.0, 0.0

    def spent(self, now: float) -> float:
        self._roll(now)
        return self.spent_sum + self.compensation

    def add(self, cost: float, now: float) -> None:
        self._roll(now)
        self.spent_sum, self.compensation = _neumaier(self.spent_sum, self.compensation, cost)

    def retry_after(self, _limit: float, now: float) -> float:
        return (self.window_index + 1) * self.window - now


SLIDING_SLOTS = 256
"""Charges of a sliding window kept apart (ours): the charges of each `window / 256` seconds
(from the first of them) share one slot, which leaves the window when its last charge does.
Memory and the cost of a check stay bounded however many requests a window sees; a budget
frees up at most `window / 256` seconds late, never early."""


class _Sliding:
    """The charges of the trailing window, oldest first, as `[first, last, sum, compensation]`
    slots (at most about `SLIDING_SLOTS` of them)."""

    __slots__ = ("charges", "window")

    def __init__(self, window: int) -> None:
        self.window = window
        self.charges: deque[list[float]] = deque()

    def _expire(self, now: float) -> deque[list[float]]:
        charges = self.charges
        while charges and charges[0][1] <= now - self.window:
            charges.popleft()
        return charges

    def spent(self, now: float) -> float:
        slots = self._expire(now)
        return math.fsum(itertools.chain.from_iterable(slot[2:] for slot in slots))

    def add(self, cost: float, now: float) -> None:
        charges = self._expire(now)
        if charges and now - charges[-1][0] < self.window / SLIDING_SLOTS:
            last = charges[-1]
            last[1] = max(last[1], now)
            last[2], last[3] = _neumaier(last[2], last[3], cost)
        else:
            charges.append([now, now, cost, 0.0])

    def retry_after(self, limit: float, now: float) -> float:
        """Until enough of the oldest charges leave the window for the spend to be < limit."""
        remaining = self.spent(now)
        for _first, last, total, compensation in self.charges:
            remaining -= total + compensation
            if remaining < limit:
                return last + self.window - now
        return float(self.window)  # a zero budget: nothing leaving helps


Bucket = _Fixed | _Sliding


def _new_bucket(rule: SpendRule) -> Bucket:
    return _Sliding(rule.window) if rule.technique == "sliding" else _Fixed(rule.window)


def spend_limited(retry_after: int) -> ApiError:
    """The 429 of a spent budget: the envelope of Cloudflare's rate-limit 429, with our code
    (`SPEND_LIMITED_CODE`; Cloudflare documents the status, not the body)."""
    error = {"code": SPEND_LIMITED_CODE, "message": SPEND_LIMITED_MESSAGE}
    body = {"success": False, "result": [], "messages": [], "errors": [error]}
    return ApiError(
        429,
        SPEND_LIMITED_CODE,
        SPEND_LIMITED_MESSAGE,
        headers={"retry-after": str(retry_after)},
        raw=_json.dumps(body),
    )


class SpendLedger:
    """The spend of every gateway's budgets."""

    def __init__(self) -> None:
        self._gateways: dict[Scope, dict[BucketKey, Bucket]] = {}
        self._pruned_at: dict[Scope, float] = {}

    def check(self, scope: Scope, limits: SpendLimits | None, usage: Usage, now: float) -> Decision:
        """Whether a request may go on: refused when any rule in scope is spent, with the
        seconds until all of those have room again."""
        if limits is None:
            return Decision(True)
        buckets = self._gateways.get(scope, {})
        wait = 0.0
        refused = False
        for rule in limits.active_rules:
            key = bucket_of(rule, usage)
            if key is None:
                continue
            bucket = buckets.get(key) or buckets.get(_overflow(rule, key, buckets))
            spent = bucket.spent(now) if bucket is not None else 0.0
            if spent >= rule.limit:
                refused = True
                until = bucket.retry_after(rule.limit, now) if bucket else float(rule.window)
                wait = max(wait, until)
        return Decision(False, max(1, math.ceil(wait))) if refused else Decision(True)

    def charge(
        self, scope: Scope, limits: SpendLimits | None, usage: Usage, cost: float, now: float
    ) -> None:
        """Add a completed request's cost to every budget in scope."""
        if limits is None or cost <= 0:
            return
        buckets = self._gateways.setdefault(scope, {})
        for rule in limits.active_rules:
            key = bucket_of(rule, usage)
            if key is None:
                continue
            bucket = buckets.get(key)
            if bucket is None:
                if len(buckets) >= MAX_BUCKETS_PER_GATEWAY:
                    self._prune(scope, buckets, now)
                key = _overflow(rule, key, buckets)
                bucket = buckets.get(key) or buckets.setdefault(key, _new_bucket(rule))
            bucket.add(cost, now)

    def _prune(self, scope: Scope, buckets: dict[BucketKey, Bucket], now: float) -> None:
        """Drop the empty budgets of a full gateway, at most once every `PRUNE_EVERY` s."""
        last = self._pruned_at.get(scope)
        if last is not None and 0 <= now - last < PRUNE_EVERY:
            return
        self._pruned_at[scope] = now
        for key in [key for key, bucket in buckets.items() if bucket.spent(now) == 0]:
            del buckets[key]

    def spent(self, scope: Scope, rule: SpendRule, usage: Usage, now: float) -> float:
        """What `usage`'s budget of `rule` has spent in its window (0 out of scope)."""
        key = bucket_of(rule, usage)
        bucket = None if key is None else self._gateways.get(scope, {}).get(key)
        return bucket.spent(now) if bucket is not None else 0.0

    def forget(self, scope: Scope) -> None:
        self._gateways.pop(scope, None)
        self._pruned_at.pop(scope, None)

    def admit(
        self,
        scope: Scope,
        limits: SpendLimits | None,
        target: tuple[str, str],
        metadata_json: str | None,
        now: float,
    ) -> Decision:
        """`check` for a request to `target` (provider, model) with its `cf-aig-metadata`
        text; nothing is parsed when the gateway has no active rule."""
        if limits is None or not limits.active_rules:
            return Decision(True)
        return self.check(scope, limits, Usage.of(*target, metadata_json), now)


__all__ = [
    "MAX_BUCKETS_PER_GATEWAY",
    "SpendLedger",
    "Usage",
    "bucket_of",
    "request_cost",
    "spend_limited",
]
