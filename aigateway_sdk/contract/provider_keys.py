"""Provider keys (BYOK): the fields, limits and alias rules of a gateway's `provider_configs`.

Cloudflare's facts (sources in docs/cloudflare-contract.md):
- `POST/GET /accounts/{account_id}/ai-gateway/gateways/{gateway_id}/provider_configs`,
  `PUT/DELETE .../provider_configs/{id}`. Create takes `provider_slug`, `alias`,
  `default_config` (all required), `secret` (a new key) or `secret_id` (an existing Secrets
  Store secret), optional `rate_limit` and `rate_limit_period` (numbers). A config as returned:
  `PROVIDER_CONFIG_FIELDS`, never the secret itself, a `secret_preview` instead. The list takes
  `page` (>= 1) and `per_page` (1..100).
- A request without a provider `Authorization` uses the stored key of its provider: the one with
  the `default` alias, or the one named by the `cf-aig-byok-alias` header.

Ours (Cloudflare documents none of these; marked so in the docs): the alias and provider-slug
patterns and lengths, the secret's length bound, the preview's format, the number of keys per
gateway, that `rate_limit` and `rate_limit_period` go together, and that one provider has at
most one `default_config` key.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import attrs

from aigateway_sdk.validation import FieldError, ValidationError

BYOK_ALIAS_HEADER = "cf-aig-byok-alias"
"""Request header naming the stored key to use (Cloudflare's)."""
DEFAULT_ALIAS = "default"
"""The alias Cloudflare gives a key when none is chosen, and uses when no header names one."""

PROVIDER_CONFIG_FIELDS = (
    "id",
    "alias",
    "default_config",
    "gateway_id",
    "modified_at",
    "provider_slug",
    "secret_id",
    "secret_preview",
    "rate_limit",
    "rate_limit_period",
)
"""A provider config as Cloudflare returns it (create and list)."""
SETTINGS_FIELDS = ("provider_slug", "alias", "default_config", "rate_limit", "rate_limit_period")
"""The fields of a config that a caller sets (besides the secret)."""
LIST_MAX_PER_PAGE = 100
"""Cloudflare's bound on `per_page` for the list."""

ALIAS_PATTERN = re.compile(r"^[A-Za-z0-9_-]+$")
ALIAS_MAX_LENGTH = 64
PROVIDER_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
PROVIDER_MAX_LENGTH = 64
SECRET_MAX_LENGTH = 16_384
"""Ours: a service-account JSON key fits; a longer secret is refused."""
SECRET_MIN_LENGTH = 8
"""Ours: every provider's real keys are far longer. The gateway removes each stored secret from all
that upstreams send back and from every log body, so a short one ("x", a quote) would mangle
replies and logs of every gateway."""
RATE_LIMIT_MAX = 1_000_000_000
RATE_LIMIT_PERIOD_MAX = 366 * 24 * 3600
MAX_KEYS_PER_GATEWAY = 100
"""Ours: the keys one gateway may hold."""

PREVIEW_MASK = "..."


def secret_preview(secret: str) -> str:
    """What a config shows of its secret (ours; Cloudflare's format is undocumented): the
    first four and last four characters of a secret of 24 or more, only the last four of one
    of 12 to 23, nothing of a shorter one; never more than a third of it."""
    if len(secret) >= 24:
        return f"{secret[:4]}{PREVIEW_MASK}{secret[-4:]}"
    if len(secret) >= 12:
        return f"{PREVIEW_MASK}{secret[-4:]}"
    return PREVIEW_MASK


def secret_problem(value: object) -> str | None:
    """What is wrong with a secret, or None. The message never quotes the value."""
    if not isinstance(value, str):
        return "must be a string"
    if not value.strip():
        return "must not be empty"
    if not SECRET_MIN_LENGTH <= len(value) <= SECRET_MAX_LENGTH:
        return f"must be {SECRET_MIN_LENGTH} to {SECRET_MAX_LENGTH} characters"
    if any(not 0x20 <= ord(c) < 0x7F for c in value):
        # it travels as an HTTP header (`Authorization: Bearer <secret>`): printable ASCII only
        return "must be printable ASCII (no line breaks, tabs, NUL or non-ASCII characters)"
    return None


def _name_problem(value: object, pattern: re.Pattern[str], limit: int, what: str) -> str | None:
    if not isinstance(value, str):
        return "must be a string"
    if not 1 <= len(value) <= limit:
        return f"must be 1 to {limit} characters"
    if not pattern.match(value):
        return f"must be {what}"
    return None


def alias_problem(value: object) -> str | None:
    return _name_problem(
        value, ALIAS_PATTERN, ALIAS_MAX_LENGTH, "letters, digits, '_' and '-' only"
    )


def provider_problem(value: object) -> str | None:
    return _name_problem(
        value,
        PROVIDER_PATTERN,
        PROVIDER_MAX_LENGTH,
        "lowercase letters, digits, '_' and '-' (e.g. 'openai', 'google-ai-studio')",
    )


def _number_problem(value: object, maximum: int) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "must be a number or null"
    if not math.isfinite(value) or not 0 <= value <= maximum:
        return f"must be from 0 to {maximum}"
    return None


@attrs.frozen(slots=True, kw_only=True)
class ProviderKeySettings:
    """The settable fields of a provider config (the secret is not one of them: it travels
    separately, so no value holding settings can show it)."""

    provider_slug: str
    alias: str = DEFAULT_ALIAS
    default_config: bool = True
    rate_limit: float | None = None
    rate_limit_period: float | None = None

    def problems(self) -> list[FieldError]:
        """Every bad field, each named."""
        found = [
            FieldError((name,), problem)
            for name, problem in (
                ("provider_slug", provider_problem(self.provider_slug)),
                ("alias", alias_problem(self.alias)),
                (
                    "default_config",
                    None if isinstance(self.default_config, bool) else "must be a boolean",
                ),
                ("rate_limit", _number_problem(self.rate_limit, RATE_LIMIT_MAX)),
                (
                    "rate_limit_period",
                    _number_problem(self.rate_limit_period, RATE_LIMIT_PERIOD_MAX),
                ),
            )
            if problem is not None
        ]
        if not found and (self.rate_limit is None) != (self.rate_limit_period is None):
            found.append(
                FieldError(("rate_limit_period",), "must be given with rate_limit (both or none)")
            )
        return found

    @property
    def limited(self) -> bool:
        """Whether the key has a rate limit to enforce (both numbers above zero)."""
        return bool(self.rate_limit) and bool(self.rate_limit_period)

    def to_json(self) -> dict[str, Any]:
        return {
            "provider_slug": self.provider_slug,
            "alias": self.alias,
            "default_config": self.default_config,
            "rate_limit": self.rate_limit,
            "rate_limit_period": self.rate_limit_period,
        }

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> ProviderKeySettings:
        """The settings of a create body; `ValidationError` naming every bad or missing field.
        `alias` and `default_config` are required, as in Cloudflare's create."""
        missing = [
            FieldError((name,), "is required")
            for name in ("provider_slug", "alias", "default_config")
            if name not in body
        ]
        if missing:
            raise ValidationError(missing, what="provider config")
        settings = cls(
            provider_slug=body["provider_slug"],
            alias=body["alias"],
            default_config=body["default_config"],
            rate_limit=body.get("rate_limit"),
            rate_limit_period=body.get("rate_limit_period"),
        )
        problems = settings.problems()
        if problems:
            raise ValidationError(problems, what="provider config")
        return settings


__all__ = [
    "ALIAS_MAX_LENGTH",
    "BYOK_ALIAS_HEADER",
    "DEFAULT_ALIAS",
    "LIST_MAX_PER_PAGE",
    "MAX_KEYS_PER_GATEWAY",
    "PROVIDER_CONFIG_FIELDS",
    "PROVIDER_MAX_LENGTH",
    "SECRET_MAX_LENGTH",
    "SECRET_MIN_LENGTH",
    "SETTINGS_FIELDS",
    "ProviderKeySettings",
    "alias_problem",
    "provider_problem",
    "secret_preview",
    "secret_problem",
]
