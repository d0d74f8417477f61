"""Gateways declared as data: `AiGateway` (a named spec) over `GatewaySettings` (the settable
fields).

The field rules are Cloudflare's and live once, in `aigateway_sdk.contract.gateway`, as attrs
field metadata of `GatewaySettings`; the local gateway checks JSON bodies with the same
`GatewaySettings`, so the two can never disagree. This module adds the spec: a logical name
and the gateway id derived from it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import attrs

from aigateway_sdk.contract.gateway import (
    GATEWAY_ID_MAX_LENGTH,
    SETTINGS_RULES,
    GatewaySettings,
    check_gateway_id,
    check_settings_json,
)
from aigateway_sdk.contract.gateway import (  # importable from here too; their home is the contract
    GATEWAY_ID_PATTERN as GATEWAY_ID_PATTERN,
)
from aigateway_sdk.contract.gateway import READ_ONLY_FIELDS as READ_ONLY_FIELDS
from aigateway_sdk.contract.gateway import FieldRule as FieldRule
from aigateway_sdk.contract.gateway import LogManagementStrategy as LogManagementStrategy
from aigateway_sdk.contract.gateway import RateLimitingTechnique as RateLimitingTechnique
from aigateway_sdk.contract.gateway import RetryBackoff as RetryBackoff
from aigateway_sdk.validation import FieldError

if TYPE_CHECKING:
    from aigateway_sdk.control.models import Gateway
    from aigateway_sdk.transport.retry import RetryPolicy

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

    async def ensure(
        self, *, account_id: str, api_token: str, api_base_url: str, retry: RetryPolicy
    ) -> Gateway:
        """Apply this spec through the control plane at `api_base_url` (create, or update in
        place) and return the gateway: what `GatewayBinding(spec=..., ensure_gateway=True)`
        runs once. The binding only calls this; the admin stays on the control plane's side."""
        from aigateway_sdk.control import admin  # admin imports this module

        async with admin.GatewayAdmin(account_id, api_token, api_base_url, retry=retry) as api:
            return await admin.ensure_gateway(api, self)

    def __repr__(self) -> str:
        """Like the call that builds it: name, id, then the settings that differ from the
        defaults (`AiGateway('Gateway', id='prod-gateway', cache_ttl=300)`)."""
        changed = [
            f"{name}={value!r}"
            for name in SETTINGS_RULES
            if (value := getattr(self, name)) != getattr(_DEFAULT_SETTINGS, name)
        ]
        return f"AiGateway({', '.join([repr(self.name), f'id={self.id!r}', *changed])})"


_DEFAULT_SETTINGS = GatewaySettings()


__all__ = [
    "SETTINGS_RULES",
    "AiGateway",
    "GatewaySettings",
    "check_settings_json",
    "gateway_id_from_name",
]
