"""Gateways declared as data: `GatewaySettings` (the settable fields) and `AiGateway` (a named spec).

The field rules are Cloudflare's (see docs/cloudflare-contract.md): the `id` pattern and length,
ranges, enums and nullability of `POST/PUT /accounts/{account_id}/ai-gateway/gateways`. One table
drives both the spec's validation when it is built and the local gateway's checks of JSON bodies,
so the two can never disagree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Literal

import attrs

from aigateway_sdk.validation import FieldError, ValidationError

RateLimitingTechnique = Literal["fixed", "sliding"]
LogManagementStrategy = Literal["STOP_INSERTING", "DELETE_OLDEST"]
RetryBackoff = Literal["constant", "linear", "exponential"]

GATEWAY_ID_PATTERN = re.compile(r"^[a-z0-9_]+(?:-[a-z0-9_]+)*$")
GATEWAY_ID_MAX_LENGTH = 64


@attrs.frozen(slots=True)
class FieldRule:
    """How one gateway field is checked. `kind` is the JSON type; the rest are limits."""

    name: str
    kind: Literal["bool", "int", "str"]
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
        if self.kind == "bool":
            return None if isinstance(value, bool) else "must be a boolean"
        if self.kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                return "must be an integer"
            if self.minimum is not None and value < self.minimum:
                return f"must be >= {self.minimum}"
            if self.maximum is not None and value > self.maximum:
                return f"must be <= {self.maximum}"
            return None
        if not isinstance(value, str):
            return "must be a string"
        if self.choices is not None and value not in self.choices:
            return "must be one of " + ", ".join(repr(c) for c in self.choices)
        if self.min_length is not None and len(value) < self.min_length:
            return f"must be at least {self.min_length} characters"
        if self.max_length is not None and len(value) > self.max_length:
            return f"must be at most {self.max_length} characters"
        return None


SETTINGS_RULES: dict[str, FieldRule] = {
    rule.name: rule
    for rule in (
        FieldRule("cache_ttl", "int", nullable=True, minimum=0, required_on_create=True),
        FieldRule("cache_invalidate_on_update", "bool", required_on_create=True),
        FieldRule("collect_logs", "bool", required_on_create=True),
        FieldRule("rate_limiting_interval", "int", nullable=True, minimum=0, required_on_create=True),
        FieldRule("rate_limiting_limit", "int", nullable=True, minimum=0, required_on_create=True),
        FieldRule("rate_limiting_technique", "str", nullable=True, choices=("fixed", "sliding")),
        FieldRule("authentication", "bool"),
        FieldRule("log_management", "int", nullable=True, minimum=10_000, maximum=10_000_000),
        FieldRule(
            "log_management_strategy",
            "str",
            nullable=True,
            choices=("STOP_INSERTING", "DELETE_OLDEST"),
        ),
        FieldRule("logpush", "bool"),
        FieldRule("logpush_public_key", "str", nullable=True, min_length=16, max_length=1024),
        FieldRule("retry_max_attempts", "int", nullable=True, minimum=1, maximum=5),
        FieldRule("retry_delay", "int", nullable=True, minimum=0, maximum=5_000),
        FieldRule(
            "retry_backoff", "str", nullable=True, choices=("constant", "linear", "exponential")
        ),
    )
}
"""Every settable field of a gateway, in Cloudflare's order."""

READ_ONLY_FIELDS = ("id", "created_at", "modified_at", "is_default")


def check_gateway_id(value: object) -> str | None:
    """The problem with a gateway id, or None."""
    if not isinstance(value, str):
        return "must be a string"
    if not 1 <= len(value) <= GATEWAY_ID_MAX_LENGTH:
        return f"must be 1 to {GATEWAY_ID_MAX_LENGTH} characters"
    if not GATEWAY_ID_PATTERN.fullmatch(value):
        return "must match ^[a-z0-9_]+(?:-[a-z0-9_]+)*$ (lowercase letters, digits, _ and -)"
    return None


def check_settings_json(
    body: Mapping[str, Any], *, creating: bool, allow_unknown: bool = True
) -> list[FieldError]:
    """Every problem with a JSON body for create (`creating`) or PUT, each naming its field."""
    errors: list[FieldError] = []
    if creating:
        problem = check_gateway_id(body.get("id"))
        if problem:
            errors.append(FieldError(("id",), problem))
    for name, rule in SETTINGS_RULES.items():
        if name not in body:
            if creating and rule.required_on_create:
                errors.append(FieldError((name,), "is required"))
            continue
        problem = rule.check(body[name])
        if problem:
            errors.append(FieldError((name,), problem))
    if not allow_unknown:
        known = set(SETTINGS_RULES) | set(READ_ONLY_FIELDS)
        errors.extend(FieldError((k,), "is not a gateway field") for k in body if k not in known)
    return errors


def _rule_validator(name: str) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    rule = SETTINGS_RULES[name]

    def validate(_instance: Any, _attribute: attrs.Attribute[Any], value: Any) -> None:
        problem = rule.check(value)
        if problem:
            raise ValidationError([FieldError((name,), problem)], what="gateway spec")

    return validate


def _setting(name: str, default: Any) -> Any:
    return attrs.field(default=default, kw_only=True, validator=_rule_validator(name))


@attrs.frozen(slots=True)
class GatewaySettings:
    """The settable fields of a gateway, with the defaults Cloudflare gives a new one."""

    cache_ttl: int | None = _setting("cache_ttl", 0)
    cache_invalidate_on_update: bool = _setting("cache_invalidate_on_update", False)
    collect_logs: bool = _setting("collect_logs", True)
    rate_limiting_interval: int | None = _setting("rate_limiting_interval", 0)
    rate_limiting_limit: int | None = _setting("rate_limiting_limit", 0)
    rate_limiting_technique: RateLimitingTechnique | None = _setting(
        "rate_limiting_technique", "fixed"
    )
    authentication: bool = _setting("authentication", False)
    log_management: int | None = _setting("log_management", None)
    log_management_strategy: LogManagementStrategy | None = _setting(
        "log_management_strategy", None
    )
    logpush: bool = _setting("logpush", False)
    logpush_public_key: str | None = _setting("logpush_public_key", None)
    retry_max_attempts: int | None = _setting("retry_max_attempts", None)
    retry_delay: int | None = _setting("retry_delay", None)
    retry_backoff: RetryBackoff | None = _setting("retry_backoff", None)

    @classmethod
    def from_json(cls, body: Mapping[str, Any], *, creating: bool = False) -> GatewaySettings:
        """Settings from a JSON body; missing fields take the defaults. Raises ValidationError."""
        errors = check_settings_json(body, creating=creating)
        if errors:
            raise ValidationError(errors, what="gateway")
        return cls(**{k: body[k] for k in SETTINGS_RULES if k in body})

    def settings_json(self) -> dict[str, Any]:
        """The settable fields as Cloudflare's JSON body (without `id`)."""
        return {name: getattr(self, name) for name in SETTINGS_RULES}

    def settings(self) -> GatewaySettings:
        """Just the settings (drops the name and id of an `AiGateway`)."""
        return GatewaySettings(**self.settings_json())


def _validate_id(_instance: Any, _attribute: attrs.Attribute[Any], value: Any) -> None:
    problem = check_gateway_id(value)
    if problem:
        raise ValidationError([FieldError(("id",), problem)], what="gateway spec")


@attrs.frozen(slots=True)
class AiGateway(GatewaySettings):
    """A gateway declared in code: `AiGateway("Gateway", id="prod-gateway", cache_ttl=300, ...)`.

    `name` is the logical name in your code (like alchemy's resource name); `id` is the
    gateway's id at Cloudflare. Building it validates every field with Cloudflare's rules.
    """

    name: str = attrs.field(default="Gateway")
    id: str = attrs.field(default="default", kw_only=True, validator=_validate_id)


__all__ = [
    "GATEWAY_ID_PATTERN",
    "SETTINGS_RULES",
    "AiGateway",
    "FieldRule",
    "GatewaySettings",
    "LogManagementStrategy",
    "RateLimitingTechnique",
    "RetryBackoff",
    "check_gateway_id",
    "check_settings_json",
]
