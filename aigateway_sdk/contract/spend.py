"""Spend limits: a gateway's cost budgets (`spend_limits`) as values, their JSON and their rules.

The shape is Cloudflare's (the `cloudflare` package's `ai_gateway_create_params.SpendLimits`;
https://developers.cloudflare.com/ai-gateway/features/spend-limits/):

    {"enabled": true,
     "rules": [{"limit": 5.0, "limitType": "cost", "window": 86400, "technique": "fixed",
                "id": "...", "enabled": true,
                "metadata": {"user_id": {"mode": "partition"},
                             "team": {"mode": "filter", "values": ["a", "b"]}},
                "model": {"mode": "filter", "values": ["@cf/meta/llama-3.1-8b-instruct"]},
                "provider": {"mode": "filter", "values": ["workers-ai"]}}]}

A rule is a budget in dollars over a window of `window` seconds, `fixed` or `sliding`. A
metadata key may split the budget per value (`partition`) or restrict the rule to some values
(`filter`); `model` and `provider` take only `filter` in the API's types (the docs' table also
shows "split by value" for them: not accepted here, since Cloudflare's own client could not read
such a rule back). Where Cloudflare documents no bound, the value here is marked "ours".

`parse_spend_limits(json)` reads the JSON (every problem a `FieldError` naming its place,
`rules[0].window`); building a `SpendRule` or `SpendLimits` in code runs the same checks on its
JSON, so the SDK and the local gateway accept and refuse the same things.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs

from aigateway_sdk.contract.limits import IntRange
from aigateway_sdk.validation import FieldError, ValidationError

SpendTechnique = Literal["fixed", "sliding"]
SPEND_TECHNIQUES: tuple[SpendTechnique, ...] = ("fixed", "sliding")
LIMIT_TYPE: Literal["cost"] = "cost"
"""The only `limitType` the API's types allow."""
MAX_SPEND_RULES = 20
"""Rules per gateway (Cloudflare's docs: "A maximum of 20 spend limit rules")."""
SPEND_LIMIT_MAX = 1_000_000_000.0
"""A rule's budget in dollars: a finite number from 0 to this (ours)."""
SPEND_WINDOW = IntRange(1, 366 * 86_400)
"""A rule's window in seconds: 1 second to 366 days (ours; Cloudflare documents no bound)."""
MAX_METADATA_DIMENSIONS = 5
"""Metadata keys per rule (ours: a request carries at most 5 metadata entries)."""
MAX_FILTER_VALUES = 100
"""Values of one filter (ours)."""
SPEND_TEXT_MAX_LENGTH = 256
"""Characters of a metadata key, a filter value or a rule id (ours)."""
SPEND_LIMITED_CODE = 2031
"""The error code of the local gateway's 429 for a spent budget (ours: Cloudflare documents
the 429, not its body; the envelope is the one of its rate-limit 429)."""
SPEND_LIMITED_MESSAGE = "Spend limit exceeded"
_RULE_KEYS = frozenset(
    {"limit", "limitType", "window", "id", "enabled", "metadata", "model", "provider", "technique"}
)


@attrs.frozen(slots=True)
class SpendPartition:
    """Split by value: each distinct value of the metadata key gets its own budget."""

    def to_json(self) -> dict[str, Any]:
        return {"mode": "partition"}


def _values(values: Iterable[str] | str) -> tuple[str, ...]:
    return (values,) if isinstance(values, str) else tuple(values)


@attrs.frozen(slots=True)
class SpendFilter:
    """Filter by value: the rule applies only to requests whose value is one of `values`."""

    values: tuple[str, ...] = attrs.field(converter=_values)

    def to_json(self) -> dict[str, Any]:
        return {"mode": "filter", "values": list(self.values)}


Dimension = SpendPartition | SpendFilter


def _metadata(value: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> tuple[tuple[str, Any], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple(sorted(((str(k), v) for k, v in items), key=lambda item: item[0]))


def _number(value: Any) -> Any:
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


@attrs.frozen(slots=True, kw_only=True)
class SpendRule:
    """One budget: at most `limit` dollars per `window` seconds, for the requests in its scope.

    `metadata` maps a metadata key to `SpendPartition()` (a budget per value) or
    `SpendFilter([...])` (only those values); `model` and `provider` take a `SpendFilter`. A
    dimension left out does not scope the rule (all its values share one budget). Building one
    checks it and raises `ValidationError` naming each bad field.
    """

    limit: float = attrs.field(converter=_number)
    window: int
    technique: SpendTechnique = "fixed"
    enabled: bool = True
    id: str | None = None
    metadata: tuple[tuple[str, Dimension], ...] = attrs.field(default=(), converter=_metadata)
    model: SpendFilter | None = None
    provider: SpendFilter | None = None
    limit_type: Literal["cost"] = LIMIT_TYPE

    def __attrs_post_init__(self) -> None:
        problems = _check_rule(self.to_json(), ())
        if problems:
            raise ValidationError(problems, what="spend rule")

    def to_json(self) -> dict[str, Any]:
        """Cloudflare's JSON: `limitType` in camel case; `id` and the scopes only when set."""
        body: dict[str, Any] = {
            "limit": self.limit,
            "limitType": self.limit_type,
            "window": self.window,
            "technique": self.technique,
            "enabled": self.enabled,
        }
        if self.id is not None:
            body["id"] = self.id
        if self.metadata:
            body["metadata"] = {key: _dimension_json(dim) for key, dim in self.metadata}
        if self.model is not None:
            body["model"] = _dimension_json(self.model)
        if self.provider is not None:
            body["provider"] = _dimension_json(self.provider)
        return body

    def __repr__(self) -> str:
        """Like the call that builds it, without the fields left at their defaults."""
        shown = [f"limit={self.limit!r}", f"window={self.window!r}"]
        for name in ("technique", "enabled", "id", "model", "provider"):
            value = getattr(self, name)
            if value != _RULE_DEFAULTS[name]:
                shown.append(f"{name}={value!r}")
        if self.metadata:
            shown.append(f"metadata={dict(self.metadata)!r}")
        return f"SpendRule({', '.join(shown)})"

    def describe(self) -> str:
        """`$5 per 86400s fixed, by metadata user_id, model in [...]` (what plans print)."""
        scopes = [
            f"metadata {key} in {list(dim.values)}"
            if isinstance(dim, SpendFilter)
            else f"by metadata {key}"
            for key, dim in self.metadata
        ]
        for name, found in (("model", self.model), ("provider", self.provider)):
            if found is not None:
                scopes.append(f"{name} in {list(found.values)}")
        text = f"${self.limit:g} per {self.window}s {self.technique}"
        if self.id is not None:
            text = f"{self.id}: {text}"
        if not self.enabled:
            text += " (disabled)"
        return ", ".join([text, *scopes])


_RULE_DEFAULTS = {
    "technique": "fixed",
    "enabled": True,
    "id": None,
    "model": None,
    "provider": None,
}


def _rules(value: Iterable[SpendRule | Mapping[str, Any]]) -> tuple[SpendRule, ...]:
    """Rules as given; a rule given as valid JSON becomes a `SpendRule` (an invalid one stays
    as given, for the check to report)."""
    rules: list[Any] = [
        _rule_from_json(rule) if isinstance(rule, Mapping) and not _check_rule(rule, ()) else rule
        for rule in value
    ]
    return tuple(rules)


@attrs.frozen(slots=True, kw_only=True)
class SpendLimits:
    """A gateway's `spend_limits`: its rules, and whether they are enforced at all.

    `AiGateway(..., spend_limits=SpendLimits(rules=[SpendRule(limit=5.0, window=86400)]))`.
    """

    rules: tuple[SpendRule, ...] = attrs.field(default=(), converter=_rules)
    enabled: bool = True

    def __attrs_post_init__(self) -> None:
        problems = _check_limits(self.to_json())
        if problems:
            raise ValidationError(problems, what="spend limits")

    def __repr__(self) -> str:
        shown = [f"rules={list(self.rules)!r}"] + ([] if self.enabled else ["enabled=False"])
        return f"SpendLimits({', '.join(shown)})"

    def to_json(self) -> dict[str, Any]:
        rules = [rule.to_json() if isinstance(rule, SpendRule) else rule for rule in self.rules]
        return {"enabled": self.enabled, "rules": rules}

    @classmethod
    def from_json(cls, raw: object) -> SpendLimits:
        """Spend limits from Cloudflare's JSON; `ValidationError` naming every bad field."""
        limits, problems = parse_spend_limits(raw)
        if limits is None:
            raise ValidationError(problems, what="spend limits")
        return limits

    @property
    def active_rules(self) -> tuple[SpendRule, ...]:
        """The rules enforced: none when disabled, else each enabled rule."""
        return tuple(rule for rule in self.rules if rule.enabled) if self.enabled else ()

    def describe(self) -> str:
        state = "" if self.enabled else " (disabled)"
        if not self.rules:
            return f"no rules{state}"
        count = f"{len(self.rules)} rule{'s' if len(self.rules) != 1 else ''}"
        return f"{count}{state}: " + "; ".join(rule.describe() for rule in self.rules)


def _dimension_json(dim: object) -> object:
    return dim.to_json() if isinstance(dim, SpendPartition | SpendFilter) else dim


# --- reading JSON ---------------------------------------------------------------------------


def _text_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return "must be a string"
    if not 1 <= len(value) <= SPEND_TEXT_MAX_LENGTH:
        return f"must be 1 to {SPEND_TEXT_MAX_LENGTH} characters"
    return None


def _unknown_key(
    raw: Mapping[str, Any], path: tuple[str, ...], known: tuple[str, ...], what: str
) -> list[FieldError]:
    extra = [k for k in raw if k not in known]
    return [FieldError(path, f"{extra[0]!r} is not a field of a {what}")] if extra else []


def _read_filter(
    raw: Mapping[str, Any], path: tuple[str, ...]
) -> tuple[SpendFilter | None, list[FieldError]]:
    problems = _unknown_key(raw, path, ("mode", "values"), "filter")
    values = raw.get("values")
    if not isinstance(values, list) or not 1 <= len(values) <= MAX_FILTER_VALUES:
        limit = f"must be 1 to {MAX_FILTER_VALUES} strings"
        return None, [*problems, FieldError((*path, "values"), limit)]
    problems.extend(
        FieldError((*path, f"values[{i}]"), problem)
        for i, value in enumerate(values)
        if (problem := _text_problem(value)) is not None
    )
    return (None, problems) if problems else (SpendFilter(tuple(values)), [])


def _read_dimension(
    raw: object, path: tuple[str, ...], *, partition_ok: bool
) -> tuple[Dimension | None, list[FieldError]]:
    modes = '{"mode": "partition"} or ' if partition_ok else ""
    shape = f'must be {modes}{{"mode": "filter", "values": [...]}}'
    if not isinstance(raw, Mapping):
        return None, [FieldError(path, shape)]
    mode = raw.get("mode")
    if mode == "partition" and partition_ok:
        problems = _unknown_key(raw, path, ("mode",), "partition")
        return (None, problems) if problems else (SpendPartition(), [])
    if mode != "filter":
        return None, [FieldError((*path, "mode"), shape)]
    return _read_filter(raw, path)


def _limit_problem(value: object) -> str | None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= SPEND_LIMIT_MAX
    ):
        return f"must be a number from 0 to {SPEND_LIMIT_MAX:.0f}"
    return None


def _read_scalars(raw: Mapping[str, Any], path: tuple[str, ...]) -> list[FieldError]:
    checks: list[tuple[str, str | None]] = [("limit", _limit_problem(raw.get("limit")))]
    if raw.get("limitType") != LIMIT_TYPE:
        checks.append(("limitType", f'must be "{LIMIT_TYPE}"'))
    checks.append(("window", SPEND_WINDOW.problem(raw.get("window"))))
    if "technique" in raw and raw["technique"] not in SPEND_TECHNIQUES:
        checks.append(("technique", 'must be "fixed" or "sliding"'))
    if "enabled" in raw and not isinstance(raw["enabled"], bool):
        checks.append(("enabled", "must be a boolean"))
    if "id" in raw:
        checks.append(("id", _text_problem(raw["id"])))
    return [FieldError((*path, name), problem) for name, problem in checks if problem]


def _check_metadata(raw: Mapping[str, Any], path: tuple[str, ...]) -> list[FieldError]:
    raw_meta = raw.get("metadata", {})
    if not isinstance(raw_meta, Mapping) or len(raw_meta) > MAX_METADATA_DIMENSIONS:
        limit = f"must be an object of at most {MAX_METADATA_DIMENSIONS} keys"
        return [FieldError((*path, "metadata"), limit)]
    problems = []
    for key, value in raw_meta.items():
        if (problem := _text_problem(key)) is not None:
            problems.append(FieldError((*path, "metadata"), f"key {problem}"))
        else:
            where = (*path, "metadata", key)
            problems.extend(_read_dimension(value, where, partition_ok=True)[1])
    return problems


def _check_rule(raw: object, path: tuple[str, ...]) -> list[FieldError]:
    """Every problem with one rule's JSON (reads nothing into values)."""
    if not isinstance(raw, Mapping):
        return [FieldError(path, "must be an object")]
    problems = [
        FieldError(path, f"{k!r} is not a field of a rule") for k in raw if k not in _RULE_KEYS
    ]
    problems.extend(_read_scalars(raw, path))
    problems.extend(_check_metadata(raw, path))
    for name in ("model", "provider"):
        if name in raw:
            problems.extend(_read_dimension(raw[name], (*path, name), partition_ok=False)[1])
    return problems


def _filter(raw: Mapping[str, Any], name: str) -> SpendFilter | None:
    if name not in raw:
        return None
    found = _read_dimension(raw[name], (name,), partition_ok=False)[0]
    return found if isinstance(found, SpendFilter) else None


def _rule_from_json(raw: Mapping[str, Any]) -> SpendRule:
    """A rule from JSON `_check_rule` found no problem with."""
    metadata = {
        key: dim
        for key, value in raw.get("metadata", {}).items()
        if (dim := _read_dimension(value, (), partition_ok=True)[0]) is not None
    }
    return SpendRule(
        limit=float(raw["limit"]),
        window=int(raw["window"]),
        technique=raw.get("technique", "fixed"),
        enabled=raw.get("enabled", True),
        id=raw.get("id"),
        metadata=metadata,
        model=_filter(raw, "model"),
        provider=_filter(raw, "provider"),
    )


def _check_limits(raw: object) -> list[FieldError]:
    if not isinstance(raw, Mapping):
        return [FieldError((), "must be an object")]
    problems = [
        FieldError((), f"{k!r} is not a field of spend_limits")
        for k in raw
        if k not in ("enabled", "rules")
    ]
    if not isinstance(raw.get("enabled", True), bool):
        problems.append(FieldError(("enabled",), "must be a boolean"))
    rules = raw.get("rules", [])
    if not isinstance(rules, list) or len(rules) > MAX_SPEND_RULES:
        limit = f"must be a list of at most {MAX_SPEND_RULES} rules"
        problems.append(FieldError(("rules",), limit))
    else:
        seen: dict[object, int] = {}
        for index, item in enumerate(rules):
            problems.extend(_check_rule(item, (f"rules[{index}]",)))
            rule_id = item.get("id") if isinstance(item, Mapping) else None
            if isinstance(rule_id, str) and rule_id in seen:
                message = f"repeats the id of rules[{seen[rule_id]}]: rule ids are unique"
                problems.append(FieldError((f"rules[{index}]", "id"), message))
            elif isinstance(rule_id, str):
                seen[rule_id] = index
    return problems


def parse_spend_limits(raw: object) -> tuple[SpendLimits | None, list[FieldError]]:
    """`spend_limits` JSON read into a value, or None and every problem (paths relative to it:
    `("rules[0]", "window")`). A missing `enabled` is true; a missing `rules` is none."""
    problems = _check_limits(raw)
    if problems or not isinstance(raw, Mapping):
        return None, problems
    rules = [_rule_from_json(item) for item in raw.get("rules", [])]
    return SpendLimits(rules=rules, enabled=raw.get("enabled", True)), []


def spend_limits_value(raw: object) -> object:
    """The `spend_limits` setting's converter: JSON becomes `SpendLimits` when valid; anything
    else stays as given, for the setting's rule to report."""
    if isinstance(raw, Mapping):
        limits, _ = parse_spend_limits(raw)
        return limits if limits is not None else raw
    return raw


def spend_limits_errors(value: object) -> list[FieldError]:
    """Every problem with a `spend_limits` value (a `SpendLimits`, JSON, or None)."""
    if value is None or isinstance(value, SpendLimits):
        return []
    return parse_spend_limits(value)[1]


__all__ = [
    "LIMIT_TYPE",
    "MAX_FILTER_VALUES",
    "MAX_METADATA_DIMENSIONS",
    "MAX_SPEND_RULES",
    "SPEND_LIMITED_CODE",
    "SPEND_LIMITED_MESSAGE",
    "SPEND_LIMIT_MAX",
    "SPEND_TECHNIQUES",
    "SPEND_TEXT_MAX_LENGTH",
    "SPEND_WINDOW",
    "Dimension",
    "SpendFilter",
    "SpendLimits",
    "SpendPartition",
    "SpendRule",
    "SpendTechnique",
    "parse_spend_limits",
    "spend_limits_errors",
    "spend_limits_value",
]
