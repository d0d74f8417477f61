"""`RouteAdmin` against the local gateway over real HTTP: CRUD, versions, deployments,
plan/apply/destroy, typed errors, and the requests it sends (recorded by an httpx event hook
on a real client).

What a server cannot be made to do on cue stays on the in-memory fake (`routes_fake.py`):
another process stepping in between two of the SDK's requests, a server allowing duplicate
names, and malformed replies (inline `httpx.MockTransport` handlers).
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
from aigateway_sdk.local import LocalGateway
from aigateway_sdk.transport.retry import RetryPolicy
from aigateway_sdk.validation import ValidationError

from .conftest import TOKEN
from .routes_fake import BASE, FakeRoutes

pytestmark = pytest.mark.anyio

LLAMA = "@cf/meta/llama-3.1-8b-instruct"
FAST = RetryPolicy(max_retries=1, initial_delay=0.0, jitter=0.0)
FakeGateway = AiGateway("Prod", id="prod")


def spec(
    gateway: AiGateway, name: str = "support", model: str = LLAMA, timeout: int = 30000
) -> AiRoute:
    return AiRoute(
        name,
        gateway=gateway,
        elements=[
            Start("start", next="m"),
            Model("m", provider="workers-ai", model=model, success="end", timeout=timeout),
            End("end"),
        ],
    )


class Recorder:
    """A real client to the local gateway that keeps every request it sends."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.client = httpx.AsyncClient(event_hooks={"request": [self._keep]}, timeout=20)

    async def _keep(self, request: httpx.Request) -> None:
        self.requests.append(request)


class Setup:
    def __init__(self, gateway: AiGateway, routes: RouteAdmin, seen: Recorder) -> None:
        self.gateway, self.routes, self.seen = gateway, routes, seen

    def spec(self, name: str = "support", model: str = LLAMA, timeout: int = 30000) -> AiRoute:
        return spec(self.gateway, name, model, timeout)

    def calls(self) -> list[tuple[str, str]]:
        root = f"/ai-gateway/gateways/{self.gateway.id}/routes"
        return [
            (r.method, r.url.path.partition(root)[2] or "/")
            for r in self.seen.requests
            if root in r.url.path
        ]


@pytest.fixture
async def setup(gw: LocalGateway, account: str, gateway_id: str) -> AsyncIterator[Setup]:
    gateway = AiGateway("Prod", id=gateway_id)
    seen = Recorder()
    async with GatewayAdmin(account, TOKEN, gw.api_url, client=seen.client, retry=FAST) as admin:
        await admin.apply(gateway)
        seen.requests.clear()
        yield Setup(gateway, admin.routes(gateway), seen)
    await seen.client.aclose()


# -- CRUD -------------------------------------------------------------------------------------


async def test_create_sends_cloudflares_body_and_reads_the_route(
    setup: Setup, account: str
) -> None:
    route = await setup.routes.create(setup.spec())
    (request,) = setup.seen.requests
    assert request.method == "POST"
    assert request.url.path.endswith(
        f"/accounts/{account}/ai-gateway/gateways/{setup.gateway.id}/routes"
    )
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert json.loads(request.content) == setup.spec().create_json()
    assert (route.name, route.gateway_id) == ("support", setup.gateway.id)
    assert route.elements == setup.spec().elements
    assert route.deployment is not None
    assert route.version is not None
    assert route.version.active is True  # Cloudflare's "true"
    assert route.deployed_version_id == route.version.version_id
    assert route.account_tag == account


async def test_get_find_and_list_page_by_page(setup: Setup) -> None:
    routes = setup.routes
    made = [await routes.create(setup.spec(f"r{i}")) for i in range(5)]
    assert await routes.get(made[2].id) == made[2]
    found = await routes.find("r3")
    assert found is not None
    assert found.id == made[3].id
    assert await routes.find("absent") is None
    setup.seen.requests.clear()
    listed = [r.name async for r in routes.list(per_page=2)]
    assert listed == [f"r{i}" for i in range(5)]
    assert [r.url.params.get("page") for r in setup.seen.requests] == ["1", "2", "3"]


def test_a_bad_page_size_is_refused_when_asked(gw: LocalGateway) -> None:
    admin = GatewayAdmin("acct", TOKEN, gw.api_url)
    with pytest.raises(ValidationError, match="per_page"):
        admin.routes("prod").list(per_page=0)


async def test_update_renames_with_a_patch(setup: Setup) -> None:
    routes = setup.routes
    route = await routes.create(setup.spec())
    renamed = await routes.update(route, name="helpdesk")
    assert renamed.name == "helpdesk"
    assert (await routes.get(route)).name == "helpdesk"
    assert await routes.find("support") is None
    (patch,) = [r for r in setup.seen.requests if r.method == "PATCH"]
    assert json.loads(patch.content) == {"name": "helpdesk"}
    sent = len(setup.seen.requests)
    with pytest.raises(ValidationError, match="name"):
        await routes.update(route, name="no spaces")
    assert len(setup.seen.requests) == sent  # refused before sending


async def test_delete_and_destroy(setup: Setup) -> None:
    routes = setup.routes
    route = await routes.create(setup.spec())
    await routes.delete(route)
    with pytest.raises(AiError) as caught:
        await routes.get(route.id)
    assert isinstance(caught.value.reason, NotFound)
    with pytest.raises(AiError) as caught:
        await routes.delete(route.id)
    assert isinstance(caught.value.reason, NotFound)
    await routes.create(setup.spec())
    assert await routes.destroy(setup.spec()) is True
    assert await routes.destroy("support") is False


async def test_unknown_ids_are_not_found(setup: Setup) -> None:
    routes = setup.routes
    route = await routes.create(setup.spec())
    for call in (
        routes.get("nope"),
        routes.list_versions("nope"),
        routes.get_version("nope", "v1"),
        routes.get_version(route, "v1"),
        routes.create_deployment("nope", "v1"),
        routes.create_deployment(route, "v1"),
        routes.update("nope", name="x"),
        routes.delete("nope"),
    ):
        with pytest.raises(AiError) as caught:
            await call
        assert isinstance(caught.value.reason, NotFound), caught.value


async def test_ids_with_slashes_stay_one_path_segment(setup: Setup) -> None:
    await setup.routes.create(setup.spec())
    with pytest.raises(AiError) as caught:
        await setup.routes.get("../../gateways")
    assert isinstance(caught.value.reason, NotFound)
    assert setup.seen.requests[-1].url.raw_path.endswith(b"/routes/..%2F..%2Fgateways")


async def test_wrong_account_token_and_gateway(
    gw: LocalGateway, setup: Setup, account: str
) -> None:
    route = await setup.routes.create(setup.spec())
    async with GatewayAdmin("someone-else", TOKEN, gw.api_url, retry=FAST) as admin:
        for call in (admin.routes(setup.gateway).get(route.id), admin.routes("x").get(route.id)):
            with pytest.raises(AiError) as caught:
                await call
            assert isinstance(caught.value.reason, NotFound)
    async with GatewayAdmin(account, "wrong", gw.api_url, retry=FAST) as admin:
        with pytest.raises(AiError) as caught:
            await admin.routes(setup.gateway).get(route.id)
        assert isinstance(caught.value.reason, AuthenticationFailed)
    async with GatewayAdmin(account, TOKEN, gw.api_url, retry=FAST) as admin:
        with pytest.raises(AiError) as caught:
            await admin.routes("no-such-gateway").apply(
                spec(AiGateway("Other", id="no-such-gateway"))
            )
        assert isinstance(caught.value.reason, NotFound)


async def test_a_spec_of_another_gateway_is_refused(setup: Setup) -> None:
    with pytest.raises(ValidationError, match="gateway_id"):
        await setup.routes.apply(spec(FakeGateway))
    assert setup.seen.requests == []


async def test_a_server_error_envelope_is_a_typed_error(setup: Setup) -> None:
    bad = {"name": "x", "elements": [{"id": "start", "type": "start", "outputs": {}}]}
    with pytest.raises(AiError) as caught:
        await setup.routes._api.call("POST", setup.routes._base, json_body=bad)
    assert caught.value.status == 400
    assert "outputs.next" in str(caught.value)


# -- versions and deployments -----------------------------------------------------------------


async def test_versions_and_deployments(setup: Setup) -> None:
    routes = setup.routes
    route = await routes.create(setup.spec())
    first = route.deployed_version_id
    await routes.create_version(route, setup.spec(model="@cf/other"))
    versions = {v.version_id: v for v in await routes.list_versions(route)}
    assert len(versions) == 2
    assert versions.pop(first).active  # type: ignore[arg-type]
    (other,) = versions.values()
    assert not other.active
    assert other.elements == setup.spec(model="@cf/other").elements  # read from `data`
    one = await routes.get_version(route, other.version_id)
    assert one.elements == setup.spec(model="@cf/other").elements
    assert (await routes.get(route)).elements == setup.spec().elements  # not deployed yet
    await routes.create_deployment(route, other.version_id)
    deployments = await routes.list_deployments(route)
    assert {d.version_id for d in deployments} == {first, other.version_id}
    now = await routes.get(route)
    assert now.elements == setup.spec(model="@cf/other").elements
    assert now.deployed_version_id == other.version_id


# -- plan / apply -----------------------------------------------------------------------------


async def test_plan_apply_replan(setup: Setup) -> None:
    routes = setup.routes
    assert isinstance(await routes.plan(setup.spec()), CreateRoute)
    created = await routes.apply(setup.spec())
    assert created.action == "created"
    assert created.route.elements == setup.spec().elements

    before = len(setup.seen.requests)
    again = await routes.apply(setup.spec())
    assert again.action == "unchanged"
    assert not again.changed
    assert isinstance(again.plan, RouteNoChange)
    assert all(r.method == "GET" for r in setup.seen.requests[before:])  # nothing written

    changed = await routes.apply(setup.spec(model="@cf/other"))
    assert changed.action == "new-version"
    assert isinstance(changed.plan, NewRouteVersion)
    assert changed.route.elements == setup.spec(model="@cf/other").elements
    versions = await routes.list_versions(created.route)
    assert len(versions) == 2
    assert [v.version_id for v in versions if v.active] == [changed.route.deployed_version_id]

    back = await routes.apply(setup.spec())  # back to the first graph: a third version
    assert back.action == "new-version"
    versions = await routes.list_versions(created.route)
    assert len(versions) == 3
    assert back.route.deployed_version_id not in (
        created.route.deployed_version_id,
        changed.route.deployed_version_id,
    )
    assert (await routes.apply(setup.spec())).action == "unchanged"
    assert len(await routes.list_deployments(created.route)) == 3


async def test_a_graph_written_differently_makes_no_version(setup: Setup) -> None:
    """The deployed graph holds the same elements in another order, with `30000.0` for
    `30000`: apply sees no change."""
    routes = setup.routes
    route = (await routes.apply(setup.spec())).route
    written = setup.spec().elements_json()
    written[1]["properties"]["timeout"] = 30000.0
    written.reverse()
    reply = await routes._api.call(
        "POST", routes._base + f"/{route.id}/versions", json_body={"elements": written}
    )
    assert reply.result is not None
    versions = await routes.list_versions(route)
    newer = next(v for v in versions if not v.active)
    await routes.create_deployment(route, newer.version_id)

    assert (await routes.apply(setup.spec())).action == "unchanged"
    assert len(await routes.list_versions(route)) == 2


async def test_apply_result_json(setup: Setup) -> None:
    body = (await setup.routes.apply(setup.spec())).to_json()
    assert body["result"] == "created"
    assert body["action"] == "create"
    assert body["route"]["name"] == "support"
    assert body["route"]["elements"] == setup.spec().elements_json()
    json.dumps(body)  # plain JSON


@pytest.mark.parametrize("separate_admins", [False, True])
async def test_racing_applies_of_one_spec_make_one_route_then_one_version(
    gw: LocalGateway, account: str, setup: Setup, separate_admins: bool
) -> None:
    admins = [GatewayAdmin(account, TOKEN, gw.api_url) for _ in range(2)]
    pick = admins if separate_admins else [admins[0], admins[0]]
    actions: list[str] = []

    async def apply(admin: GatewayAdmin, route: AiRoute) -> None:
        actions.append((await admin.routes(setup.gateway).apply(route)).action)

    async with anyio.create_task_group() as tg:
        for admin in pick:
            tg.start_soon(apply, admin, setup.spec())
    assert sorted(actions) == ["created", "unchanged"]
    assert [r.name async for r in setup.routes.list()] == ["support"]

    actions.clear()
    async with anyio.create_task_group() as tg:
        for admin in pick:
            tg.start_soon(apply, admin, setup.spec(model="@cf/other"))
    assert sorted(actions) == ["new-version", "unchanged"]
    route = await setup.routes.find("support")
    assert route is not None
    assert len(await setup.routes.list_versions(route)) == 2  # one version per real change
    assert len(await setup.routes.list_deployments(route)) == 2
    for admin in admins:
        await admin.aclose()


# -- other processes stepping in between two requests (the fake) ------------------------------


def admin_for(fake: FakeRoutes) -> GatewayAdmin:
    return GatewayAdmin("acct", "tok", BASE, client=fake.client(), retry=FAST)


@pytest.fixture
def fake() -> FakeRoutes:
    return FakeRoutes()


@pytest.fixture
async def routes(fake: FakeRoutes) -> AsyncIterator[RouteAdmin]:
    async with admin_for(fake) as admin:
        yield admin.routes(FakeGateway)


async def test_a_create_losing_to_another_process_goes_on_from_the_winner(
    fake: FakeRoutes, routes: RouteAdmin
) -> None:
    """Another process creates the same name between our plan and our create: the server
    answers 409, the apply plans again and finds the route up to date."""

    async def other_process_first(request: httpx.Request) -> None:
        if request.method == "POST" and request.url.path.endswith("/routes"):
            fake.before_request = None
            fake.create_now("prod", spec(FakeGateway).create_json())

    fake.before_request = other_process_first
    result = await routes.apply(spec(FakeGateway))
    assert result.action == "unchanged"
    assert len(fake.routes) == 1


async def test_a_duplicate_the_server_allowed_is_deleted_again() -> None:
    """A server that allows two routes of one name (the local gateway refuses them): the
    later create deletes its own."""
    fake = FakeRoutes(unique_names=False)

    async def other_process_first(request: httpx.Request) -> None:
        if request.method == "POST" and request.url.path.endswith("/routes"):
            fake.before_request = None
            fake.create_now("prod", spec(FakeGateway).create_json())

    fake.before_request = other_process_first
    async with admin_for(fake) as admin:
        result = await admin.routes(FakeGateway).apply(spec(FakeGateway))
    assert result.action == "unchanged"
    assert len(fake.routes) == 1
    assert result.route.id == next(iter(fake.routes))


async def test_a_graph_another_process_deployed_first_is_not_deployed_again(
    fake: FakeRoutes, routes: RouteAdmin
) -> None:
    route = (await routes.apply(spec(FakeGateway))).route
    other = spec(FakeGateway, model="@cf/other")

    def other_process(fake: FakeRoutes, route_id: str) -> None:
        fake.after_version_created = None
        fake.deploy(route_id, fake.add_version(route_id, other.elements_json()))

    fake.after_version_created = other_process
    result = await routes.apply(other)
    assert result.route.elements == other.elements
    assert len(fake.routes[route.id]["deployments"]) == 2  # the other process's only


async def test_a_route_deleted_during_apply_is_created_again(
    fake: FakeRoutes, routes: RouteAdmin
) -> None:
    await routes.apply(spec(FakeGateway))

    async def delete_it(request: httpx.Request) -> None:
        if request.method == "POST" and request.url.path.endswith("/versions"):
            fake.before_request = None
            fake.routes.clear()

    fake.before_request = delete_it
    result = await routes.apply(spec(FakeGateway, model="@cf/other"))
    assert result.action == "created"
    assert result.route.elements == spec(FakeGateway, model="@cf/other").elements


# -- reply shapes a server may send: read, or a typed error -----------------------------------


def _route_body(route_id: str, name: str) -> dict[str, Any]:
    return {
        "id": route_id,
        "name": name,
        "gateway_id": "prod",
        "created_at": "2026-01-01T00:00:00Z",
        "modified_at": "2026-01-01T00:00:00Z",
        "elements": spec(FakeGateway).elements_json(),
    }


def _replying(*bodies: Any) -> GatewayAdmin:
    """An admin whose server answers every request with `bodies[0]`, then `bodies[1]`..."""
    queue = list(bodies)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=queue.pop(0) if len(queue) > 1 else queue[0])

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return GatewayAdmin("acct", "tok", BASE, client=client, retry=FAST)


@pytest.mark.parametrize(
    "reply",
    [
        {"success": True, "data": {"routes": [_route_body("r1", "a")]}},  # the package's shape
        {"success": True, "result": {"data": {"routes": [_route_body("r1", "a")]}}},  # OpenAPI
        {"success": True, "result": {"routes": [_route_body("r1", "a")]}},
        {"success": True, "result": [_route_body("r1", "a")]},
    ],
)
async def test_a_list_is_read_wherever_cloudflare_puts_it(reply: Any) -> None:
    async with _replying(reply) as admin:
        assert [r.name async for r in admin.routes("prod").list()] == ["a"]


async def test_a_server_ignoring_page_does_not_loop_forever() -> None:
    page = [_route_body("r0", "r0"), _route_body("r1", "r1")]
    reply = {"success": True, "result": {"data": {"routes": page, "page": 1, "per_page": 2}}}
    async with _replying(reply) as admin:
        assert [r.name async for r in admin.routes("prod").list(per_page=2)] == ["r0", "r1"]
    versions = [
        {"version_id": f"v{i}", "active": "false", "created_at": "2026-01-01T00:00:00Z"}
        for i in range(50)
    ]
    async with _replying({"success": True, "data": {"versions": versions}}) as admin:
        assert len(await admin.routes("prod").list_versions("r")) == 50


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
    async with _replying(reply) as admin:
        routes = admin.routes("prod")
        with pytest.raises(AiError) as caught:
            if isinstance(reply, dict) and "data" in (reply.get("result") or {}):
                [r async for r in routes.list()]
            else:
                await routes.get("r")
        assert isinstance(caught.value.reason, MalformedOutput)


async def test_versions_and_deployments_past_one_page_are_all_listed(setup: Setup) -> None:
    """The server pages versions and deployments (20 a page unless asked); the admin reads
    every page, and apply still finds the version it just saved."""
    routes = setup.routes
    route = (await routes.apply(setup.spec(timeout=1))).route
    for timeout in range(2, 27):
        assert (await routes.apply(setup.spec(timeout=timeout))).action == "new-version"
    versions = await routes.list_versions(route)
    deployments = await routes.list_deployments(route)
    assert len(versions) == len({v.version_id for v in versions}) == 26
    assert len(deployments) == len({d.deployment_id for d in deployments}) == 26
    assert [v.version_id for v in versions if v.active] == [deployments[0].version_id]
