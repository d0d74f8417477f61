"""Dynamic routes evaluated: a walk over a deployed graph that says which model to call next.

The walk is a pure state machine over `contract.routes` elements: `conditional` tests the
request's facts (`metadata.*`, `body.*`, `headers.*`), `percentage` picks a share from a hash
(`split_point`), `rate` asks the in-memory `RateBook`; at a `model` element it stops and asks
the caller to call that model (`CallModel`), and goes on with the outcome the caller reports.
It ends at an `end` element (`Done`), or when a model failed with no fallback (`Failed`), or
when a rate element refused with no fallback (`Refused`). Nothing here does I/O.

Percentage splits are deterministic: the point of a request in [0, 100) is a SHA-256 of the
element id, the request's `cf-aig-metadata` text and its body, so the same request always
takes the same branch and a test can predict it with `split_point`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from aigateway_sdk._json import dumps
from aigateway_sdk.contract.routes import (
    MAX_CONDITION_DEPTH,
    Conditional,
    Element,
    End,
    Model,
    Percentage,
    Rate,
    Start,
    share_percent,
)

MAX_RATE_KEYS = 100_000
"""Counters the `RateBook` keeps at most (ours); past it, the oldest are forgotten."""


@attrs.frozen(slots=True)
class Graph:
    """A checked graph, indexed for walking (built once per deployed version)."""

    start: Start
    by_id: Mapping[str, Element]

    @classmethod
    def of(cls, elements: Sequence[Element]) -> Graph:
        """The graph of elements that passed `check_graph` (one start, every edge resolved)."""
        start = next(e for e in elements if isinstance(e, Start))
        return cls(start, {e.id: e for e in elements})


@attrs.frozen(slots=True)
class Facts:
    """What a route's conditions, rate keys and splits read of a request."""

    metadata: Mapping[str, Any]
    body: Mapping[str, Any]
    headers: Mapping[str, str]
    """Lower-case names."""
    seed: bytes
    """What percentage splits hash (with the element id): metadata text and body."""


def facts_of(
    metadata_text: str | None,
    metadata: object,
    body: object,
    raw_body: bytes,
    headers: Mapping[str, str],
) -> Facts:
    """The facts of one request: `metadata` parsed from `metadata_text` (`cf-aig-metadata`)."""
    seed = (metadata_text or "").encode() + b"\0" + raw_body
    return Facts(
        metadata if isinstance(metadata, Mapping) else {},
        body if isinstance(body, Mapping) else {},
        {name.lower(): value for name, value in headers.items()},
        seed,
    )


_MISSING = object()


def field_value(facts: Facts, path: str) -> object:
    """The value a field path names (`metadata.user.id`, `body.model`, `headers.x-plan`), or
    `_MISSING`. A header name is the whole rest of the path, in any case."""
    root, _, rest = path.partition(".")
    if root == "headers":
        return facts.headers.get(rest.lower(), _MISSING)
    value: object = facts.metadata if root == "metadata" else facts.body if root == "body" else None
    if value is None:
        return _MISSING
    for part in rest.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(a: object, b: object) -> bool:
    """JSON equality: `true` is not `1`, `1` is `1.0`."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if _number(a) and _number(b):
        return a == b
    return type(a) is type(b) and a == b


def _order(a: object, b: object) -> int | None:
    """-1, 0 or 1 for two numbers or two strings; None when they do not compare."""
    if _number(a) and _number(b):
        x, y = float(a), float(b)  # type: ignore[arg-type]
        if math.isnan(x) or math.isnan(y):
            return None
    elif isinstance(a, str) and isinstance(b, str):
        x, y = a, b  # type: ignore[assignment]
    else:
        return None
    return (x > y) - (x < y)


def _compare(operator: str, value: object, operand: object) -> bool:
    present = value is not _MISSING
    if operator == "$eq":
        return present and _same(value, operand)
    if operator == "$ne":
        return not (present and _same(value, operand))
    if operator in ("$in", "$nin"):
        inside = present and isinstance(operand, list) and any(_same(value, x) for x in operand)
        return inside if operator == "$in" else not inside
    order = _order(value, operand) if present else None
    if order is None:
        return False
    return {"$gt": order > 0, "$gte": order >= 0, "$lt": order < 0, "$lte": order <= 0}.get(
        operator, False
    )


def matches(conditions: object, facts: Facts, depth: int = 0) -> bool:
    """Whether the request meets `conditions` (MongoDB-like: every key must hold; `$and`,
    `$or` over lists; `{field: value}` is `{field: {"$eq": value}}`). Nesting past
    `MAX_CONDITION_DEPTH` (refused when a version is created) never matches."""
    if depth > MAX_CONDITION_DEPTH or not isinstance(conditions, Mapping):
        return False
    for key, expected in conditions.items():
        if key in ("$and", "$or"):
            items = expected if isinstance(expected, list) else []
            results = (matches(item, facts, depth + 1) for item in items)
            held = all(results) if key == "$and" else any(results)
        else:
            value = field_value(facts, str(key))
            if isinstance(expected, Mapping):
                held = all(_compare(op, value, operand) for op, operand in expected.items())
            else:
                held = _compare("$eq", value, expected)
        if not held:
            return False
    return True


def split_point(element_id: str, seed: bytes) -> float:
    """Where a request falls in a percentage element, in [0, 100)."""
    digest = hashlib.sha256(element_id.encode() + b"\0" + seed).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * 100


def choose_share(element: Percentage, point: float) -> str:
    """The output a point takes: the shares in order, each its width, then `else`."""
    edge = 0.0
    for label, target in element.shares:
        edge += share_percent(label) or 0.0
        if point < edge:
            return target
    if element.otherwise is not None:
        return element.otherwise
    return element.shares[-1][1]  # shares total 100%: a rounding gap goes to the last


RateKey = tuple[str, ...]
"""What one rate counter counts: the route's scope and id, the element id, the key value."""


class RateBook:
    """Counters of the rate elements, in memory, over fixed windows of `window` seconds
    aligned on the epoch (as Cloudflare's fixed rate limiting technique)."""

    def __init__(self, max_keys: int = MAX_RATE_KEYS) -> None:
        self._max = max_keys
        self._counters: dict[RateKey, tuple[float, float]] = {}

    def _current(self, key: RateKey, window: float, now: float) -> tuple[float, float]:
        start = math.floor(now / window) * window
        counter = self._counters.get(key)
        if counter is None or counter[0] != start:
            return start, 0.0
        return counter

    def _store(self, key: RateKey, counter: tuple[float, float]) -> None:
        self._counters.pop(key, None)
        if len(self._counters) >= self._max:
            del self._counters[next(iter(self._counters))]
        self._counters[key] = counter

    def admit(self, key: RateKey, element: Rate, now: float) -> bool:
        """Whether a request is within the element's limit; a `count` element counts it."""
        start, total = self._current(key, element.window, now)
        if total >= element.limit or (element.limit_type == "count" and total + 1 > element.limit):
            return False
        if element.limit_type == "count":
            self._store(key, (start, total + 1))
        return True

    def charge(self, key: RateKey, element: Rate, cost: float, now: float) -> None:
        """Add a finished request's cost to a `cost` element's counter."""
        if cost > 0 and math.isfinite(cost):
            start, total = self._current(key, element.window, now)
            self._store(key, (start, total + cost))

    def retry_after(self, element: Rate, now: float) -> int:
        """Whole seconds until the element's current window ends (at least 1)."""
        end = (math.floor(now / element.window) + 1) * element.window
        return max(1, math.ceil(end - now))

    def forget(self, prefix: RateKey) -> None:
        """Drop the counters whose key starts with `prefix` (a deleted route or gateway)."""
        size = len(prefix)
        for key in [k for k in self._counters if k[:size] == prefix]:
            del self._counters[key]


@attrs.frozen(slots=True)
class CallModel:
    """Call this model; then `Walk.step(success)`."""

    element: Model


@attrs.frozen(slots=True)
class Done:
    """The route reached an `end` element: the last model's reply is the answer."""


@attrs.frozen(slots=True)
class Failed:
    """A model failed after its retries and has no fallback: the route failed."""

    element: Model


@attrs.frozen(slots=True)
class Refused:
    """A rate element is past its limit and has no fallback: a 429."""

    element: Rate
    retry_after: int


Decision = CallModel | Done | Failed | Refused


class Walk:
    """One request's way through a graph. `step()` first, then `step(success)` after each
    `CallModel`. Every edge goes forward (the graph has no cycle), so a walk ends within as
    many steps as the graph has elements."""

    def __init__(
        self, graph: Graph, facts: Facts, rates: RateBook, prefix: RateKey, now: float
    ) -> None:
        self.graph = graph
        self.facts = facts
        self.rates = rates
        self.prefix = prefix
        self.now = now
        self.cost_keys: list[tuple[RateKey, Rate]] = []
        """The `cost` rate elements passed, to charge once the request's cost is known."""
        self._at: str = graph.start.next
        self._pending: Model | None = None
        self._budget = len(graph.by_id) + 1

    def step(self, success: bool | None = None) -> Decision:
        if self._pending is not None:
            model, self._pending = self._pending, None
            if success:
                self._at = model.success
            elif model.fallback is not None:
                self._at = model.fallback
            else:
                return Failed(model)
        while True:
            self._budget -= 1
            if self._budget < 0:  # unreachable for a checked graph; a guard all the same
                raise RuntimeError("route graph walk did not end")
            element = self.graph.by_id[self._at]
            match element:
                case End():
                    return Done()
                case Model():
                    self._pending = element
                    return CallModel(element)
                case Start():
                    self._at = element.next
                case Conditional():
                    held = matches(element.conditions, self.facts)
                    self._at = element.when_true if held else element.when_false
                case Percentage():
                    self._at = choose_share(element, split_point(element.id, self.facts.seed))
                case Rate():
                    refused = self._rate(element)
                    if refused is not None:
                        return refused

    def _rate(self, element: Rate) -> Refused | None:
        value = field_value(self.facts, element.key)
        shown = "" if value is _MISSING else dumps(value).decode()
        key = (*self.prefix, element.id, shown)
        if self.rates.admit(key, element, self.now):
            if element.limit_type == "cost":
                self.cost_keys.append((key, element))
            self._at = element.success
            return None
        if element.fallback is not None:
            self._at = element.fallback
            return None
        return Refused(element, self.rates.retry_after(element, self.now))

    def charge(self, cost: float, now: float) -> None:
        """Charge a finished request's cost to every `cost` rate element it passed."""
        for key, element in self.cost_keys:
            self.rates.charge(key, element, cost, now)


__all__ = [
    "MAX_RATE_KEYS",
    "CallModel",
    "Decision",
    "Done",
    "Facts",
    "Failed",
    "Graph",
    "RateBook",
    "Refused",
    "Walk",
    "choose_share",
    "facts_of",
    "field_value",
    "matches",
    "split_point",
]
