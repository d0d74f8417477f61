"""The gateways of every account, in memory for the data plane's hot path, with each change
persisted through the store. Mutations happen synchronously on the event loop, so checks such
as "already exists" and "at most N per account" cannot race."""

from __future__ import annotations

import attrs

from aigateway_sdk.contract.gateway import DEFAULT_GATEWAY_ID, GatewaySettings
from aigateway_sdk.local.policies.ratelimit import Rule
from aigateway_sdk.local.storage.records import GatewayRecord, LogCap
from aigateway_sdk.local.web.errors import CODE_ALREADY_EXISTS, CODE_TOO_MANY_GATEWAYS, ApiError


@attrs.frozen(slots=True)
class LiveGateway:
    """A gateway plus what the data plane derives from its settings, computed once."""

    record: GatewayRecord
    scope: tuple[str, str]
    rule: Rule | None
    cap: LogCap | None

    @property
    def settings(self) -> GatewaySettings:
        return self.record.settings


def _live(record: GatewayRecord, cap_override: int | None) -> LiveGateway:
    settings = record.settings
    cap = None
    if settings.log_management is not None:
        limit = cap_override if cap_override is not None else settings.log_management
        cap = LogCap(limit, settings.log_management_strategy or "STOP_INSERTING")
    return LiveGateway(record, (record.account_id, record.id), Rule.of(settings), cap)


class GatewayRegistry:
    def __init__(
        self, records: list[GatewayRecord], *, max_per_account: int, cap_override: int | None
    ) -> None:
        self._max = max_per_account
        self._cap_override = cap_override
        self._accounts: dict[str, dict[str, LiveGateway]] = {}
        for record in sorted(records, key=lambda r: (r.created_at, r.id)):
            self._accounts.setdefault(record.account_id, {})[record.id] = _live(
                record, cap_override
            )

    def get(self, account_id: str, gateway_id: str) -> LiveGateway | None:
        gateways = self._accounts.get(account_id)
        return None if gateways is None else gateways.get(gateway_id)

    def list(self, account_id: str) -> list[LiveGateway]:
        return list(self._accounts.get(account_id, {}).values())

    def create(
        self, account_id: str, gateway_id: str, settings: GatewaySettings, now: float
    ) -> LiveGateway:
        gateways = self._accounts.setdefault(account_id, {})
        if gateway_id in gateways:
            raise ApiError(
                409,
                CODE_ALREADY_EXISTS,
                f"A gateway with id {gateway_id!r} already exists",
                path=("id",),
            )
        if len(gateways) >= self._max:
            raise ApiError(
                400,
                CODE_TOO_MANY_GATEWAYS,
                f"An account can have at most {self._max} gateways",
            )
        live = _live(GatewayRecord(account_id, gateway_id, settings, now, now), self._cap_override)
        gateways[gateway_id] = live
        return live

    def replace(self, live: LiveGateway, settings: GatewaySettings, now: float) -> LiveGateway:
        record = attrs.evolve(
            live.record, settings=settings, modified_at=max(now, live.record.created_at)
        )
        updated = _live(record, self._cap_override)
        self._accounts[record.account_id][record.id] = updated
        return updated

    def remove(self, account_id: str, gateway_id: str) -> LiveGateway | None:
        return self._accounts.get(account_id, {}).pop(gateway_id, None)


__all__ = ["DEFAULT_GATEWAY_ID", "GatewayRegistry", "LiveGateway"]
