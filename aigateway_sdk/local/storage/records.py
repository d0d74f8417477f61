"""The values the local gateway keeps: gateways and logs (and how they look as JSON)."""

from __future__ import annotations

import uuid
from typing import Any

import attrs

from aigateway_sdk.contract.gateway import GatewaySettings, LogManagementStrategy
from aigateway_sdk.contract.logs import LOG_FIELDS, Direction, FilterValue
from aigateway_sdk.contract.logs import FilterOperator as Operator
from aigateway_sdk.local.clock import rfc3339

INTERNAL_ID_NAMESPACE = uuid.UUID("5f0e4d8a-6f7b-4c1e-9a51-2b7c3d9e0a41")
"""The namespace of the gateways' `internal_id` (UUIDv5), fixed so ids survive restarts."""


@attrs.frozen(slots=True)
class GatewayRecord:
    account_id: str
    id: str
    settings: GatewaySettings
    created_at: float
    modified_at: float

    @property
    def internal_id(self) -> str:
        """Cloudflare's per-gateway UUID: derived from the account, the id and the creation time
        (all stored, none changed by an update), so it is stable across updates and restarts
        and a gateway deleted and created again gets a new one, as at Cloudflare."""
        name = f"{self.account_id}\0{self.id}\0{self.created_at!r}"
        return str(uuid.uuid5(INTERNAL_ID_NAMESPACE, name))

    def to_json(self) -> dict[str, Any]:
        # `account_id`, `account_tag` (Cloudflare puts the account id there too) and
        # `internal_id` are what cloudflare-python 4.x's strict models require of a gateway.
        body: dict[str, Any] = {
            "id": self.id,
            "account_id": self.account_id,
            "account_tag": self.account_id,
            "internal_id": self.internal_id,
        }
        body.update(self.settings.settings_json())
        body["created_at"] = rfc3339(self.created_at)
        body["modified_at"] = rfc3339(self.modified_at)
        body["is_default"] = self.id == "default"
        return body


@attrs.frozen(slots=True)
class LogRecord:
    """One data-plane call. Bodies are stored capped; `*_size` is the full size."""

    id: str
    account_id: str
    gateway_id: str
    created_at: float
    provider: str
    model: str
    path: str
    success: bool
    cached: bool
    status_code: int
    duration: int
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost: float | None = None
    custom_cost: bool = False
    metadata: str | None = None
    event_id: str | None = None
    step: int | None = None
    model_type: str | None = None
    request_type: str | None = None
    request_content_type: str | None = None
    response_content_type: str | None = None
    request_body: bytes = b""
    request_size: int = 0
    request_truncated: bool = False
    response_body: bytes = b""
    response_size: int = 0
    response_truncated: bool = False
    feedback: int | None = None
    score: float | None = None

    def to_json(self, *, detail: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {name: getattr(self, name) for name in LOG_FIELDS}
        body["created_at"] = rfc3339(self.created_at)
        if detail:
            body["request_head"] = self.request_body.decode("utf-8", "replace")
            body["request_head_complete"] = not self.request_truncated
            body["request_size"] = self.request_size
            body["response_head"] = self.response_body.decode("utf-8", "replace")
            body["response_head_complete"] = not self.response_truncated
            body["response_size"] = self.response_size
        return body


@attrs.frozen(slots=True)
class LogFilter:
    key: str
    operator: Operator
    values: tuple[FilterValue, ...]


@attrs.frozen(slots=True)
class LogQuery:
    page: int = 1
    per_page: int = 20
    search: str | None = None
    order_by: str = "created_at"
    direction: Direction = "desc"
    filters: tuple[LogFilter, ...] = ()


@attrs.frozen(slots=True)
class LogDeletion:
    filters: tuple[LogFilter, ...] = ()
    limit: int | None = None
    order_by: str = "created_at"
    direction: Direction = "asc"


@attrs.frozen(slots=True)
class LogPatch:
    feedback: int | None = None
    score: float | None = None
    metadata: str | None = None
    set_feedback: bool = False
    set_score: bool = False
    set_metadata: bool = False


@attrs.frozen(slots=True)
class LogCap:
    """How many logs a gateway keeps, and what happens at the cap."""

    limit: int
    strategy: LogManagementStrategy


__all__ = [
    "Direction",
    "FilterValue",
    "GatewayRecord",
    "LogCap",
    "LogDeletion",
    "LogFilter",
    "LogPatch",
    "LogQuery",
    "LogRecord",
    "Operator",
]
