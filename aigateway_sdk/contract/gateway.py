"""A gateway's settable fields with Cloudflare's rules, written once as attrs field metadata.

`GatewaySettings` is both the SDK's spec base (`AiGateway`, `Gateway`) and what the local
gateway stores; `SETTINGS_RULES` is read off its fields. The rules come from
`POST/PUT /accounts/{account_id}/ai-gateway/gateways` (see docs/cloudflare-contract.md): the
`id` pattern and length, ranges, enums, nullability and the fields required on create.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Literal

import attrs

from aigateway_sdk.contract.limits import (
    BACKOFFS,
    INT64_MAX,
    INT64_MIN,
    MAX_ATTEMPTS,
    RETRY_DELAY_MS,
    Backoff,
    is_int,
)
from aigateway_sdk.contract.spend import SpendLimits, spend_limits_errors, spend_limits_value
from aigateway_sdk.validation import FieldError, ValidationError

RateLimitingTechnique = Literal["fixed", "sliding"]
LogManagementStrategy = Literal["STOP_INSERTING", "DELETE_OLDEST"]
RetryBackoff = Backoff

GATEWAY_ID_PATTERN = re.compile(r"^[a-z0-9_]+(?:-[a-z0-9_]+)*$")
GATEWAY_ID_MAX_LENGTH = 64
MAX_GATEWAYS_PER_ACCOUNT = 10
"""Cloudflare's limit on the default plan."""
DEFAULT_GATEWAY_ID = "default"
"""The gateway Cloudflare creates on first use (with authentication on)."""
LOG_MANAGEMENT_MIN, LOG_MANAGEMENT_MAX = 10_000, 10_000_000
READ_ONLY_FIELDS = ("id", "created_at", "modified_at", "is_default")


@attrs.frozen(slots=True, kw_only=True)
class FieldRule:
    """How one gateway field is checked. `kind` is the JSON type; the rest are limits."""

    kind: Literal["bool", "int", "str", "spend_limits"]
    nullable: bool = False
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] | None = None
    min_length: int | None = None
    max_length: int | None = None
    required_on_create: bool = False

    def check(self, value: object) -> str | None:
        """The problem with `value` for this field, or None when it is fine."""
        if value is None:
            return None if self.nullable else "must not be null"
        return _CHECKS[self.kind](self, value)

    def errors(self, name: str, value: object) -> list[FieldError]:
        """Every problem with `value` as field `name`: one, or for an object (`spend_limits`)
        one per nested field (`spend_limits.rules[0].window`)."""
        if self.kind == "spend_limits":
            return [FieldError((name, *e.path), e.message) for e in spend_limits_errors(value)]
        problem = self.check(value)
        return [] if problem is None else [FieldError((name,), problem)]


def _check_bool(_rule: FieldRule, value: object) -> str | None:
    return None if isinstance(value, bool) else "must be a boolean"


def _check_int(rule: FieldRule, value: object) -> str | None:
    if not is_int(value):
        return "must be an integer"
    number: int = value  # type: ignore[assignment]
    if not INT64_MIN <= number <= INT64_MAX:
        return "must be a 64-bit integer"
    if rule.minimum is not None and number < rule.minimum:
        return f"must be >= {rule.minimum}"
    if rule.maximum is not None and number > rule.maximum:
        return f"must be <= {rule.maximum}"
    return None


def _check_str(rule: FieldRule, value: object) -> str | None:
    if not isinstance(value, str):
        return "must be a string"
    if rule.choices is not None and value not in rule.choices:
        return "must be one of " + ", ".join(repr(c) for c in rule.choices)
    if rule.min_length is not None and len(value) < rule.min_length:
        return f"must be at least {rule.min_length} characters"
    if rule.max_length is not None and len(value) > rule.max_length:
        return f"must be at most {rule.max_length} characters"
    return None


def _check_spend_limits(_rule: FieldRule, value: object) -> str | None:
    problems = spend_limits_errors(value)
    return str(problems[0]) if problems else None


_CHECKS: dict[str, Callable[[FieldRule, object], str | None]] = {
    "bool": _check_bool,
    "int": _check_int,
    "str": _check_str,
    "spend_limits": _check_spend_limits,
}
_RULE = "aigateway_sdk.rule"


def _rule(
    kind: Literal["bool", "int", "str", "spend_limits"], **limits: Any
) -> dict[str, FieldRule]:
    """Field metadata holding the field's rule: `attrs.field(metadata=_rule("int", ...))`."""
    return {_RULE: FieldRule(kind=kind, **limits)}


def check_gateway_id(value: object) -> str | None:
    """The problem with a gateway id, or None."""
    if not isinstance(value, str):
        return "must be a string"
    if not 1 <= len(value) <= GATEWAY_ID_MAX_LENGTH:
        return f"must be 1 to {GATEWAY_ID_MAX_LENGTH} characters"
    if not GATEWAY_ID_PATTERN.fullmatch(value):
        return "must match ^[a-z0-9_]+(?:-[a-z0-9_]+)*$ (lowercase letters, digits, _ and -)"
    return None


@attrs.frozen(slots=True)
class GatewaySettings:
    """The settable fields of a gateway, with the defaults Cloudflare gives a new one.

    Building one checks every field at once and raises `ValidationError` listing each bad
    field (`errors[i].path == ("cache_ttl",)`), so a spec that exists is a spec Cloudflare
    accepts.
    """

    cache_ttl: int | None = attrs.field(
        default=0,
        kw_only=True,
        metadata=_rule("int", nullable=True, minimum=0, required_on_create=True),
    )
    """Seconds a reply stays cached; 0 or None: no caching unless a request asks for it."""
    cache_invalidate_on_update: bool = attrs.field(
        default=False, kw_only=True, metadata=_rule("bool", required_on_create=True)
    )
    """Drop the gateway's cached replies when its settings change."""
    collect_logs: bool = attrs.field(
        default=True, kw_only=True, metadata=_rule("bool", required_on_create=True)
    )
    """Store a log entry for each request."""
    rate_limiting_interval: int | None = attrs.field(
        default=0,
        kw_only=True,
        metadata=_rule("int", nullable=True, minimum=0, required_on_create=True),
    )
    """Length of the rate-limit window in seconds; 0 or None: no rate limit."""
    rate_limiting_limit: int | None = attrs.field(
        default=0,
        kw_only=True,
        metadata=_rule("int", nullable=True, minimum=0, required_on_create=True),
    )
    """Requests allowed per window; 0 or None: no rate limit."""
    rate_limiting_technique: RateLimitingTechnique | None = attrs.field(
        default="fixed",
        kw_only=True,
        metadata=_rule("str", nullable=True, choices=("fixed", "sliding")),
    )
    """`fixed` (clock-aligned windows) or `sliding` (any trailing window)."""
    authentication: bool = attrs.field(default=False, kw_only=True, metadata=_rule("bool"))
    """Require `cf-aig-authorization: Bearer <token>` on every data-plane request."""
    log_management: int | None = attrs.field(
        default=None,
        kw_only=True,
        metadata=_rule(
            "int", nullable=True, minimum=LOG_MANAGEMENT_MIN, maximum=LOG_MANAGEMENT_MAX
        ),
    )
    """How many logs the gateway keeps (10 000 .. 10 000 000); None: the plan's default."""
    log_management_strategy: LogManagementStrategy | None = attrs.field(
        default=None,
        kw_only=True,
        metadata=_rule("str", nullable=True, choices=("STOP_INSERTING", "DELETE_OLDEST")),
    )
    """At the cap: `STOP_INSERTING` new logs, or `DELETE_OLDEST` ones."""
    logpush: bool = attrs.field(default=False, kw_only=True, metadata=_rule("bool"))
    """Push logs to Logpush (needs `logpush_public_key`)."""
    logpush_public_key: str | None = attrs.field(
        default=None,
        kw_only=True,
        metadata=_rule("str", nullable=True, min_length=16, max_length=1024),
    )
    """Public key that encrypts pushed logs (16 .. 1024 characters)."""
    retry_max_attempts: int | None = attrs.field(
        default=None,
        kw_only=True,
        metadata=_rule("int", nullable=True, minimum=MAX_ATTEMPTS.low, maximum=MAX_ATTEMPTS.high),
    )
    """Attempts at the upstream (1 .. 5) before the gateway gives up."""
    retry_delay: int | None = attrs.field(
        default=None,
        kw_only=True,
        metadata=_rule(
            "int", nullable=True, minimum=RETRY_DELAY_MS.low, maximum=RETRY_DELAY_MS.high
        ),
    )
    """Milliseconds between upstream attempts (0 .. 5000)."""
    retry_backoff: RetryBackoff | None = attrs.field(
        default=None, kw_only=True, metadata=_rule("str", nullable=True, choices=BACKOFFS)
    )
    """How the delay grows: `constant`, `linear` or `exponential`."""
    spend_limits: SpendLimits | None = attrs.field(
        default=None,
        kw_only=True,
        converter=spend_limits_value,
        metadata=_rule("spend_limits", nullable=True),
    )
    """Cost budgets (`SpendLimits`; its JSON is accepted too); None: no spend limits."""

    def __attrs_post_init__(self) -> None:
        errors = self._field_errors()
        if errors:
            raise ValidationError(errors, what="gateway spec")

    def _field_errors(self) -> list[FieldError]:
        return _rule_errors({name: getattr(self, name) for name in SETTINGS_RULES})

    @classmethod
    def from_json(cls, body: Mapping[str, Any], *, creating: bool = False) -> GatewaySettings:
        """Settings from a JSON body; missing fields take the defaults. Raises one
        ValidationError naming every bad field (each field is checked once)."""
        errors = _create_errors(body) if creating else []
        try:
            settings = GatewaySettings(**{k: body[k] for k in SETTINGS_RULES if k in body})
        except ValidationError as error:
            errors.extend(error.errors)
        if errors:
            raise ValidationError(sorted(errors, key=_field_order), what="gateway")
        return settings

    def settings_json(self) -> dict[str, Any]:
        """The settable fields as Cloudflare's JSON body (without `id`)."""
        return {name: _json_value(getattr(self, name)) for name in SETTINGS_RULES}

    def settings(self) -> GatewaySettings:
        """Just the settings (drops the name and id of an `AiGateway`)."""
        return GatewaySettings(**self.settings_json())


def _json_value(value: object) -> object:
    return value.to_json() if isinstance(value, SpendLimits) else value


SETTINGS_RULES: dict[str, FieldRule] = {
    field.name: field.metadata[_RULE] for field in attrs.fields(GatewaySettings)
}
"""Every settable field of a gateway and its rule, in Cloudflare's order."""
_ORDER = {name: index for index, name in enumerate(("id", *SETTINGS_RULES))}


def _field_order(error: FieldError) -> int:
    return _ORDER.get(error.path[0] if error.path else "", len(_ORDER))


def _rule_errors(values: Mapping[str, Any]) -> list[FieldError]:
    return [
        error
        for name, value in values.items()
        for error in SETTINGS_RULES[name].errors(name, value)
    ]


def _create_errors(body: Mapping[str, Any]) -> list[FieldError]:
    """What a create body lacks: a good `id`, and each field Cloudflare requires on create."""
    errors = []
    if (problem := check_gateway_id(body.get("id"))) is not None:
        errors.append(FieldError(("id",), problem))
    errors.extend(
        FieldError((name,), "is required")
        for name, rule in SETTINGS_RULES.items()
        if rule.required_on_create and name not in body
    )
    return errors


def check_settings_json(
    body: Mapping[str, Any], *, creating: bool, allow_unknown: bool = True
) -> list[FieldError]:
    """Every problem with a JSON body for create (`creating`) or PUT, each naming its field."""
    errors = _create_errors(body) if creating else []
    errors.extend(_rule_errors({k: body[k] for k in SETTINGS_RULES if k in body}))
    if not allow_unknown:
        known = set(SETTINGS_RULES) | set(READ_ONLY_FIELDS)
        errors.extend(FieldError((k,), "is not a gateway field") for k in body if k not in known)
    return sorted(errors, key=_field_order)


__all__ = [
    "DEFAULT_GATEWAY_ID",
    "GATEWAY_ID_MAX_LENGTH",
    "GATEWAY_ID_PATTERN",
    "LOG_MANAGEMENT_MAX",
    "LOG_MANAGEMENT_MIN",
    "MAX_GATEWAYS_PER_ACCOUNT",
    "READ_ONLY_FIELDS",
    "SETTINGS_RULES",
    "FieldRule",
    "GatewaySettings",
    "LogManagementStrategy",
    "RateLimitingTechnique",
    "RetryBackoff",
    "check_gateway_id",
    "check_settings_json",
]
