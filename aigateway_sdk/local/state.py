"""Everything one running gateway app holds, built on startup and closed on shutdown."""

from __future__ import annotations

from collections.abc import Mapping

import anyio

from aigateway_sdk.contract.gateway import GatewaySettings
from aigateway_sdk.local.config import LocalGatewayConfig
from aigateway_sdk.local.policies.auth import TokenCheck
from aigateway_sdk.local.policies.cache import ResponseCache
from aigateway_sdk.local.policies.provider_keys import StoredKeys
from aigateway_sdk.local.policies.ratelimit import RateLimiter
from aigateway_sdk.local.policies.spend import SpendLedger
from aigateway_sdk.local.storage import provider_keys
from aigateway_sdk.local.storage.gateways import DEFAULT_GATEWAY_ID, GatewayRegistry, LiveGateway
from aigateway_sdk.local.storage.logbook import Logbook
from aigateway_sdk.local.storage.routes import RouteBook, load_routes
from aigateway_sdk.local.storage.store import Store
from aigateway_sdk.local.storage.ulid import UlidGenerator
from aigateway_sdk.local.upstreams.router import Router
from aigateway_sdk.local.web.errors import CODE_AUTH_ERROR, ApiError, gateway_unauthorized


class AppState:
    def __init__(self, config: LocalGatewayConfig) -> None:
        self.config = config
        self.clock = config.clock
        self.tokens = TokenCheck(config.api_token)
        self.ulids = UlidGenerator()
        self.limiter = RateLimiter()
        self.spend = SpendLedger()
        self.cache = ResponseCache(
            max_entries=config.cache_max_entries,
            max_bytes=config.cache_max_bytes,
            max_entry_bytes=config.cache_max_entry_bytes,
        )
        self.store = Store(config.db_path, batch_max=config.log_batch_max)
        self.logbook = Logbook(self.store, config.log_durability)
        self.stored_keys = StoredKeys(self.tokens, self.clock)
        self._registry: GatewayRegistry | None = None
        self.routes = RouteBook()
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
        self.routes.load(*await self.store.call(load_routes))
        self.stored_keys.load(await self.store.call(provider_keys.load_all))
        self._router.redact_stored(self.stored_keys.registry.secrets())

    async def shutdown(self) -> None:
        if self._router is not None:
            await self._router.aclose()
            self._router = None
        await anyio.to_thread.run_sync(self.store.close)

    def _authenticate(self, settings: GatewaySettings, headers: Mapping[str, str]) -> None:
        """A gateway with `authentication` on wants `cf-aig-authorization: Bearer <token>`."""
        if settings.authentication and not self.tokens.accepts(headers.get("cf-aig-authorization")):
            raise gateway_unauthorized()

    async def data_gateway(
        self, account_id: str, gateway_id: str, headers: Mapping[str, str]
    ) -> LiveGateway:
        """The gateway a data-plane call names, once the call passed its authentication.

        `default` is created on first use, and only for a caller that passes the
        authentication it will have and, with an API token configured, holds that token
        (as `cf-aig-authorization` or `Authorization`): nothing is written for a refused call.
        """
        live = self.registry.get(account_id, gateway_id)
        if live is not None:
            self._authenticate(live.settings, headers)
            return live
        if gateway_id != DEFAULT_GATEWAY_ID or not self.config.auto_default_gateway:
            raise ApiError.not_found(f"Gateway {gateway_id!r}")
        settings = GatewaySettings(authentication=self.config.default_gateway_auth)
        self._authenticate(settings, headers)
        if not self.tokens.open and not (
            self.tokens.accepts(headers.get("cf-aig-authorization"))
            or self.tokens.accepts(headers.get("authorization"))
        ):
            raise ApiError(401, CODE_AUTH_ERROR, "Authentication error")
        live = self.registry.create(account_id, gateway_id, settings, self.clock.now())
        await self.store.call(Store.save_gateway(live.record))
        return live

    def control_gateway(self, account_id: str, gateway_id: str) -> LiveGateway:
        live = self.registry.get(account_id, gateway_id)
        if live is None:
            raise ApiError.not_found(f"Gateway {gateway_id!r}")
        return live


__all__ = ["AppState"]
