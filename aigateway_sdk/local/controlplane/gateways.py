"""The control plane for gateways: `/client/v4/accounts/{account_id}/ai-gateway/gateways...`.

Bodies are checked once, by `GatewaySettings.from_json` (`aigateway_sdk.contract.gateway`: the
same rules as the SDK's `AiGateway`).
Every reply is Cloudflare's envelope. `PUT` is an in-place update: fields missing from the
body keep their current values, `created_at` stays, `modified_at` moves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aigateway_sdk.contract.gateway import SETTINGS_RULES, GatewaySettings
from aigateway_sdk.local.state import AppState
from aigateway_sdk.local.storage.store import Store
from aigateway_sdk.local.web.body import read_json
from aigateway_sdk.local.web.errors import CODE_AUTH_ERROR, ApiError, ok
from aigateway_sdk.local.web.params import int_param
from aigateway_sdk.validation import FieldError, ValidationError

Handler = Callable[[Request], Awaitable[Response]]
PREFIX = "/client/v4/accounts/{account_id}/ai-gateway"
MAX_PER_PAGE = 1000


def guarded(state: AppState, handler: Handler) -> Handler:
    """Require the api token as `Authorization: Bearer`, `X-Auth-Key` (with `X-Auth-Email`) or
    `X-Auth-User-Service-Key`; with none set, any of Cloudflare's credential headers."""

    async def endpoint(request: Request) -> Response:
        if not state.tokens.accepts_api(request.headers):
            raise ApiError(401, CODE_AUTH_ERROR, "Authentication error")
        return await handler(request)

    return endpoint


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError.invalid([FieldError(("body",), "must be a JSON object")])
    return body


def _settings(body: dict[str, Any], *, creating: bool) -> GatewaySettings:
    """The settings of a JSON body, or a 400 naming every bad field."""
    try:
        return GatewaySettings.from_json(body, creating=creating)
    except ValidationError as error:
        raise ApiError.invalid(error.errors) from None


class ControlPlane:
    def __init__(self, state: AppState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        g = self._guard
        base = PREFIX + "/gateways"
        return [
            Route(base, g(self.list_gateways), methods=["GET"]),
            Route(base, g(self.create_gateway), methods=["POST"]),
            Route(base + "/{gateway_id}", g(self.get_gateway), methods=["GET"]),
            Route(base + "/{gateway_id}", g(self.update_gateway), methods=["PUT"]),
            Route(base + "/{gateway_id}", g(self.delete_gateway), methods=["DELETE"]),
            Route(base + "/{gateway_id}/url/{provider}", g(self.gateway_url), methods=["GET"]),
        ]

    def _guard(self, handler: Handler) -> Handler:
        return guarded(self.state, handler)

    async def list_gateways(self, request: Request) -> Response:
        query = request.query_params
        page = int_param(query, "page", 1, 1)
        per_page = int_param(query, "per_page", 20, 1, MAX_PER_PAGE)
        search = query.get("search") or ""
        gateways = [
            live.record
            for live in self.state.registry.list(request.path_params["account_id"])
            if search in live.record.id
        ]
        chunk = gateways[(page - 1) * per_page : page * per_page]
        info = {
            "page": page,
            "per_page": per_page,
            "count": len(chunk),
            "total_count": len(gateways),
        }
        return ok([record.to_json() for record in chunk], info)

    async def create_gateway(self, request: Request) -> Response:
        body = _object(await read_json(request, self.state.config.max_body_bytes))
        settings = _settings(body, creating=True)
        live = self.state.registry.create(
            request.path_params["account_id"], body["id"], settings, self.state.clock.now()
        )
        try:
            await self.state.store.call(Store.save_gateway(live.record))
        except Exception:
            self.state.registry.remove(*live.scope)
            raise
        return ok(live.record.to_json())

    async def get_gateway(self, request: Request) -> Response:
        params = request.path_params
        live = self.state.control_gateway(params["account_id"], params["gateway_id"])
        return ok(live.record.to_json())

    async def update_gateway(self, request: Request) -> Response:
        params = request.path_params
        body = _object(await read_json(request, self.state.config.max_body_bytes))
        live = self.state.control_gateway(params["account_id"], params["gateway_id"])
        merged = live.settings.settings_json()
        merged.update({name: body[name] for name in SETTINGS_RULES if name in body})
        settings = _settings(merged, creating=False)
        old = live.settings
        updated = self.state.registry.replace(live, settings, self.state.clock.now())
        if old.cache_invalidate_on_update or settings.cache_invalidate_on_update:
            self.state.cache.drop_scope(updated.scope)
        await self.state.store.call(Store.save_gateway(updated.record))
        return ok(updated.record.to_json())

    async def delete_gateway(self, request: Request) -> Response:
        params = request.path_params
        live = self.state.control_gateway(params["account_id"], params["gateway_id"])
        self.state.registry.remove(*live.scope)
        self.state.cache.drop_scope(live.scope)
        self.state.limiter.forget(live.scope)
        self.state.spend.forget(live.scope)
        self.state.routes.forget(live.scope)
        self.state.stored_keys.registry.forget(live.scope)
        self.state.router.redact_stored(self.state.stored_keys.registry.secrets())
        await self.state.store.call(self.state.store.remove_gateway(*live.scope))
        return ok(live.record.to_json())

    async def gateway_url(self, request: Request) -> Response:
        params = request.path_params
        live = self.state.control_gateway(params["account_id"], params["gateway_id"])
        base = str(request.base_url).rstrip("/")
        return ok(f"{base}/v1/{live.record.account_id}/{live.record.id}/{params['provider']}")


__all__ = ["ControlPlane", "guarded"]
