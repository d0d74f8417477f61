"""Hostile input to dynamic routes, on every route API path and through the SDK: malformed
JSON, wrong types, 10 MB bodies, 10,000-element graphs, 10,000 levels of `$and`, huge numbers,
unicode names, unknown ids, another gateway's or account's ids, and applies racing from
several admins. The server answers 4xx in Cloudflare's envelope (never 5xx) and stores nothing;
the SDK raises `ValidationError` before sending, or `AiError` with a typed reason."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest

from aigateway_sdk.contract.routes import (
    Conditional,
    End,
    Model,
    Rate,
    Start,
)
from aigateway_sdk.control import AiGateway, GatewayAdmin
from aigateway_sdk.control import routes_admin as routes_admin_module
from aigateway_sdk.control.routes_admin import RouteAdmin
from aigateway_sdk.control.routes_spec import AiRoute
from aigateway_sdk.errors import AiError, InvalidRequest, NotFound
from aigateway_sdk.local.storage import routes as route_storage
from aigateway_sdk.validation import ValidationError
from tests.local.helpers import AUTH, GW_AUTH, MODEL, TOKEN, Api

pytestmark = pytest.mark.anyio

JSON_AUTH = {**AUTH, "content-type": "application/json"}
TEN_MB = 10 << 20


def edge(target: str) -> dict[str, str]:
    return {"elementId": target}


def graph(**properties: Any) -> list[dict[str, Any]]:
    model = {"provider": "workers-ai", "model": MODEL, "retries": 1, "timeout": 30000}
    return [
        {"id": "start", "type": "start", "outputs": {"next": edge("m")}},
        {
            "id": "m",
            "type": "model",
            "properties": {**model, **properties},
            "outputs": {"success": edge("end"), "fallback": edge("end")},
        },
        {"id": "end", "type": "end", "outputs": {}},
    ]


def conditional(conditions: str) -> str:
    """A start -> conditional -> end graph, the conditions given as JSON text."""
    return (
        '[{"id": "start", "type": "start", "outputs": {"next": {"elementId": "c"}}},'
        ' {"id": "c", "type": "conditional", "properties": {"conditions": ' + conditions + "},"
        ' "outputs": {"true": {"elementId": "end"}, "false": {"elementId": "end"}}},'
        ' {"id": "end", "type": "end", "outputs": {}}]'
    )


def nested_and(levels: int) -> str:
    return '{"$and": [' * levels + '{"metadata.x": 1}' + "]}" * levels


def chain(length: int) -> list[dict[str, Any]]:
    """start -> m0 -> m1 -> ... -> end: `length` model elements."""
    models = [
        {
            "id": f"m{i}",
            "type": "model",
            "properties": {"provider": "p", "model": "m", "retries": 0, "timeout": 1},
            "outputs": {"success": edge(f"m{i + 1}" if i + 1 < length else "end")},
        }
        for i in range(length)
    ]
    start = {"id": "start", "type": "start", "outputs": {"next": edge("m0")}}
    return [start, *models, {"id": "end", "type": "end", "outputs": {}}]


def ends(count: int) -> list[dict[str, Any]]:
    start = {"id": "start", "type": "start", "outputs": {"next": edge("e0")}}
    return [start, *({"id": f"e{i}", "type": "end", "outputs": {}} for i in range(count))]


def body(name: object = "x", elements: object = None) -> bytes:
    return json.dumps(
        {"name": name, "elements": graph() if elements is None else elements}
    ).encode()


def with_elements(elements_text: str, name: str = "x") -> bytes:
    return f'{{"name": "{name}", "elements": {elements_text}}}'.encode()


BIG_INT = json.dumps(graph()).replace('"retries": 1', '"retries": 1' + "0" * 5000)

HOSTILE: dict[str, tuple[bytes, int]] = {
    # malformed JSON
    "truncated": (b'{"name": "x", "elements": [', 400),
    "empty": (b"", 400),
    "not utf-8": (b'{"name": "\xff\xfe"}', 400),
    "lone surrogate": (b'{"name": "\\ud800", "elements": []}', 400),
    "NaN": (b'{"name": NaN}', 400),
    "trailing garbage": (body() + b"}", 400),
    # wrong types
    "null": (b"null", 400),
    "a list": (b"[]", 400),
    "a string": (b'"x"', 400),
    "name a number": (body(name=1), 400),
    "name an object": (body(name={"a": 1}), 400),
    "elements an object": (body(elements={"start": {}}), 400),
    "elements of nulls": (body(elements=[None, None]), 400),
    "version_id a list": (b'{"version_id": [], "name": [], "elements": 7}', 400),
    "timeout a bool": (body(elements=graph(timeout=True)), 400),
    "timeout a float": (body(elements=graph(timeout=1.5)), 400),
    "retries a string": (body(elements=graph(retries="1")), 400),
    # 10 MB
    "10 MB of spaces": (b" " * TEN_MB, 413),
    "a 10 MB name": (body(name="n" * TEN_MB), 413),
    "a 10 MB model": (body(elements=graph(model="m" * TEN_MB)), 413),
    # 10,000 elements; 10,000 levels of $and
    "10,000 elements": (body(elements=ends(10_000)), 400),
    "a chain of 10,000 models": (body(elements=chain(10_000)), 413),
    "10,000 levels of $and": (with_elements(conditional(nested_and(10_000))), 400),
    "100 levels of $and": (with_elements(conditional(nested_and(100))), 400),
    "17 levels of $and": (with_elements(conditional(nested_and(17))), 400),
    # huge numbers
    "retries 1e400": (body().replace(b'"retries": 1', b'"retries": 1e400'), 400),
    "retries 2**70": (body(elements=graph(retries=2**70)), 400),
    "retries of 5,000 digits": (with_elements(BIG_INT), 400),
    "timeout 2**70": (body(elements=graph(timeout=2**70)), 400),
    "timeout -2**63": (body(elements=graph(timeout=-(2**63))), 400),
    "$gt 1e400": (with_elements(conditional('{"metadata.n": {"$gt": 1e400}}')), 400),
    "$gt 2**60": (with_elements(conditional(f'{{"metadata.n": {{"$gt": {2**60}}}}}')), 400),
    "$in of objects": (with_elements(conditional('{"metadata.n": {"$in": [{"a": 1}]}}')), 400),
    "a bare list": (with_elements(conditional('{"metadata.n": [1, 2]}')), 400),
    "share 1e400%": (
        with_elements(
            '[{"id": "start", "type": "start", "outputs": {"next": {"elementId": "p"}}},'
            ' {"id": "p", "type": "percentage", "properties": {},'
            ' "outputs": {"1e400%": {"elementId": "end"}, "else": {"elementId": "end"}}},'
            ' {"id": "end", "type": "end", "outputs": {}}]'
        ),
        400,
    ),
    # unicode names
    "a unicode name": (body(name="サポート"), 400),
    "an emoji name": (body(name="😀"), 400),
    "a NUL in the name": (body(name="a\u0000b"), 400),
    "a right-to-left name": (body(name="\u202eroute"), 400),
}

NAME_ONLY = {"name a number", "name an object", "a 10 MB name", "a unicode name"}
NAME_ONLY |= {"an emoji name", "a NUL in the name", "a right-to-left name"}
"""Bodies wrong only in `name`: sent where a name is read (create, rename)."""
WHOLE = {"truncated", "empty", "not utf-8", "lone surrogate", "NaN", "trailing garbage"}
WHOLE |= {"null", "a list", "a string", "version_id a list", "10 MB of spaces"}
"""Bodies wrong as a whole: sent to every write. The rest are wrong in `elements` with a
good name: sent where elements are read (create, new version) and to a deployment (which
finds no `version_id`), not to a rename (which would rename)."""


def assert_envelope(reply: httpx.Response, status: int) -> dict[str, Any]:
    assert reply.status_code == status, reply.text[:500]
    parsed: dict[str, Any] = reply.json()
    assert parsed["success"] is False
    assert parsed["result"] is None
    assert parsed["errors"]
    for error in parsed["errors"]:
        assert isinstance(error["code"], int)
        assert isinstance(error["message"], str)
        assert error["message"]
    return parsed


class Routes:
    """One gateway with one route (`support`), over raw HTTP."""

    def __init__(self, api: Api, gateway_id: str, route: dict[str, Any]) -> None:
        self.api, self.gateway_id, self.route = api, gateway_id, route

    def url(self, path: str = "", gateway_id: str | None = None) -> str:
        return self.api.control(f"/{gateway_id or self.gateway_id}/routes{path}")

    @property
    def one(self) -> str:
        return f"/{self.route['id']}"

    @property
    def version_id(self) -> str:
        version_id: str = self.route["version"]["version_id"]
        return version_id

    async def send(self, method: str, path: str, content: bytes = b"") -> httpx.Response:
        return await self.api.http.request(
            method, self.url(path), content=content, headers=JSON_AUTH
        )

    async def state(self) -> tuple[Any, ...]:
        """What the gateway holds: its routes and this route's versions and deployments."""
        http, url = self.api.http, self.url
        routes = (await http.get(url(), headers=AUTH)).json()["data"]["routes"]
        versions = (await http.get(url(self.one + "/versions"), headers=AUTH)).json()["data"]
        deployments = await http.get(url(self.one + "/deployments"), headers=AUTH)
        return routes, versions["versions"], deployments.json()["data"]["deployments"]


async def make_routes(api: Api, gateway_id: str = "gw") -> Routes:
    await api.create(gateway_id)
    reply = await api.http.post(
        api.control(f"/{gateway_id}/routes"),
        json={"name": "support", "elements": graph()},
        headers=AUTH,
    )
    assert reply.status_code == 200, reply.text
    return Routes(api, gateway_id, reply.json()["result"])


@pytest.fixture
async def routes(api: Api) -> Routes:
    return await make_routes(api)


# --- every write path, every hostile body -----------------------------------------------------


def writes(routes: Routes, label: str) -> list[tuple[str, str]]:
    create, rename = ("POST", ""), ("PATCH", routes.one)
    version, deploy = ("POST", routes.one + "/versions"), ("POST", routes.one + "/deployments")
    if label in NAME_ONLY:
        return [create, rename]
    if label in WHOLE:
        return [create, rename, version, deploy]
    return [create, version, deploy]


@pytest.mark.parametrize("label", list(HOSTILE))
async def test_hostile_bodies_are_4xx_envelopes_and_change_nothing(
    routes: Routes, label: str
) -> None:
    content, status = HOSTILE[label]
    before = await routes.state()
    for method, path in writes(routes, label):
        reply = await routes.send(method, path, content)
        assert reply.status_code < 500, (method, path, reply.text[:300])
        assert_envelope(reply, status)
    assert await routes.state() == before


async def test_a_rename_refuses_every_bad_name(routes: Routes) -> None:
    for name in ("サポート", "😀", "a\u0000b", "", "a/b", "x" * 65, 1, None, ["a"]):
        reply = await routes.send("PATCH", routes.one, json.dumps({"name": name}).encode())
        assert assert_envelope(reply, 400)["errors"][0]["path"] == ["name"]


async def test_a_deployment_refuses_every_bad_version_id(routes: Routes) -> None:
    path = routes.one + "/deployments"
    for version_id in (None, 7, 1.5, True, [], {}, ""):
        reply = await routes.send("POST", path, json.dumps({"version_id": version_id}).encode())
        assert assert_envelope(reply, 400)["errors"][0]["path"] == ["version_id"]
    for version_id in ("nope", "サポート", "x" * 100_000, routes.version_id + " "):
        reply = await routes.send("POST", path, json.dumps({"version_id": version_id}).encode())
        assert_envelope(reply, 404)


async def test_deep_and_and_huge_numbers_name_the_problem(routes: Routes) -> None:
    replies = {
        label: (await routes.send("POST", "", HOSTILE[label][0])).json()["errors"][0]
        for label in ("17 levels of $and", "retries 2**70", "$gt 2**60", "10,000 elements")
    }
    assert "nested more than 16 levels" in replies["17 levels of $and"]["message"]
    assert replies["retries 2**70"]["path"] == ["elements[1]", "properties", "retries"]
    assert "9007199254740991" in replies["$gt 2**60"]["message"]
    assert "at most 100 elements" in replies["10,000 elements"]["message"]


@pytest.mark.parametrize(
    "query",
    [
        "page=0",
        "page=-1",
        "page=abc",
        "page=1e400",
        f"page={2**70}",
        "per_page=0",
        "per_page=101",
        f"per_page={10**30}",
        "per_page=%00",
        "per_page=1.5",
    ],
)
async def test_hostile_list_queries_are_400(routes: Routes, query: str) -> None:
    for path in ("", routes.one + "/versions", routes.one + "/deployments"):
        assert_envelope(await routes.send("GET", f"{path}?{query}"), 400)


# --- ids ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "route_id", ["nope", "%F0%9F%98%80", "%00", "x" * 10_000, "%20", "a%2Fb", "%2E%2E"]
)
async def test_unknown_route_ids_are_404_on_every_path(routes: Routes, route_id: str) -> None:
    one = f"/{route_id}"
    calls = [
        ("GET", one, b""),
        ("PATCH", one, b'{"name": "y"}'),
        ("DELETE", one, b""),
        ("GET", one + "/versions", b""),
        ("POST", one + "/versions", body()),
        ("GET", f"{one}/versions/{routes.version_id}", b""),
        ("GET", one + "/deployments", b""),
        ("POST", one + "/deployments", json.dumps({"version_id": routes.version_id}).encode()),
    ]
    for method, path, content in calls:
        reply = await routes.send(method, path, content)
        assert_envelope(reply, 404)
        assert len(reply.content) < 2_000  # a 10,000-character id is not echoed whole


async def test_ids_of_another_gateway_or_account_are_404(
    routes: Routes, api: Api, http: httpx.AsyncClient
) -> None:
    other = await make_routes(api, "gw-other")
    stranger = await make_routes(Api(api.gw, http, account=api.account + "-x"), "gw")
    for owner, foreign in ((routes, other), (routes, stranger), (other, routes)):
        one = foreign.one
        for method, path, content in (
            ("GET", one, b""),
            ("PATCH", one, b'{"name": "stolen"}'),
            ("DELETE", one, b""),
            ("POST", one + "/versions", body()),
            ("GET", f"{one}/versions/{foreign.version_id}", b""),
            ("POST", one + "/deployments", json.dumps({"version_id": foreign.version_id}).encode()),
        ):
            assert_envelope(await owner.send(method, path, content), 404)
        # a version of another route is unknown to this one
        deploy = json.dumps({"version_id": foreign.version_id}).encode()
        assert_envelope(await owner.send("POST", owner.one + "/deployments", deploy), 404)
        assert_envelope(await owner.send("GET", f"{owner.one}/versions/{foreign.version_id}"), 404)
    assert (await routes.state())[0][0]["name"] == "support"
    assert (await other.state())[0][0]["name"] == "support"


async def test_unicode_element_ids_round_trip(routes: Routes) -> None:
    elements = [
        {"id": "start", "type": "start", "outputs": {"next": edge("模型")}},
        {
            "id": "模型",
            "type": "model",
            "properties": {"provider": "workers-ai", "model": MODEL, "retries": 0, "timeout": 1},
            "outputs": {"success": edge("終"), "fallback": edge("終")},
        },
        {"id": "終", "type": "end", "outputs": {}},
    ]
    reply = await routes.send("POST", "", body(name="unicode-ids", elements=elements))
    assert reply.status_code == 200, reply.text
    assert reply.json()["result"]["elements"] == elements


# --- the SDK ------------------------------------------------------------------------------


Gateway = AiGateway("Prod", id="gw")


def spec(*elements: Any, name: str = "support") -> AiRoute:
    return AiRoute(name, gateway=Gateway, elements=list(elements))


def model_route(**fields: Any) -> AiRoute:
    model = Model("m", **{"provider": "workers-ai", "model": MODEL, "success": "end", **fields})
    return spec(Start("start", next="m"), model, End("end"))


def condition_route(conditions: Any) -> AiRoute:
    branch = Conditional("c", conditions=conditions, when_true="end", when_false="end")
    return spec(Start("start", next="c"), branch, End("end"))


def deep_and(levels: int) -> dict[str, Any]:
    condition: dict[str, Any] = {"metadata.x": 1}
    for _ in range(levels):
        condition = {"$and": [condition]}
    return condition


def chained(length: int) -> AiRoute:
    models = [
        Model(f"m{i}", provider="p", model="m", success=f"m{i + 1}" if i + 1 < length else "end")
        for i in range(length)
    ]
    return spec(Start("start", next="m0"), *models, End("end"))


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (lambda: model_route(retries=2**70), "retries: must be between 0 and 5"),
        (lambda: model_route(retries=10**5000), "an integer of 16610 bits"),
        (lambda: model_route(timeout=float("inf")), "timeout: must be an integer"),
        (lambda: model_route(timeout=-(10**5000)), "a negative integer of 16610 bits"),
        (lambda: model_route(model="m" * TEN_MB), "model: must be at most 256 characters"),
        (
            lambda: spec(
                Start("start", next="r"),
                Rate(
                    "r",
                    key="metadata.u",
                    limit=float("nan"),
                    limit_type="count",
                    window=60,
                    success="end",
                ),
                End("end"),
            ),
            "limit: must be above 0",
        ),
        (lambda: condition_route({"metadata.x": {"$gt": 2**70}}), "within +-9007199254740991"),
        (lambda: condition_route({"metadata.x": {"$gt": float("nan")}}), "a finite number"),
        (lambda: condition_route({"metadata.x": float("-inf")}), "a finite number"),
        (lambda: condition_route({"metadata.x": {1, 2}}), "got set"),
        (lambda: condition_route({"metadata.x": {"$in": [b"x"]}}), "$in items"),
        (lambda: condition_route(deep_and(10_000)), "nested more than 16 levels"),
        (lambda: chained(10_000), "at most 100 elements"),
        (lambda: spec(Start("start", next="end"), End("end"), name="サポート"), "name: must be"),
        (
            lambda: AiRoute.from_json("[" * 10_000 + "]" * 10_000, name="x", gateway=Gateway),
            "elements",
        ),
        (lambda: AiRoute.from_json(with_elements(BIG_INT), gateway=Gateway), "elements"),
        (lambda: AiRoute.from_json("{", name="x", gateway=Gateway), "not JSON"),
    ],
)
def test_the_sdk_refuses_hostile_specs_when_built(build: Any, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        build()
    assert words in str(caught.value)


@pytest.fixture
async def admin(api: Api) -> AsyncIterator[RouteAdmin]:
    await api.create("gw")
    async with GatewayAdmin(api.account, TOKEN, api.gw.api_url) as gateway_admin:
        yield gateway_admin.routes(Gateway)


async def test_the_sdk_raises_typed_errors_for_what_only_the_server_knows(
    admin: RouteAdmin, api: Api
) -> None:
    huge = condition_route({"metadata.plan": "x" * TEN_MB})
    with pytest.raises(AiError) as caught:
        await admin.apply(huge)
    assert caught.value.status == 413
    assert "larger than" in str(caught.value)

    route = (await admin.apply(model_route())).route
    for call in (
        admin.get("サポート"),
        admin.get("x" * 10_000),
        admin.get_version(route, "nope"),
        admin.create_deployment(route, "x" * 10_000),
        admin.update("nope", name="fine"),
    ):
        with pytest.raises(AiError) as caught:
            await call
        assert isinstance(caught.value.reason, NotFound)
        assert len(str(caught.value)) < 1_000

    async with GatewayAdmin(api.account + "-x", TOKEN, api.gw.api_url) as stranger:
        for call in (stranger.routes(Gateway).get(route.id), stranger.routes("gw").delete(route)):
            with pytest.raises(AiError) as caught:
                await call
            assert isinstance(caught.value.reason, NotFound)
    assert (await admin.get(route)).elements == model_route().elements


# --- applies racing from several admins ---------------------------------------------------


def _one_lock_per_call(account_id: str, gateway_id: str, name: str) -> anyio.Lock:
    return anyio.Lock()


@pytest.mark.parametrize("separate_processes", [False, True])
async def test_racing_applies_of_one_spec_from_two_admins(
    api: Api, admin: RouteAdmin, monkeypatch: pytest.MonkeyPatch, separate_processes: bool
) -> None:
    """Two `GatewayAdmin`s apply the same specs at once. In one process they make one route,
    then one version. As two processes (no lock shared), the server's 409 and apply's
    re-reads still leave one route serving the spec, and no apply fails."""
    if separate_processes:
        monkeypatch.setattr(routes_admin_module, "_route_lock", _one_lock_per_call)
    actions: list[str] = []

    async def apply(route: AiRoute) -> None:
        async with GatewayAdmin(api.account, TOKEN, api.gw.api_url) as other:
            actions.append((await other.routes(Gateway).apply(route)).action)

    changed = model_route(timeout=45_000)
    for route in (model_route(), changed):
        async with anyio.create_task_group() as tg:
            for _ in range(2):
                tg.start_soon(apply, route)
    listed = [route async for route in admin.list()]
    assert [route.name for route in listed] == ["support"]
    assert listed[0].elements == changed.elements
    versions = await admin.list_versions(listed[0])
    deployments = await admin.list_deployments(listed[0])
    assert actions.count("created") == 1
    if separate_processes:
        assert 2 <= len(versions) <= 3
        assert 2 <= len(deployments) <= 3
    else:
        assert sorted(actions) == ["created", "new-version", "unchanged", "unchanged"]
        assert (len(versions), len(deployments)) == (2, 2)
    assert (await admin.apply(changed)).action == "unchanged"


async def test_racing_applies_of_two_graphs_leave_one_deployed(
    api: Api, admin: RouteAdmin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(routes_admin_module, "_route_lock", _one_lock_per_call)
    await admin.apply(model_route())
    first, second = model_route(timeout=1_000), model_route(timeout=2_000)

    async def apply(route: AiRoute) -> None:
        async with GatewayAdmin(api.account, TOKEN, api.gw.api_url) as other:
            assert (await other.routes(Gateway).apply(route)).action == "new-version"

    async with anyio.create_task_group() as tg:
        tg.start_soon(apply, first)
        tg.start_soon(apply, second)
    served = await admin.find("support")
    assert served is not None
    assert served.elements in (first.elements, second.elements)
    assert len(await admin.list_versions(served)) == 3
    reply = await api.http.post(
        api.data("gw", "compat/chat/completions"),
        json={"model": "dynamic/support", "messages": [{"role": "user", "content": "hi"}]},
        headers={**AUTH, **GW_AUTH},
    )
    assert reply.status_code == 200, reply.text


# --- bounds -------------------------------------------------------------------------------


async def test_the_bounds_on_routes_and_versions_are_typed_400s(
    admin: RouteAdmin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past a gateway's routes or a route's versions (lowered here to 2 and 3), apply raises
    `AiError(InvalidRequest)` saying which bound, and the route keeps serving what it did."""
    monkeypatch.setattr(route_storage, "MAX_ROUTES_PER_GATEWAY", 2)
    monkeypatch.setattr(route_storage, "MAX_VERSIONS_PER_ROUTE", 3)
    for name in ("a", "b"):
        await admin.apply(spec(Start("start", next="end"), End("end"), name=name))
    with pytest.raises(AiError) as caught:
        await admin.apply(spec(Start("start", next="end"), End("end"), name="c"))
    assert isinstance(caught.value.reason, InvalidRequest)
    assert "at most 2 routes" in str(caught.value)

    await admin.delete((await admin.find("b")) or "b")
    await admin.apply(model_route())
    for timeout in (1_000, 2_000):
        assert (await admin.apply(model_route(timeout=timeout))).action == "new-version"
    with pytest.raises(AiError) as caught:
        await admin.apply(model_route(timeout=3_000))
    assert isinstance(caught.value.reason, InvalidRequest)
    assert "at most 3 versions" in str(caught.value)
    served = await admin.find("support")
    assert served is not None
    assert served.elements == model_route(timeout=2_000).elements
