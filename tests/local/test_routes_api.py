"""The local control plane's dynamic routes: Cloudflare's own client (strict validation) through
a route's whole life, versions and deployments exact under concurrency and across a restart,
a gateway's deletion taking its routes, and hostile input answered with a 4xx envelope."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
import pytest

from aigateway_sdk.local import LocalGateway, LocalGatewayConfig
from tests.local.helpers import AUTH, TOKEN, Api, async_client

pytestmark = pytest.mark.anyio

MODEL = "@cf/meta/llama-3.1-8b-instruct"


def edge(target: str) -> dict[str, str]:
    return {"elementId": target}


def elements(model: str = MODEL, retries: int = 1) -> list[dict[str, Any]]:
    """A start -> model -> end graph (the model with both outputs, as the typed models want)."""
    return [
        {"id": "start", "type": "start", "outputs": {"next": edge("m")}},
        {
            "id": "m",
            "type": "model",
            "properties": {
                "provider": "workers-ai",
                "model": model,
                "retries": retries,
                "timeout": 30000,
            },
            "outputs": {"success": edge("end"), "fallback": edge("end")},
        },
        {"id": "end", "type": "end", "outputs": {}},
    ]


def routes_url(api: Api, gateway_id: str = "gw", path: str = "") -> str:
    return api.control(f"/{gateway_id}/routes{path}")


async def create_route(api: Api, name: str = "support", gateway_id: str = "gw") -> dict[str, Any]:
    reply = await api.http.post(
        routes_url(api, gateway_id), json={"name": name, "elements": elements()}, headers=AUTH
    )
    assert reply.status_code == 200, reply.text
    result: dict[str, Any] = reply.json()["result"]
    return result


# --- Cloudflare's client ------------------------------------------------------------------


async def test_cloudflare_client_strict_validation_through_a_routes_life(
    gw: LocalGateway, api: Api, account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cloudflare = pytest.importorskip("cloudflare")
    for name in ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_API_KEY", "CLOUDFLARE_EMAIL"):
        monkeypatch.delenv(name, raising=False)
    await api.create("gw")
    cf = cloudflare.AsyncCloudflare(
        base_url=gw.api_url, api_token=TOKEN, max_retries=0, _strict_response_validation=True
    )
    routing = cf.ai_gateway.dynamic_routing
    scope = {"account_id": account, "gateway_id": "gw"}
    async with cf:
        created = await routing.create(
            "gw", account_id=account, name="support", elements=elements()
        )
        assert created.name == "support"
        assert created.version.active == "true"
        assert created.deployment.version_id == created.version.version_id
        assert json.loads(created.version.data) == elements()
        assert created.elements[1].properties.model == MODEL

        listed = await routing.list("gw", account_id=account, page=1, per_page=10)
        assert [r.id for r in listed.data.routes] == [created.id]
        assert listed.data.routes[0].account_tag == account
        assert listed.data.page == 1

        got = await routing.get(created.id, **scope)
        assert got.version.version_id == created.version.version_id

        renamed = await routing.update(created.id, name="helpdesk", **scope)
        assert renamed.route.name == "helpdesk"
        assert renamed.success

        v2 = await routing.create_version(created.id, elements=elements(retries=3), **scope)
        new_version = v2.model_dump()["version"]["version_id"]
        versions = await routing.list_versions(created.id, **scope)
        assert [v.version_id for v in versions.data.versions] == [
            new_version,
            created.version.version_id,
        ]
        assert [v.active for v in versions.data.versions] == ["false", "true"]

        one = await routing.get_version(new_version, id=created.id, **scope)
        assert one.version_id == new_version
        assert one.elements[1].properties.retries == 3
        assert one.active == "false"

        deployed = await routing.create_deployment(created.id, version_id=new_version, **scope)
        assert deployed.elements[1].properties.retries == 3
        deployments = await routing.list_deployments(created.id, **scope)
        assert [d.version_id for d in deployments.data.deployments] == [
            new_version,
            created.version.version_id,
        ]
        got = await routing.get(created.id, **scope)
        assert got.version.version_id == new_version
        assert got.version.active == "true"

        deleted = await routing.delete(created.id, **scope)
        assert deleted.id == created.id
        with pytest.raises(cloudflare.NotFoundError):
            await routing.get(created.id, **scope)


# --- behaviour ------------------------------------------------------------------------------


async def test_routes_are_per_gateway_and_names_unique(api: Api) -> None:
    await api.create("gw")
    await api.create("other")
    await create_route(api, "support")
    await create_route(api, "support", gateway_id="other")  # another gateway: fine
    again = await api.http.post(
        routes_url(api), json={"name": "support", "elements": elements()}, headers=AUTH
    )
    assert again.status_code == 409
    assert again.json()["errors"][0]["path"] == ["name"]
    second = await create_route(api, "billing")
    rename = await api.http.patch(
        routes_url(api, path=f"/{second['id']}"), json={"name": "support"}, headers=AUTH
    )
    assert rename.status_code == 409


async def test_concurrent_versions_are_all_kept_each_once(api: Api) -> None:
    await api.create("gw")
    route = await create_route(api)
    url = routes_url(api, path=f"/{route['id']}/versions")

    async def add(retries: int) -> None:
        reply = await api.http.post(
            url, json={"elements": elements(retries=retries % 6)}, headers=AUTH
        )
        assert reply.status_code == 200, reply.text

    async with anyio.create_task_group() as group:
        for index in range(30):
            group.start_soon(add, index)
    listed = await api.http.get(url, params={"per_page": 100}, headers=AUTH)
    versions = listed.json()["data"]["versions"]
    assert len(versions) == 31
    assert len({v["version_id"] for v in versions}) == 31


async def test_routes_versions_and_deployments_survive_a_restart(
    config: LocalGatewayConfig,
) -> None:
    with LocalGateway(config) as gw:
        async with async_client() as http:
            api = Api(gw, http)
            await api.create("gw")
            route = await create_route(api)
            url = routes_url(api, path=f"/{route['id']}")
            v2 = (
                await http.post(
                    url + "/versions", json={"elements": elements(retries=2)}, headers=AUTH
                )
            ).json()["result"]["version"]["version_id"]
            await http.post(url + "/deployments", json={"version_id": v2}, headers=AUTH)
            before = (await http.get(url, headers=AUTH)).json()["result"]
    with LocalGateway(config) as gw:
        async with async_client() as http:
            api = Api(gw, http)
            url = routes_url(api, path=f"/{route['id']}")
            after = (await http.get(url, headers=AUTH)).json()["result"]
            assert after == before
            assert after["version"]["version_id"] == v2
            versions = (await http.get(url + "/versions", headers=AUTH)).json()["data"]["versions"]
            assert len(versions) == 2
            reply = await http.post(
                gw.data_url + f"/{api.account}/gw/compat/chat/completions",
                json={"model": "dynamic/support", "messages": [{"role": "user", "content": "hi"}]},
                headers={**AUTH, "cf-aig-authorization": f"Bearer {TOKEN}"},
            )
            assert reply.status_code == 200, reply.text


async def test_deleting_a_gateway_deletes_its_routes(api: Api) -> None:
    await api.create("gw")
    route = await create_route(api)
    deleted = await api.http.delete(api.control("/gw"), headers=AUTH)
    assert deleted.status_code == 200
    await api.create("gw")
    listed = await api.http.get(routes_url(api), headers=AUTH)
    assert listed.json()["data"]["routes"] == []
    gone = await api.http.get(routes_url(api, path=f"/{route['id']}"), headers=AUTH)
    assert gone.status_code == 404
    await create_route(api)  # the name is free again


async def test_pages(api: Api) -> None:
    await api.create("gw")
    for index in range(5):
        await create_route(api, f"r{index}")
    page = await api.http.get(routes_url(api), params={"page": 2, "per_page": 2}, headers=AUTH)
    data = page.json()["data"]
    assert [r["name"] for r in data["routes"]] == ["r2", "r3"]
    assert (data["page"], data["per_page"]) == (2, 2)


# --- hostile input --------------------------------------------------------------------------


def assert_envelope(reply: httpx.Response, status: int) -> dict[str, Any]:
    assert reply.status_code == status, reply.text
    body: dict[str, Any] = reply.json()
    assert body["success"] is False
    assert body["errors"]
    assert isinstance(body["errors"][0]["code"], int)
    return body


async def test_unauthenticated_calls_are_refused(api: Api) -> None:
    await api.create("gw")
    reply = await api.http.get(routes_url(api))
    assert_envelope(reply, 401)
    wrong = await api.http.get(routes_url(api), headers={"authorization": "Bearer nope"})
    assert_envelope(wrong, 401)


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (b"{not json", None),
        (b"[]", ["body"]),
        (b'{"elements": []}', ["name"]),
        (b'{"name": "a/b", "elements": []}', ["name"]),
        (b'{"name": "x"}', ["elements"]),
        (b'{"name": "x", "elements": "start"}', ["elements"]),
        (b'{"name": "x", "elements": [1, 2]}', ["elements[0]"]),
    ],
)
async def test_malformed_create_bodies(api: Api, body: bytes, path: list[str] | None) -> None:
    await api.create("gw")
    reply = await api.http.post(
        routes_url(api), content=body, headers={**AUTH, "content-type": "application/json"}
    )
    errors = assert_envelope(reply, 400)["errors"]
    if path is not None:
        assert errors[0]["path"] == path


async def test_bad_graphs_name_the_element(api: Api) -> None:
    await api.create("gw")
    dangling = elements()
    dangling[1]["outputs"]["fallback"] = edge("ghost")
    reply = await api.http.post(
        routes_url(api), json={"name": "x", "elements": dangling}, headers=AUTH
    )
    errors = assert_envelope(reply, 400)["errors"]
    assert errors[0]["path"] == ["elements", "m", "outputs", "fallback"]
    assert "'ghost'" in errors[0]["message"]
    assert "elements.m" in errors[0]["message"]
    cycle = elements()
    cycle[1]["outputs"]["success"] = edge("start")
    reply = await api.http.post(
        routes_url(api), json={"name": "x", "elements": cycle}, headers=AUTH
    )
    assert "cycle" in assert_envelope(reply, 400)["errors"][0]["message"]


async def test_oversized_values(api: Api) -> None:
    await api.create("gw")
    huge = elements(model="m" * 10_000)
    reply = await api.http.post(routes_url(api), json={"name": "x", "elements": huge}, headers=AUTH)
    assert assert_envelope(reply, 400)["errors"][0]["path"] == [
        "elements[1]",
        "properties",
        "model",
    ]
    many = elements()[:1] + [{"id": f"e{i}", "type": "end", "outputs": {}} for i in range(200)]
    reply = await api.http.post(routes_url(api), json={"name": "x", "elements": many}, headers=AUTH)
    assert_envelope(reply, 400)
    big_number = json.dumps({"name": "x", "elements": elements()}).replace(
        '"retries": 1', '"retries": 1' + "0" * 400
    )
    reply = await api.http.post(
        routes_url(api), content=big_number, headers={**AUTH, "content-type": "application/json"}
    )
    assert reply.status_code in (400, 413)
    too_big = await api.http.post(
        routes_url(api),
        content=b" " * (2 << 20),
        headers={**AUTH, "content-type": "application/json"},
    )
    assert_envelope(too_big, 413)
    deep = "[" * 5000 + "]" * 5000
    reply = await api.http.post(
        routes_url(api),
        content=f'{{"name": "x", "elements": {deep}}}',
        headers={**AUTH, "content-type": "application/json"},
    )
    assert_envelope(reply, 400)
    page = await api.http.get(routes_url(api), params={"per_page": 10**30}, headers=AUTH)
    assert_envelope(page, 400)


async def test_unknown_ids_wrong_account_and_unknown_gateway(
    api: Api, http: httpx.AsyncClient
) -> None:
    await api.create("gw")
    route = await create_route(api)
    one = f"/{route['id']}"
    assert_envelope(await http.get(routes_url(api, path="/nope"), headers=AUTH), 404)
    assert_envelope(await http.get(routes_url(api, "ghost"), headers=AUTH), 404)
    assert_envelope(await http.get(routes_url(api, path=one + "/versions/nope"), headers=AUTH), 404)
    assert_envelope(
        await http.post(
            routes_url(api, path=one + "/deployments"), json={"version_id": "nope"}, headers=AUTH
        ),
        404,
    )
    assert_envelope(
        await http.post(
            routes_url(api, path=one + "/deployments"), json={"version_id": 7}, headers=AUTH
        ),
        400,
    )
    assert_envelope(await http.patch(routes_url(api, path=one), json={}, headers=AUTH), 400)
    assert_envelope(await http.delete(routes_url(api, path="/nope"), headers=AUTH), 404)
    other = Api(api.gw, http, account=api.account + "-other")
    assert_envelope(await http.get(routes_url(other, path=one), headers=AUTH), 404)
    await other.create("gw")
    assert_envelope(await http.get(routes_url(other, path=one), headers=AUTH), 404)
    assert_envelope(await http.put(routes_url(api, path=one), json={}, headers=AUTH), 405)
