"""Authentication: gateway `cf-aig-authorization`, Workers AI provider auth, control plane."""

from __future__ import annotations

import httpx
import pytest

from tests.local.helpers import AUTH, GW_AUTH, MODEL, TOKEN, Api

pytestmark = pytest.mark.anyio

UNAUTHORIZED = {
    "success": False,
    "result": [],
    "messages": [],
    "error": [{"code": 2009, "message": "Unauthorized"}],
    "name": "AiGatewayError",
    "httpCode": 401,
    "internalCode": 2009,
}


@pytest.mark.parametrize(
    "header", [None, "Bearer wrong", f"Basic {TOKEN}", "Bearer", f"Bearer {TOKEN}x"]
)
async def test_authenticated_gateway_needs_the_token(
    api: Api, http: httpx.AsyncClient, header: str | None
) -> None:
    await api.create("locked", authentication=True)
    headers = {**AUTH, **({"cf-aig-authorization": header} if header is not None else {})}
    response = await http.post(
        api.data("locked", f"workers-ai/{MODEL}"), json={"prompt": "hi"}, headers=headers
    )
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
    assert await api.logs("locked") == []  # not processed, not logged


async def test_authenticated_gateway_accepts_the_token(api: Api) -> None:
    await api.create("locked", authentication=True)
    assert (await api.run("locked", headers=GW_AUTH)).status_code == 200


async def test_open_gateway_needs_no_gateway_token(api: Api, http: httpx.AsyncClient) -> None:
    await api.create("open", authentication=False)
    response = await http.post(
        api.data("open", f"workers-ai/{MODEL}"), json={"prompt": "hi"}, headers=AUTH
    )
    assert response.status_code == 200


async def test_workers_ai_provider_auth_must_be_the_api_token(
    api: Api, http: httpx.AsyncClient
) -> None:
    await api.create("open")
    for headers in ({}, {"authorization": "Bearer nope"}):
        response = await http.post(
            api.data("open", f"workers-ai/{MODEL}"), json={"prompt": "hi"}, headers=headers
        )
        assert response.status_code == 401
        assert response.json()["errors"][0]["code"] == 10000
    chat = await http.post(
        api.data("open", "compat/chat/completions"),
        json={"model": f"workers-ai/{MODEL}", "messages": [{"role": "user", "content": "x"}]},
        headers={"authorization": "Bearer nope"},
    )
    assert chat.status_code == 401


async def test_control_plane_token(api: Api, http: httpx.AsyncClient) -> None:
    for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": TOKEN}):
        response = await http.get(api.control(), headers=headers)
        assert response.status_code == 401
        body = response.json()
        assert body["success"] is False
        assert body["errors"][0]["code"] == 10000
    assert (await http.get(api.control(), headers=AUTH)).status_code == 200


async def test_without_api_token_any_bearer_works_but_one_is_needed(gw_open: Api) -> None:
    api, http = gw_open, gw_open.http
    assert (
        await http.get(api.control(), headers={"authorization": "Bearer any"})
    ).status_code == 200
    assert (await http.get(api.control())).status_code == 401
    response = await http.post(api.data("default", f"workers-ai/{MODEL}"), json={"prompt": "hi"})
    assert response.status_code == 200  # the default gateway is open in tokenless mode
    gateway = (await http.get(api.control("/default"), headers=AUTH)).json()["result"]
    assert gateway["authentication"] is False
    await api.create("locked", authentication=True)
    locked = await http.post(
        api.data("locked", f"workers-ai/{MODEL}"),
        json={"prompt": "hi"},
        headers={"cf-aig-authorization": "Bearer whatever"},
    )
    assert locked.status_code == 200
    missing = await http.post(api.data("locked", f"workers-ai/{MODEL}"), json={"prompt": "hi"})
    assert missing.status_code == 401


async def test_logs_never_store_secrets(api: Api, http: httpx.AsyncClient) -> None:
    await api.create("locked", authentication=True)
    await api.run("locked", headers=GW_AUTH)
    await http.post(
        api.data("locked"),
        json=[
            {
                "provider": "workers-ai",
                "endpoint": MODEL,
                "headers": {"Authorization": f"Bearer {TOKEN}"},
                "query": {"prompt": "universal"},
            }
        ],
        headers=GW_AUTH,
    )
    secret_step = {"provider": 42, "headers": {"authorization": f"Bearer {TOKEN}"}}
    invalid = await http.post(api.data("locked"), json=[secret_step], headers=GW_AUTH)
    assert invalid.status_code == 400
    broken = await http.post(
        api.data("locked"), content=f'[{{"headers": "Bearer {TOKEN}"'.encode(), headers=GW_AUTH
    )
    assert broken.status_code == 400
    logs = await api.logs("locked")
    assert len(logs) == 4
    for log in logs:
        detail = await http.get(api.control(f"/locked/logs/{log['id']}"), headers=AUTH)
        assert TOKEN not in detail.text
        for part in ("request", "response"):
            body = await http.get(api.control(f"/locked/logs/{log['id']}/{part}"), headers=AUTH)
            assert body.status_code == 200
            assert TOKEN not in body.text
