"""A stored provider key (BYOK): its settings, its secret (never shown) and how it looks as
JSON, the secret replaced by its preview."""

from __future__ import annotations

from typing import Any

import attrs

from aigateway_sdk.contract.provider_keys import ProviderKeySettings, secret_preview
from aigateway_sdk.local.clock import rfc3339
from aigateway_sdk.local.policies.auth import secret_repr


@attrs.frozen(slots=True, kw_only=True)
class ProviderKeyRecord:
    """One provider config of a gateway. `secret` is hidden from the repr and from `to_json`."""

    account_id: str
    gateway_id: str
    id: str
    settings: ProviderKeySettings
    secret_id: str
    secret: str = attrs.field(repr=secret_repr)
    modified_at: float

    @property
    def scope(self) -> tuple[str, str]:
        return (self.account_id, self.gateway_id)

    def to_json(self) -> dict[str, Any]:
        """Cloudflare's shape (plus `account_id` and `account_tag`, as on its gateways)."""
        settings = self.settings
        return {
            "id": self.id,
            "account_id": self.account_id,
            "account_tag": self.account_id,
            "alias": settings.alias,
            "default_config": settings.default_config,
            "gateway_id": self.gateway_id,
            "modified_at": rfc3339(self.modified_at),
            "provider_slug": settings.provider_slug,
            "secret_id": self.secret_id,
            "secret_preview": secret_preview(self.secret),
            "rate_limit": settings.rate_limit,
            "rate_limit_period": settings.rate_limit_period,
        }


__all__ = ["ProviderKeyRecord"]
