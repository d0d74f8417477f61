"""The control plane for provider keys (BYOK):
`/client/v4/accounts/{account_id}/ai-gateway/gateways/{gateway_id}/provider_configs[/{id}]`.

Create (`POST`), list (`GET`, paged), rotate the secret in place (`PUT /{id}`, body
`{"secret": ...}`) and delete (`DELETE /{id}`, returns the deleted config). No reply, log line
or error message holds a secret: configs show a `secret_preview`, errors name fields only.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aigateway_sdk.contract.provider_keys import (
    LIST_MAX_PER_PAGE,
    SETTINGS_FIELDS,
    ProviderKeySettings,
    secret_problem,
)
from aigateway_sdk.local.controlplane.gateways import PREFIX, Handler, guarded
from aigateway_sdk.local.state import AppState
from aigateway_sdk.local.storage import provider_keys as jobs
from aigateway_sdk.local.storage.keyrecord import ProviderKeyRecord
from aigateway_sdk.local.storage.provider_keys import ProviderKeyRegistry
from aigateway_sdk.local.web.body import read_json
from aigateway_sdk.local.web.errors import ApiError, ok
from aigateway_sdk.local.web.params import int_param
from aigateway_sdk.validation import FieldError, ValidationError


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError.invalid([FieldError(("body",), "must be a JSON object")])
    return body


def _secret(body: dict[str, Any], *, required: bool) -> str | None:
    """The body's `secret`, checked; the error names the field, never the value."""
    if "secret" not in body or (body["secret"] is None and not required):
        if required:
            raise ApiError.invalid([FieldError(("secret",), "is required")])
        return None
    problem = secret_problem(body["secret"])
    if problem is not None:
        raise ApiError.invalid([FieldError(("secret",), problem)])
    value: str = body["secret"]
    return value


def _secret_id(body: dict[str, Any]) -> str | None:
    value = body.get("secret_id")
    if value is None:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= 256:
        raise ApiError.invalid([FieldError(("secret_id",), "must be a string of 1 to 256")])
    return value


class ProviderKeysApi:
    def __init__(self, state: AppState) -> None:
        self.state = state

    @property
    def registry(self) -> ProviderKeyRegistry:
        return self.state.stored_keys.registry

    def routes(self) -> list[Route]:
        base = PREFIX + "/gateways/{gateway_id}/provider_configs"
        g = self._guard
        return [
            Route(base, g(self.list_keys), methods=["GET"]),
            Route(base, g(self.create_key), methods=["POST"]),
            Route(base + "/{key_id}", g(self.rotate_key), methods=["PUT"]),
            Route(base + "/{key_id}", g(self.delete_key), methods=["DELETE"]),
        ]

    def _guard(self, handler: Handler) -> Handler:
        return guarded(self.state, handler)

    def _redact_stored(self) -> None:
        self.state.router.redact_stored(self.registry.secrets())

    def _scope(self, request: Request) -> tuple[str, str]:
        params = request.path_params
        return self.state.control_gateway(params["account_id"], params["gateway_id"]).scope

    def _key(self, request: Request) -> ProviderKeyRecord:
        record = self.registry.get(self._scope(request), request.path_params["key_id"])
        if record is None:
            raise ApiError.not_found(f"Provider config {request.path_params['key_id']!r}")
        return record

    async def list_keys(self, request: Request) -> Response:
        scope = self._scope(request)
        page = int_param(request.query_params, "page", 1, 1)
        per_page = int_param(request.query_params, "per_page", 20, 1, LIST_MAX_PER_PAGE)
        keys = self.registry.list(scope)
        chunk = keys[(page - 1) * per_page : page * per_page]
        info = {
            "page": page,
            "per_page": per_page,
            "count": len(chunk),
            "total_count": len(keys),
            "total_pages": max(1, -(-len(keys) // per_page)),
        }
        return ok([record.to_json() for record in chunk], info)

    async def create_key(self, request: Request) -> Response:
        scope = self._scope(request)
        body = _object(await read_json(request, self.state.config.max_body_bytes))
        try:
            settings = ProviderKeySettings.from_json(body)
        except ValidationError as error:
            raise ApiError.invalid(error.errors) from None
        secret, secret_id = _secret(body, required=False), _secret_id(body)
        record = self.registry.create(scope, settings, secret, secret_id, self.state.clock.now())
        self._redact_stored()
        try:
            await self.state.store.call(jobs.save(record))
        except Exception:
            self.registry.remove(record)
            self._redact_stored()
            raise
        return ok(record.to_json())

    async def rotate_key(self, request: Request) -> Response:
        """A new secret for the key (Cloudflare's `PUT`); its settings cannot change in place:
        a body field that differs from the key's own is a 400 naming it."""
        record = self._key(request)
        body = _object(await read_json(request, self.state.config.max_body_bytes))
        held = record.settings.to_json()
        changed = [
            FieldError((name,), "cannot change in place: delete the key and create it again")
            for name in SETTINGS_FIELDS
            if name in body and body[name] != held[name]
        ]
        if changed:
            raise ApiError.invalid(changed)
        secret = _secret(body, required=True)
        assert secret is not None
        updated = self.registry.rotate(record, secret, self.state.clock.now())
        self._redact_stored()
        try:
            await self.state.store.call(jobs.save(updated))
        except Exception:
            self.registry.put_back(record)
            self._redact_stored()
            raise
        return ok(updated.to_json())

    async def delete_key(self, request: Request) -> Response:
        record = self._key(request)
        self.registry.remove(record)
        self._redact_stored()
        await self.state.store.call(jobs.remove(record))
        return ok(record.to_json())


__all__ = ["ProviderKeysApi"]
