"""`GatewayAdmin`: gateways of one account over the control plane, and plan/apply of specs.

    async with GatewayAdmin(account_id, api_token) as admin:
        plan = await admin.plan(Gateway)      # Create / Update(changes) / NoChange
        result = await admin.apply(Gateway)   # carries the plan out, in place
        async for entry in admin.logs(Gateway).list(filters=[LogFilter("success", "eq", False)]):
            ...

Construction does no I/O: the pooled `httpx.AsyncClient` is opened on the first call and
closed by `aclose()` (or leaving `async with`). A client passed in is used as is and left
open. Every failure raises `AiError` with a typed reason.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Literal

import attrs
import httpx

from aigateway_sdk.control._api import (
    DEFAULT_BASE_URL,
    ControlApi,
    classify_create,
    deleted,
    iterate_pages,
    or_none,
    segment,
)
from aigateway_sdk.control.logs import LogsClient
from aigateway_sdk.control.models import Gateway
from aigateway_sdk.control.plan import Create, NoChange, Plan, Update, plan_for
from aigateway_sdk.control.provider_keys_client import ProviderKeysClient
from aigateway_sdk.control.routes_admin import RouteAdmin
from aigateway_sdk.control.spec import AiGateway
from aigateway_sdk.errors import AiError, Conflict, NotFound
from aigateway_sdk.transport.client import AsyncClosing
from aigateway_sdk.transport.retry import RetryPolicy

ApplyAction = Literal["created", "updated", "unchanged"]

_APPLY_ATTEMPTS = 3


@attrs.frozen(slots=True)
class ApplyResult:
    """What `apply` did: the plan it carried out and the gateway as it now is."""

    plan: Plan
    gateway: Gateway

    @property
    def action(self) -> ApplyAction:
        if isinstance(self.plan, Create):
            return "created"
        return "updated" if isinstance(self.plan, Update) else "unchanged"

    @property
    def changed(self) -> bool:
        return self.action != "unchanged"

    def to_json(self) -> dict[str, Any]:
        return {**self.plan.to_json(), "result": self.action, "gateway": self.gateway.to_json()}


def _gateway_id(target: AiGateway | Gateway | str) -> str:
    return target if isinstance(target, str) else target.id


class GatewayAdmin(AsyncClosing):
    """Create, read, update and delete an account's gateways; plan and apply `AiGateway` specs."""

    def __init__(
        self,
        account_id: str,
        api_token: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        client: httpx.AsyncClient | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._api = ControlApi(
            account_id,
            api_token,
            base_url,
            client=client,
            retry=retry,
            timeout=timeout,
            transport=transport,
        )

    @property
    def account_id(self) -> str:
        return self._api.account_id

    async def aclose(self) -> None:
        """Close the HTTP client if this admin opened it (a later call opens a new one)."""
        await self._api.aclose()

    # -- CRUD ---------------------------------------------------------------------------

    async def get(self, gateway_id: str) -> Gateway:
        """The gateway `gateway_id`; `AiError(NotFound)` when there is none."""
        envelope = await self._api.call("GET", f"/gateways/{segment(gateway_id)}")
        return Gateway.from_api(envelope.result)

    async def find(self, gateway_id: str) -> Gateway | None:
        """The gateway `gateway_id`, or None when there is none."""
        return await or_none(self.get(gateway_id))

    def list(self, *, per_page: int = 50, search: str | None = None) -> AsyncIterator[Gateway]:
        """Every gateway of the account, page after page (`per_page` a request)."""
        query = [] if search is None else [("search", search)]
        return iterate_pages(
            self._api,
            "/gateways",
            query=query,
            per_page=per_page,
            decode=Gateway.from_api,
            what="gateway list",
        )

    async def create(self, spec: AiGateway) -> Gateway:
        """Create the gateway `spec.id`; `AiError(Conflict)` when it already exists.

        Retries what the policy retries, except a conflict: a create is not repeated once
        the server said the id is taken.
        """
        envelope = await self._api.call(
            "POST", "/gateways", json_body=spec.create_json(), classify=classify_create
        )
        return Gateway.from_api(envelope.result)

    async def update(self, spec: AiGateway) -> Gateway:
        """Replace every setting of the existing gateway `spec.id` (PUT, in place)."""
        envelope = await self._api.call(
            "PUT", f"/gateways/{segment(spec.id)}", json_body=spec.settings_json()
        )
        return Gateway.from_api(envelope.result)

    async def delete(self, gateway_id: str) -> None:
        """Delete the gateway `gateway_id`; `AiError(NotFound)` when there is none."""
        await self._api.call("DELETE", f"/gateways/{segment(gateway_id)}")

    # -- specs --------------------------------------------------------------------------

    async def plan(self, spec: AiGateway) -> Plan:
        """What `apply(spec)` would do now: `Create`, `Update` (with each change) or `NoChange`."""
        return plan_for(spec, await self.find(spec.id))

    async def apply(self, spec: AiGateway) -> ApplyResult:
        """Make the gateway match `spec`: create it, or update it in place, or leave it.

        Never deletes. Applying twice is a no-op. Safe to run concurrently with another
        apply of the same gateway: a create that loses the race, or an update whose gateway
        vanished, plans again and goes on from what is there.
        """
        attempt = 1
        while True:
            plan = await self.plan(spec)
            try:
                if isinstance(plan, Create):
                    return ApplyResult(plan, await self.create(spec))
                if isinstance(plan, Update):
                    return ApplyResult(plan, await self.update(spec))
                assert isinstance(plan, NoChange)
                return ApplyResult(plan, plan.current)
            except AiError as error:
                raced = (isinstance(plan, Create) and isinstance(error.reason, Conflict)) or (
                    isinstance(plan, Update) and isinstance(error.reason, NotFound)
                )
                if not raced or attempt >= _APPLY_ATTEMPTS:
                    raise
                attempt += 1

    async def destroy(self, spec: AiGateway | str) -> bool:
        """Delete the spec's gateway. True if it was deleted, False if it was already gone."""
        return await deleted(self.delete(_gateway_id(spec)))

    def routes(self, gateway: AiGateway | Gateway | str) -> RouteAdmin:
        """The dynamic routes of a gateway (by spec, gateway or id), sharing this admin's
        client: CRUD, versions, deployments, and plan/apply of `AiRoute` specs."""
        return RouteAdmin(self._api, _gateway_id(gateway))

    def logs(self, gateway: AiGateway | Gateway | str) -> LogsClient:
        """The request log of a gateway (by spec, gateway or id), sharing this admin's client."""
        return LogsClient(self._api, _gateway_id(gateway))

    def provider_keys(self, gateway: AiGateway | Gateway | str) -> ProviderKeysClient:
        """The provider keys (BYOK) of a gateway, sharing this admin's client."""
        return ProviderKeysClient(self._api, _gateway_id(gateway))


async def ensure_gateway(admin: GatewayAdmin, spec: AiGateway) -> Gateway:
    """Apply `spec` and return the gateway: what a binding does on start-up when asked to."""
    return (await admin.apply(spec)).gateway


__all__ = ["ApplyAction", "ApplyResult", "GatewayAdmin", "ensure_gateway"]
