"""Provider keys (BYOK) declared as code: `ProviderKey` (a spec whose secret is read only when
it is applied) and `ProviderConfig` (a key as the control plane reports it).

    OpenAI = ProviderKey("openai", secret=from_env("OPENAI_API_KEY"), gateway="prod-gateway")

The secret is never a value of the spec: it is a source (`from_env(...)`, or any callable
returning the key), called by `apply` when it creates or rotates the key. No repr, `to_json`,
plan or error message holds it. Field rules are Cloudflare's (`aigateway_sdk.contract
.provider_keys`), the same the local gateway checks.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from aigateway_sdk._decode import Reader
from aigateway_sdk.contract.provider_keys import (
    DEFAULT_ALIAS,
    ProviderKeySettings,
    secret_problem,
)
from aigateway_sdk.validation import FieldError, ValidationError

if TYPE_CHECKING:
    from aigateway_sdk.control.spec import AiGateway

SecretSource = Callable[[], str]
"""Where a key's secret comes from: called once per create or rotation, never stored."""

_WHAT = "provider key"


@attrs.frozen(slots=True)
class FromEnv:
    """A secret read from the environment variable `variable` when the key is applied."""

    variable: str

    def __call__(self) -> str:
        value = os.environ.get(self.variable)
        if not value:
            raise ValidationError(
                [FieldError(("secret",), f"environment variable {self.variable} is not set")],
                what=_WHAT,
            )
        return value

    def __repr__(self) -> str:
        return f"from_env({self.variable!r})"


def from_env(variable: str) -> FromEnv:
    """A secret source reading `variable` at apply time (not now: a plan needs no secret)."""
    if not isinstance(variable, str) or not variable.strip():
        raise ValidationError(
            [FieldError(("variable",), "must be an environment variable name")], what=_WHAT
        )
    return FromEnv(variable)


def _source_repr(source: object) -> str:
    if isinstance(source, FromEnv):
        return repr(source)
    name = getattr(source, "__qualname__", None) or type(source).__name__
    return f"<secret from {name}>"


def _gateway_id(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    gateway_id = getattr(value, "id", None)  # an AiGateway or a Gateway
    return gateway_id if isinstance(gateway_id, str) else None


def _default_flag(key: ProviderKey) -> bool:
    return key.alias == DEFAULT_ALIAS


@attrs.frozen(slots=True, eq=False)
class ProviderKey:
    """A provider key declared in code (like alchemy's `ProviderKey`).

    `provider` is Cloudflare's provider slug (`openai`, `anthropic`, `google-ai-studio`, ...);
    `alias` names the key among the provider's (default `"default"`); `default` makes it the
    key used when a request names no alias (default: true for the `default` alias);
    `rate_limit` requests per `rate_limit_period` seconds, both or neither; `gateway` the
    gateway id (or `AiGateway`) it belongs to, when the key is applied on its own (the CLI).
    `secret` is `from_env("VAR")` or a callable returning the key; the key itself is refused,
    so it cannot end up in source code or a repr. Building it checks every field and raises
    one `ValidationError` naming each bad one.
    """

    provider: str
    alias: str = DEFAULT_ALIAS
    default: bool = attrs.field(default=attrs.Factory(_default_flag, takes_self=True))
    secret: SecretSource = attrs.field(kw_only=True, repr=False)
    rate_limit: float | None = attrs.field(default=None, kw_only=True)
    rate_limit_period: float | None = attrs.field(default=None, kw_only=True)
    gateway: str | None = attrs.field(default=None, kw_only=True, converter=_gateway_id)

    def __attrs_post_init__(self) -> None:
        problems = self.settings_problems()
        if isinstance(self.secret, str | bytes):
            problems.append(
                FieldError(
                    ("secret",),
                    "must be from_env('VAR') or a callable returning the key, not the key itself",
                )
            )
        elif not callable(self.secret):
            problems.append(FieldError(("secret",), "must be from_env('VAR') or a callable"))
        if problems:
            raise ValidationError(problems, what=_WHAT)

    def settings_problems(self) -> list[FieldError]:
        renamed = {"provider_slug": "provider", "default_config": "default"}
        found = self._raw_settings().problems()
        return [
            FieldError((renamed.get(e.path[0], e.path[0]), *e.path[1:]), e.message) for e in found
        ]

    def _raw_settings(self) -> ProviderKeySettings:
        return ProviderKeySettings(
            provider_slug=self.provider,
            alias=self.alias,
            default_config=self.default,
            rate_limit=self.rate_limit,
            rate_limit_period=self.rate_limit_period,
        )

    @property
    def settings(self) -> ProviderKeySettings:
        """The settable fields, as the control plane holds them (no secret)."""
        return self._raw_settings()

    @property
    def name(self) -> str:
        """`provider/alias`: how plans and the CLI name the key."""
        return f"{self.provider}/{self.alias}"

    def with_gateway(self, gateway: AiGateway | str) -> ProviderKey:
        return attrs.evolve(self, gateway=gateway)

    def resolve_secret(self) -> str:
        """Call the secret source and check what it gave. Errors name the source, never the
        value (nor the message of an exception it raised, which could quote it)."""
        try:
            value = self.secret()
        except ValidationError:
            raise
        except Exception as error:
            raise ValidationError(
                [
                    FieldError(
                        ("secret",),
                        f"{_source_repr(self.secret)} raised {type(error).__name__}",
                    )
                ],
                what=_WHAT,
            ) from None
        problem = secret_problem(value)
        if problem is not None:
            raise ValidationError(
                [FieldError(("secret",), f"{_source_repr(self.secret)}: the key {problem}")],
                what=_WHAT,
            )
        return value

    def create_json(self, secret: str) -> dict[str, Any]:
        """The body of `POST .../provider_configs` (holds the secret: sent, never kept)."""
        body = self.settings.to_json()
        for name in ("rate_limit", "rate_limit_period"):
            if body[name] is None:
                del body[name]
        return {**body, "secret": secret}

    def to_json(self) -> dict[str, Any]:
        """The declared fields (the secret as its source, e.g. `from_env('OPENAI_API_KEY')`)."""
        return {
            "gateway": self.gateway,
            **self.settings.to_json(),
            "secret": _source_repr(self.secret),
        }

    def __repr__(self) -> str:
        parts = [repr(self.provider)]
        if self.alias != DEFAULT_ALIAS:
            parts.append(f"alias={self.alias!r}")
        if self.default != (self.alias == DEFAULT_ALIAS):
            parts.append(f"default={self.default!r}")
        parts.append(f"secret={_source_repr(self.secret)}")
        if self.rate_limit is not None:
            parts.append(f"rate_limit={self.rate_limit!r}")
            parts.append(f"rate_limit_period={self.rate_limit_period!r}")
        if self.gateway is not None:
            parts.append(f"gateway={self.gateway!r}")
        return f"ProviderKey({', '.join(parts)})"

    __str__ = __repr__


@attrs.frozen(slots=True, kw_only=True)
class ProviderConfig:
    """A stored provider key as the control plane reports it: never the secret, a
    `secret_preview` (a few of its characters) instead."""

    id: str
    provider_slug: str
    alias: str
    default_config: bool
    gateway_id: str
    modified_at: datetime
    secret_id: str
    secret_preview: str
    rate_limit: float | None = None
    rate_limit_period: float | None = None

    @property
    def name(self) -> str:
        return f"{self.provider_slug}/{self.alias}"

    @property
    def settings(self) -> ProviderKeySettings:
        return ProviderKeySettings(
            provider_slug=self.provider_slug,
            alias=self.alias,
            default_config=self.default_config,
            rate_limit=self.rate_limit,
            rate_limit_period=self.rate_limit_period,
        )

    @classmethod
    def from_api(cls, body: object) -> ProviderConfig:
        """A config from an API `result`; `AiError(MalformedOutput)` on a bad shape."""
        read = Reader(body, "provider config")
        return cls(
            id=read.text("id"),
            provider_slug=read.text("provider_slug"),
            alias=read.text("alias"),
            default_config=read.flag("default_config"),
            gateway_id=read.text("gateway_id"),
            modified_at=read.time("modified_at"),
            secret_id=read.opt_text("secret_id") or "",
            secret_preview=read.opt_text("secret_preview") or "",
            rate_limit=read.opt_float("rate_limit"),
            rate_limit_period=read.opt_float("rate_limit_period"),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "provider_slug": self.provider_slug,
            "alias": self.alias,
            "default_config": self.default_config,
            "gateway_id": self.gateway_id,
            "modified_at": self.modified_at.isoformat(),
            "secret_id": self.secret_id,
            "secret_preview": self.secret_preview,
            "rate_limit": self.rate_limit,
            "rate_limit_period": self.rate_limit_period,
        }


__all__ = [
    "FromEnv",
    "ProviderConfig",
    "ProviderKey",
    "SecretSource",
    "from_env",
]
