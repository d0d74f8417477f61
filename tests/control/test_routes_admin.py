"""`RouteAdmin` (CRUD, versions, deployments, plan/apply/destroy) against an in-memory routes
API in Cloudflare's shapes (`routes_fake.py`).

Re-point to the local gateway once it serves routes: build the admin with
`GatewayAdmin(account, TOKEN, gw.api_url)` (tests/control/conftest.py) instead of
`admin_for(fake)`; the tests that read `fake.*` state check it through the API instead
(`list_versions`, `list_deployments`). The race tests that step in between requests
(`before_request`, `after_version_created`) stay on the fake.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest

from aigateway_sdk.contract.routes import End, Model, Start
from aigateway_sdk.control.admin import GatewayAdmin
from aigateway_sdk.control.routes_admin import RouteAdmin
from aigateway_sdk.control.routes_plan import CreateRoute, NewRouteVersion, RouteNoChange
from aigateway_sdk.control.routes_spec import AiRoute
from aigateway_sdk.control.spec import AiGateway
from aigateway_sdk.errors import AiError, AuthenticationFailed, MalformedOutput, NotFound
from aigateway_sdk.transport.retry import RetryPolicy
from aigateway_sdk.validation import ValidationError

from .routes_fake import BASE, FakeRoutes

pytestmark = pytest.mark.anyio

LLAMA = "@cf/meta/llama-3.1-8b-instruct"
FAST = RetryPolicy(max_retries=1, initial_delay=0.0, jitter=0.0)
Gateway = AiGateway("Prod", id="prod")


def spec(name: str = "support", model: str = LLAMA, timeout: int = 30000) -> AiRoute:
    return AiRoute(
        name,
        gateway=Gateway,
        elements=[
            Start("start", next="m"),
            Model("m", provider="workers-ai", model=model, success="end", timeout=timeout),
            End("end"),
        ],
    )


def admin_for(fake: FakeRoutes, *, account: str = "acct", token: str = "tok") -> GatewayAdmin:
    return GatewayAdmin(account, token, BASE, client=fake.client(), retry=FAST)


@pytest.fixture
def fake() -> FakeRoutes:
    return FakeRoutes()


@pytest.fixture
async def routes(fake: FakeRoutes) -> AsyncIterator[RouteAdmin]:
    async with admin_for(fake) as admin:
        yield admin.routes(Gateway)


def calls(fake: FakeRoutes) -> list[tuple[str, str]]:
    root = "/client/v4/accounts/acct/ai-gateway/gateways/prod/routes"
    return [(r.method, r.url.path.removeprefix(root) or "/") for r in fake.requests]


# -- CRUD -------------------------------------------------------------------------------------


async def test_create_sends_cloudflares_body_and_reads_the_route(
    fake: FakeRoutes, routes: RouteAdmin
) -> None:
    route = await routes.create(spec())
    request = fake.requests[0]
    assert (request.method, request.url.path) == (
        "POST",
        "/client/v4/accounts/acct/ai-gateway/gateways/prod/routes",
    )
    assert request.headers["authorization"] == "Bearer tok"
    assert json.loads(request.content) == spec().create_json()
    assert (route.name, route.gateway_id) == ("support", "prod")
    assert route.elements == spec().elements
    assert route.deployment is not None
    assert route.version is not None
    assert route.version.active is True  # Cloudflare's "true"
    assert route.deployed_version_id == route.version.version_id
    assert route.account_tag == "acct"


async def test_get_find_and_list(fake: FakeRoutes, routes: RouteAdmin) -> None:
    made = [await routes.create(spec(f"r{i}")) for i in range(5)]
    assert await routes.get(made[2].id) == made[2]
    found = await routes.find("r3")
    assert found is not None
    assert found.id == made[3].id
    assert await routes.find("absent") is None
    listed = [r.name async for r in routes.list(per_page=2)]
    assert listed == [f"r{i}" for i in range(5)]
    pages = [r.url.params.get("page") for r in fake.requests if r.method == "GET"][-3:]
    assert pages == ["1", "2", "3"]


async def test_a_list_beside_result_is_read_too() -> None:
    fake = FakeRoutes(list_in_result=False)  # `{"success": true, "data": {...}}`
    async with admin_for(fake) as admin:
        await admin.routes(Gateway).create(spec())
        assert [r.name async for r in admin.routes("prod").list()] == ["support"]


async def test_a_server_ignoring_page_does_not_loop_forever(fake: FakeRoutes) -> None:
    async with admin_for(fake) as admin:
        made = [await admin.routes("prod").create(spec(f"r{i}")) for i in range(2)]
    page = fake.route_json(fake.routes[made[0].id]), fake.route_json(fake.routes[made[1].id])

    def same_page(request: httpx.Request) -> httpx.Response:
        data = {"routes": list(page), "page": 1, "per_page": 2}
        return httpx.Response(200, json={"success": True, "result": {"data": data}})

    client = httpx.AsyncClient(transport=httpx.MockTransport(same_page))
    async with GatewayAdmin("acct", "tok", BASE, client=client, retry=FAST) as admin:
        assert [r.name async for r in admin.routes("prod").list(per_page=2)] == ["r0", "r1"]


def test_a_bad_page_size_is_refused_when_asked(fake: FakeRoutes) -> None:
    admin = admin_for(fake)
    with pytest.raises(ValidationError, match="per_page"):
        admin.routes("prod").list(per_page=0)
    assert fake.requests == []


async def test_update_renames_with_a_patch(fake: FakeRoutes, routes: RouteAdmin) -> None:
    route = await routes.create(spec())
    renamed = await routes.update(route, name="helpdesk")
    assert renamed.name == "helpdesk"
    assert json.loads(fake.requests[-1].content) == {"name": "helpdesk"}
    assert fake.requests[-1].method == "PATCH"
    with pytest.raises(ValidationError, match="name"):
        await routes.update(route, name="no spaces")
    assert fake.requests[-1].method == "PATCH"  # refused before sending


async def test_delete_and_destroy(routes: RouteAdmin) -> None:
    route = await routes.create(spec())
    await routes.delete(route)
    with pytest.raises(AiError) as caught:
        await routes.get(route.id)
    assert isinstance(caught.value.reason, NotFound)
    with pytest.raises(AiError) as caught:
        await routes.delete(route.id)
    assert isinstance(caught.value.reason, NotFound)
    await routes.create(spec())
    assert await routes.destroy(spec()) is True
    assert await routes.destroy("support") is False


async def test_unknown_ids_are_not_found(routes: RouteAdmin) -> None:
    for call in (
        routes.get("nope"),
        routes.list_versions("nope"),
        routes.get_version("nope", "v1"),
        routes.create_deployment("nope", "v1"),
    ):
        with pytest.raises(AiError) as caught:
            await call
        assert isinstance(caught.value.reason, NotFound)


async def test_ids_with_slashes_stay_one_path_segment(fake: FakeRoutes, routes: RouteAdmin) -> None:
    with pytest.raises(AiError):
        await routes.get("../../gateways")
    assert fake.requests[-1].url.raw_path.endswith(b"/routes/..%2F..%2Fgateways")


async def test_wrong_account_and_token(fake: FakeRoutes) -> None:
    async with admin_for(fake, account="other") as admin:
        with pytest.raises(AiError) as caught:
            await admin.routes("prod").create(spec())
        assert isinstance(caught.value.reason, NotFound)
    async with admin_for(fake, token="wrong") as admin:
        with pytest.raises(AiError) as caught:
            await admin.routes("prod").get("r1")
        assert isinstance(caught.value.reason, AuthenticationFailed)


async def test_a_spec_of_another_gateway_is_refused(fake: FakeRoutes) -> None:
    async with admin_for(fake) as admin:
        with pytest.raises(ValidationError, match="gateway_id"):
            await admin.routes("elsewhere").apply(spec())
    assert fake.requests == []


# -- versions and deployments -----------------------------------------------------------------


async def test_versions_and_deployments(fake: FakeRoutes, routes: RouteAdmin) -> None:
    route = await routes.create(spec())
    await routes.create_version(route, spec(model="@cf/other"))
    versions = await routes.list_versions(route)
    assert [v.active for v in versions] == [True, False]
    assert versions[1].elements == spec(model="@cf/other").elements  # read from `data`
    one = await routes.get_version(route, versions[1].version_id)
    assert one.elements == spec(model="@cf/other").elements
    await routes.create_deployment(route, versions[1].version_id)
    deployments = await routes.list_deployments(route)
    assert [d.version_id for d in deployments] == [versions[0].version_id, versions[1].version_id]
    assert (await routes.get(route)).elements == spec(model="@cf/other").elements


# -- plan / apply -----------------------------------------------------------------------------


async def test_plan_apply_replan(fake: FakeRoutes, routes: RouteAdmin) -> None:
    assert isinstance(await routes.plan(spec()), CreateRoute)
    created = await routes.apply(spec())
    assert created.action == "created"
    assert created.route.elements == spec().elements

    before = len(fake.requests)
    again = await routes.apply(spec())
    assert again.action == "unchanged"
    assert not again.changed
    assert isinstance(again.plan, RouteNoChange)
    assert all(r.method == "GET" for r in fake.requests[before:])  # nothing written

    changed = await routes.apply(spec(model="@cf/other"))
    assert changed.action == "new-version"
    assert isinstance(changed.plan, NewRouteVersion)
    assert changed.route.elements == spec(model="@cf/other").elements
    route_id = created.route.id
    assert len(fake.versions_of(route_id)) == 2
    assert changed.route.deployed_version_id == fake.versions_of(route_id)[1]["version_id"]

    back = await routes.apply(spec())  # back to the first graph: a third version
    assert back.action == "new-version"
    assert back.route.deployed_version_id == fake.versions_of(route_id)[2]["version_id"]
    assert (await routes.apply(spec())).action == "unchanged"


async def test_a_graph_written_differently_makes_no_version(
    fake: FakeRoutes, routes: RouteAdmin
) -> None:
    route = (await routes.apply(spec())).route
    stored = fake.versions_of(route.id)[0]["elements"]
    stored[1]["properties"]["timeout"] = 30000.0  # as a server keeping floats would answer
    stored.reverse()
    assert (await routes.apply(spec())).action == "unchanged"
    assert len(fake.versions_of(route.id)) == 1


async def test_apply_result_json(routes: RouteAdmin) -> None:
    body = (await routes.apply(spec())).to_json()
    assert body["result"] == "created"
    assert body["action"] == "create"
    assert body["route"]["name"] == "support"
    assert body["route"]["elements"] == spec().elements_json()
    json.dumps(body)  # plain JSON


@pytest.mark.parametrize("separate_admins", [False, True])
async def test_racing_applies_of_one_spec_make_one_route_then_one_version(
    fake: FakeRoutes, separate_admins: bool
) -> None:
    admins = [admin_for(fake), admin_for(fake)]
    pick = admins if separate_admins else [admins[0], admins[0]]
    actions: list[str] = []

    async def apply(admin: GatewayAdmin, route: AiRoute) -> None:
        actions.append((await admin.routes(Gateway).apply(route)).action)

    async with anyio.create_task_group() as tg:
        for admin in pick:
            tg.start_soon(apply, admin, spec())
    assert sorted(actions) == ["created", "unchanged"]
    assert len(fake.routes) == 1

    actions.clear()
    async with anyio.create_task_group() as tg:
        for admin in pick:
            tg.start_soon(apply, admin, spec(model="@cf/other"))
    assert sorted(actions) == ["new-version", "unchanged"]
    (route_id,) = fake.routes
    assert len(fake.versions_of(route_id)) == 2  # one version per real change
    assert len(fake.routes[route_id]["deployments"]) == 2
    for admin in admins:
        await admin.aclose()


async def test_a_create_losing_to_another_process_goes_on_from_the_winner(
    fake: FakeRoutes, routes: RouteAdmin
) -> None:
    """Another process creates the same name between our plan and our create: the server
    answers 409, the apply plans again and finds the route up to date."""

    async def other_process_first(request: httpx.Request) -> None:
        if request.method == "POST" and request.url.path.endswith("/routes"):
            fake.before_request = None
            fake.create_now("prod", spec().create_json())

    fake.before_request = other_process_first
    result = await routes.apply(spec())
    assert result.action == "unchanged"
    assert len(fake.routes) == 1


async def test_a_duplicate_the_server_allowed_is_deleted_again() -> None:
    """A server that allows two routes of one name: the later create deletes its own."""
    fake = FakeRoutes(unique_names=False)

    async def other_process_first(request: httpx.Request) -> None:
        if request.method == "POST" and request.url.path.endswith("/routes"):
            fake.before_request = None
            fake.create_now("prod", spec().create_json())

    fake.before_request = other_process_first
    async with admin_for(fake) as admin:
        result = await admin.routes(Gateway).apply(spec())
    assert result.action == "unchanged"
    assert len(fake.routes) == 1
    assert result.route.id == next(iter(fake.routes))


async def test_a_graph_another_process_deployed_first_is_not_deployed_again(
    fake: FakeRoutes, routes: RouteAdmin
) -> None:
    route = (await routes.apply(spec())).route

    def other_process(fake: FakeRoutes, route_id: str) -> None:
        fake.after_version_created = None
        fake.deploy(route_id, fake.add_version(route_id, spec(model="@cf/other").elements_json()))

    fake.after_version_created = other_process
    result = await routes.apply(spec(model="@cf/other"))
    assert result.route.elements == spec(model="@cf/other").elements
    assert len(fake.routes[route.id]["deployments"]) == 2  # the other process's only


async def test_a_route_deleted_during_apply_is_created_again(
    fake: FakeRoutes, routes: RouteAdmin
) -> None:
    await routes.apply(spec())

    async def delete_it(request: httpx.Request) -> None:
        if request.method == "POST" and request.url.path.endswith("/versions"):
            fake.before_request = None
            fake.routes.clear()

    fake.before_request = delete_it
    result = await routes.apply(spec(model="@cf/other"))
    assert result.action == "created"
    assert result.route.elements == spec(model="@cf/other").elements


# -- malformed replies ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        {"success": True, "result": {"name": "no id"}},
        {"success": True, "result": None},
        {"success": True, "result": {"id": "r", "name": "n", "gateway_id": "g", "elements": "x"}},
        {"success": True, "result": {"data": {"routes": "not a list"}}},
        ["not", "an", "envelope"],
    ],
)
async def test_malformed_replies_are_malformed_output(reply: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=reply)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with GatewayAdmin("acct", "tok", BASE, client=client, retry=FAST) as admin:
        routes = admin.routes("prod")
        with pytest.raises(AiError) as caught:
            if isinstance(reply, dict) and "data" in (reply.get("result") or {}):
                [r async for r in routes.list()]
            else:
                await routes.get("r")
        assert isinstance(caught.value.reason, MalformedOutput)


async def test_a_server_error_envelope_is_a_typed_error(routes: RouteAdmin) -> None:
    bad = {"name": "x", "elements": [{"id": "start", "type": "start", "outputs": {}}]}

    with pytest.raises(AiError) as caught:
        await routes._api.call("POST", routes._base, json_body=bad)
    assert caught.value.status == 400
    assert "outputs.next" in str(caught.value)
