"""Routes as code against the local gateway over real HTTP: plan/apply/re-plan, a new version
only for a real change, racing applies, destroy, and typed errors."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest

from aigateway_sdk.contract.routes import End, Model, Start
from aigateway_sdk.control import AiGateway, GatewayAdmin
from aigateway_sdk.control.routes_admin import RouteAdmin
from aigateway_sdk.control.routes_plan import CreateRoute, NewRouteVersion, RouteNoChange
from aigateway_sdk.control.routes_spec import AiRoute
from aigateway_sdk.errors import AiError, NotFound
from aigateway_sdk.local import LocalGateway

from .conftest import TOKEN

pytestmark = pytest.mark.anyio

LLAMA = "@cf/meta/llama-3.1-8b-instruct"


def spec(gateway: AiGateway, model: str = LLAMA, timeout: int = 30000) -> AiRoute:
    return AiRoute(
        "support",
        gateway=gateway,
        elements=[
            Start("start", next="m"),
            Model("m", provider="workers-ai", model=model, success="end", timeout=timeout),
            End("end"),
        ],
    )


@pytest.fixture
async def setup(
    gw: LocalGateway, account: str, gateway_id: str
) -> AsyncIterator[tuple[GatewayAdmin, AiGateway, RouteAdmin]]:
    gateway = AiGateway("Prod", id=gateway_id)
    async with GatewayAdmin(account, TOKEN, gw.api_url) as admin:
        await admin.apply(gateway)
        yield admin, gateway, admin.routes(gateway)


async def test_plan_apply_replan_destroy(
    setup: tuple[GatewayAdmin, AiGateway, RouteAdmin],
) -> None:
    _, gateway, routes = setup
    assert isinstance(await routes.plan(spec(gateway)), CreateRoute)
    created = await routes.apply(spec(gateway))
    assert created.action == "created"
    assert created.route.elements == spec(gateway).elements
    assert created.route.deployed_version_id is not None
    assert isinstance(await routes.plan(spec(gateway)), RouteNoChange)
    assert (await routes.apply(spec(gateway))).action == "unchanged"

    changed = await routes.apply(spec(gateway, timeout=45000))
    assert changed.action == "new-version"
    assert isinstance(changed.plan, NewRouteVersion)
    versions = await routes.list_versions(changed.route)
    assert len(versions) == 2
    assert [v.version_id for v in versions if v.active] == [changed.route.deployed_version_id]
    assert len(await routes.list_deployments(changed.route)) == 2

    assert await routes.destroy(spec(gateway)) is True
    assert await routes.destroy(spec(gateway)) is False


async def test_racing_applies_make_one_version_per_change(
    gw: LocalGateway, account: str, setup: tuple[GatewayAdmin, AiGateway, RouteAdmin]
) -> None:
    _, gateway, routes = setup
    actions: list[str] = []

    async def apply(route: AiRoute) -> None:
        async with GatewayAdmin(account, TOKEN, gw.api_url) as other:
            actions.append((await other.routes(gateway).apply(route)).action)

    for route, expected in (
        (spec(gateway), ["created", "unchanged"]),
        (spec(gateway, timeout=20000), ["new-version", "unchanged"]),
    ):
        actions.clear()
        async with anyio.create_task_group() as tg:
            tg.start_soon(apply, route)
            tg.start_soon(apply, route)
        assert sorted(actions) == expected
    found = await routes.find("support")
    assert found is not None
    assert len(await routes.list_versions(found)) == 2


async def test_unknown_route_and_version_are_not_found(
    setup: tuple[GatewayAdmin, AiGateway, RouteAdmin],
) -> None:
    _, gateway, routes = setup
    route = (await routes.apply(spec(gateway))).route
    for call in (routes.get("no-such-route"), routes.get_version(route, "no-such-version")):
        with pytest.raises(AiError) as caught:
            await call
        assert isinstance(caught.value.reason, NotFound)
