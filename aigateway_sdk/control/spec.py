"""Gateways declared as data: `GatewaySettings` (the settable fields), `AiGateway` (a named spec).

The field rules are Cloudflare's (see docs/cloudflare-contract.md): the `id` pattern and length,
ranges, enums and nullability of `POST/PUT /accounts/{account_id}/ai-gateway/gateways`. One table
drives both the spec's validation when it is built and the local gateway's checks of JSON bodies,
so the two can never disagree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from aigateway_sdk.validation import FieldError, ValidationError

RateLimitingTechnique = Literal["fixed", "sliding"]
LogManagementStrategy = Literal["STOP_INSERTING", "DELETE_OLDEST"]
RetryBackoff = Literal["constant", "linear", "exponential"]

GATEWAY_ID_PATTERN = re.compile(r"^[a-z0-9_]+(?:-[a-z0-9_]+)*$")
GATEWAY_ID_MAX_LENGTH = 64
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
"""Integer fields hold 64-bit values: Cloudflare's generated clients (its Terraform provider)
type every gateway integer as int64, so a larger one cannot be sent or stored."""


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
            if not INT64_MIN <= value <= INT64_MAX:
                return "must be a 64-bit integer"
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
        FieldRule(
            "rate_limiting_interval", "int", nullable=True, minimum=0, required_on_create=True
        ),
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


@attrs.frozen(slots=True)
class GatewaySettings:
    """The settable fields of a gateway, with the defaults Cloudflare gives a new one.

    Building one checks every field at once and raises `ValidationError` listing each bad
    field (`errors[i].path == ("cache_ttl",)`), so a spec that exists is a spec Cloudflare
    accepts.
    """

    cache_ttl: int | None = attrs.field(default=0, kw_only=True)
    """Seconds a reply stays cached; 0 or None: no caching unless a request asks for it."""
    cache_invalidate_on_update: bool = attrs.field(default=False, kw_only=True)
    """Drop the gateway's cached replies when its settings change."""
    collect_logs: bool = attrs.field(default=True, kw_only=True)
    """Store a log entry for each request."""
    rate_limiting_interval: int | None = attrs.field(default=0, kw_only=True)
    """Length of the rate-limit window in seconds; 0 or None: no rate limit."""
    rate_limiting_limit: int | None = attrs.field(default=0, kw_only=True)
    """Requests allowed per window; 0 or None: no rate limit."""
    rate_limiting_technique: RateLimitingTechnique | None = attrs.field(
        default="fixed", kw_only=True
    )
    """`fixed` (clock-aligned windows) or `sliding` (any trailing window)."""
    authentication: bool = attrs.field(default=False, kw_only=True)
    """Require `cf-aig-authorization: Bearer <token>` on every data-plane request."""
    log_management: int | None = attrs.field(default=None, kw_only=True)
    """How many logs the gateway keeps (10 000 .. 10 000 000); None: the plan's default."""
    log_management_strategy: LogManagementStrategy | None = attrs.field(default=None, kw_only=True)
    """At the cap: `STOP_INSERTING` new logs, or `DELETE_OLDEST` ones."""
    logpush: bool = attrs.field(default=False, kw_only=True)
    """Push logs to Logpush (needs `logpush_public_key`)."""
    logpush_public_key: str | None = attrs.field(default=None, kw_only=True)
    """Public key that encrypts pushed logs (16 .. 1024 characters)."""
    retry_max_attempts: int | None = attrs.field(default=None, kw_only=True)
    """Attempts at the upstream (1 .. 5) before the gateway gives up."""
    retry_delay: int | None = attrs.field(default=None, kw_only=True)
    """Milliseconds between upstream attempts (0 .. 5000)."""
    retry_backoff: RetryBackoff | None = attrs.field(default=None, kw_only=True)
    """How the delay grows: `constant`, `linear` or `exponential`."""

    def __attrs_post_init__(self) -> None:
        errors = self._field_errors()
        if errors:
            raise ValidationError(errors, what="gateway spec")

    def _field_errors(self) -> list[FieldError]:
        errors = []
        for name, rule in SETTINGS_RULES.items():
            problem = rule.check(getattr(self, name))
            if problem:
                errors.append(FieldError((name,), problem))
        return errors

    @classmethod
    def from_json(cls, body: Mapping[str, Any], *, creating: bool = False) -> GatewaySettings:
        """Settings from a JSON body; missing fields take the defaults. Raises ValidationError."""
        errors = check_settings_json(body, creating=creating)
        if errors:
            raise ValidationError(errors, what="gateway")
        return GatewaySettings(**{k: body[k] for k in SETTINGS_RULES if k in body})

    def settings_json(self) -> dict[str, Any]:
        """The settable fields as Cloudflare's JSON body (without `id`)."""
        return {name: getattr(self, name) for name in SETTINGS_RULES}

    def settings(self) -> GatewaySettings:
        """Just the settings (drops the name and id of an `AiGateway`)."""
        return GatewaySettings(**self.settings_json())


_INVALID_ID_RUN = re.compile(r"[^a-z0-9_]+")


def gateway_id_from_name(name: str) -> str:
    """The gateway id derived from a logical name, as when `AiGateway(name)` has no `id`.

    Lowercased; each run of characters an id may not hold becomes one `-`; leading and
    trailing `-` dropped; cut to 64 characters. `"Prod Gateway"` -> `"prod-gateway"`.
    The result may still be empty (a name with no letter or digit): the spec then fails to
    build with an error on `id`.
    """
    derived = _INVALID_ID_RUN.sub("-", name.lower()).strip("-")
    return derived[:GATEWAY_ID_MAX_LENGTH].rstrip("-")


def _derived_id(instance: AiGateway) -> str:
    return gateway_id_from_name(instance.name) if isinstance(instance.name, str) else ""


@attrs.frozen(slots=True)
class AiGateway(GatewaySettings):
    """A gateway declared in code: `AiGateway("Gateway", id="prod-gateway", cache_ttl=300, ...)`.

    `name` is the logical name in your code (like alchemy's resource name); `id` is the
    gateway's id at Cloudflare, derived from the name when not given (`"Gateway"` ->
    `"gateway"`). Building it validates every field with Cloudflare's rules and raises one
    `ValidationError` naming each bad field.
    """

    name: str = attrs.field(default="Gateway")
    id: str = attrs.field(
        default=attrs.Factory(_derived_id, takes_self=True),
        kw_only=True,
    )

    def _field_errors(self) -> list[FieldError]:
        errors = []
        if not isinstance(self.name, str) or not self.name.strip():
            errors.append(FieldError(("name",), "must be a non-empty string"))
        problem = check_gateway_id(self.id)
        if problem:
            if self.id == "" and isinstance(self.name, str) and self.name.strip():
                problem = f"cannot be derived from name {self.name!r}; pass id=..."
            errors.append(FieldError(("id",), problem))
        return errors + GatewaySettings._field_errors(self)

    def create_json(self) -> dict[str, Any]:
        """The body of `POST .../gateways`: `id` and every setting."""
        return {"id": self.id, **self.settings_json()}

    def __repr__(self) -> str:
        """Like the call that builds it: name, id, then the settings that differ from the
        defaults (`AiGateway('Gateway', id='prod-gateway', cache_ttl=300)`)."""
        defaults = _DEFAULT_SETTINGS
        changed = [
            f"{name}={value!r}"
            for name, value in self.settings_json().items()
            if value != defaults[name]
        ]
        return f"AiGateway({', '.join([repr(self.name), f'id={self.id!r}', *changed])})"


_DEFAULT_SETTINGS = GatewaySettings().settings_json()


__all__ = [
    "GATEWAY_ID_MAX_LENGTH",
    "GATEWAY_ID_PATTERN",
    "READ_ONLY_FIELDS",
    "SETTINGS_RULES",
    "AiGateway",
    "FieldRule",
    "GatewaySettings",
    "LogManagementStrategy",
    "RateLimitingTechnique",
    "RetryBackoff",
    "check_gateway_id",
    "check_settings_json",
    "gateway_id_from_name",
]
