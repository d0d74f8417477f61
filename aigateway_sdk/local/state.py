"""Everything one running gateway app holds, built on startup and closed on shutdown."""

from __future__ import annotations

import anyio

from aigateway_sdk.control.spec import GatewaySettings
from aigateway_sdk.local.auth import TokenCheck
from aigateway_sdk.local.cache import ResponseCache
from aigateway_sdk.local.config import LocalGatewayConfig
from aigateway_sdk.local.errors import ApiError
from aigateway_sdk.local.gateways import DEFAULT_GATEWAY_ID, GatewayRegistry, LiveGateway
from aigateway_sdk.local.logbook import Logbook
from aigateway_sdk.local.ratelimit import RateLimiter
from aigateway_sdk.local.store import Store
from aigateway_sdk.local.ulid import UlidGenerator
from aigateway_sdk.local.upstreams.router import Router


class AppState:
    def __init__(self, config: LocalGatewayConfig) -> None:
        self.config = config
        self.clock = config.clock
        self.tokens = TokenCheck(config.api_token)
        self.ulids = UlidGenerator()
        self.limiter = RateLimiter()
        self.cache = ResponseCache(
            max_entries=config.cache_max_entries,
            max_bytes=config.cache_max_bytes,
            max_entry_bytes=config.cache_max_entry_bytes,
        )
        self.store = Store(config.db_path, batch_max=config.log_batch_max)
        self.logbook = Logbook(self.store, config.log_durability)
        self._registry: GatewayRegistry | None = None
        self._router: Router | None = None

    @property
    def registry(self) -> GatewayRegistry:
        assert self._registry is not None, "the app has not started"
        return self._registry

    @property
    def router(self) -> Router:
        assert self._router is not None, "the app has not started"
        return self._router

    async def startup(self) -> None:
        records = await anyio.to_thread.run_sync(self.store.open)
        self._registry = GatewayRegistry(
            records,
            max_per_account=self.config.max_gateways_per_account,
            cap_override=self.config.log_cap_override,
        )
        self._router = Router(self.config)

    async def shutdown(self) -> None:
        if self._router is not None:
            await self._router.aclose()
            self._router = None
        await anyio.to_thread.run_sync(self.store.close)

    async def data_gateway(self, account_id: str, gateway_id: str) -> LiveGateway:
        """The gateway a data-plane call names; `default` is created on first use."""
        live = self.registry.get(account_id, gateway_id)
        if live is not None:
            return live
        if gateway_id != DEFAULT_GATEWAY_ID or not self.config.auto_default_gateway:
            raise ApiError.not_found(f"Gateway {gateway_id!r}")
        settings = GatewaySettings(authentication=self.config.default_gateway_auth)
        live = self.registry.create(account_id, gateway_id, settings, self.clock.now())
        await self.store.call(Store.save_gateway(live.record))
        return live

    def control_gateway(self, account_id: str, gateway_id: str) -> LiveGateway:
        live = self.registry.get(account_id, gateway_id)
        if live is None:
            raise ApiError.not_found(f"Gateway {gateway_id!r}")
        return live


__all__ = ["AppState"]
