"""Gateway CRUD over the control plane: validation, limits, and the official `cloudflare` SDK."""

from __future__ import annotations

from typing import Any

import cloudflare
import httpx
import pytest

from aigateway_sdk.local import LocalGateway, ManualClock
from tests.local.helpers import AUTH, GATEWAY_DEFAULTS, TOKEN, Api, async_client

pytestmark = pytest.mark.anyio

OTHER_MODEL = "@cf/meta/llama-3.2-3b-instruct"


async def test_create_get_update_delete(
    api: Api, http: httpx.AsyncClient, clock: ManualClock
) -> None:
    created = await api.create("prod-gw", cache_ttl=300, rate_limiting_technique="sliding")
    assert created["id"] == "prod-gw"
    assert created["cache_ttl"] == 300
    assert created["rate_limiting_technique"] == "sliding"
    assert created["authentication"] is False
    assert created["created_at"] == created["modified_at"] == "2026-01-05T12:00:00.000Z"
    got = (await http.get(api.control("/prod-gw"), headers=AUTH)).json()
    assert got["success"] is True
    assert got["result"] == created

    clock.advance(90)
    updated = await api.update("prod-gw", cache_ttl=60, collect_logs=False)
    assert updated.status_code == 200
    result = updated.json()["result"]
    assert result["cache_ttl"] == 60
    assert result["collect_logs"] is False
    assert result["rate_limiting_technique"] == "sliding"  # untouched fields stay
    assert result["created_at"] == created["created_at"]
    assert result["modified_at"] == "2026-01-05T12:01:30.000Z"

    deleted = await http.delete(api.control("/prod-gw"), headers=AUTH)
    assert deleted.status_code == 200
    assert deleted.json()["result"]["id"] == "prod-gw"
    assert (await http.get(api.control("/prod-gw"), headers=AUTH)).status_code == 404
    assert (await http.delete(api.control("/prod-gw"), headers=AUTH)).status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": "Bad_ID!"}, "id"),
        ({"id": "x" * 65}, "id"),
        ({"cache_ttl": -1}, "cache_ttl"),
        ({"cache_ttl": "300"}, "cache_ttl"),
        ({"collect_logs": "yes"}, "collect_logs"),
        ({"rate_limiting_technique": "leaky"}, "rate_limiting_technique"),
        ({"log_management": 5}, "log_management"),
        ({"log_management_strategy": "KEEP"}, "log_management_strategy"),
        ({"logpush_public_key": "short"}, "logpush_public_key"),
    ],
)
async def test_create_validation_names_the_field(
    api: Api, http: httpx.AsyncClient, change: dict[str, Any], field: str
) -> None:
    body = {"id": "ok-id", **GATEWAY_DEFAULTS, **change}
    response = await http.post(api.control(), json=body, headers=AUTH)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [field] in [error["path"] for error in errors]
    assert all(isinstance(error["code"], int) for error in errors)


async def test_create_requires_cloudflares_required_fields(
    api: Api, http: httpx.AsyncClient
) -> None:
    response = await http.post(api.control(), json={"id": "only-id"}, headers=AUTH)
    assert response.status_code == 400
    paths = {error["path"][0] for error in response.json()["errors"]}
    assert paths == set(GATEWAY_DEFAULTS)


async def test_update_validation(api: Api) -> None:
    await api.create("g")
    response = await api.update("g", rate_limiting_limit=-5)
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == ["rate_limiting_limit"]
    assert (await api.update("missing", cache_ttl=1)).status_code == 404


async def test_duplicate_id_is_409(api: Api, http: httpx.AsyncClient) -> None:
    await api.create("dup")
    response = await http.post(api.control(), json={"id": "dup", **GATEWAY_DEFAULTS}, headers=AUTH)
    assert response.status_code == 409
    assert response.json()["errors"][0]["path"] == ["id"]


async def test_ten_gateways_per_account(api: Api, http: httpx.AsyncClient) -> None:
    for i in range(10):
        await api.create(f"g{i}")
    response = await http.post(api.control(), json={"id": "g10", **GATEWAY_DEFAULTS}, headers=AUTH)
    assert response.status_code == 400
    assert "at most 10" in response.json()["errors"][0]["message"]
    other = Api(api.gw, http, account=api.account + "-b")
    await other.create("g10")  # the limit is per account


async def test_list_pages_and_search(api: Api, http: httpx.AsyncClient) -> None:
    for name in ("alpha", "beta", "alphabet", "gamma"):
        await api.create(name)
    everything = (await http.get(api.control(), headers=AUTH)).json()
    assert [g["id"] for g in everything["result"]] == ["alpha", "beta", "alphabet", "gamma"]
    assert everything["result_info"] == {"page": 1, "per_page": 20, "count": 4, "total_count": 4}
    found = (await http.get(api.control(), params={"search": "alpha"}, headers=AUTH)).json()
    assert [g["id"] for g in found["result"]] == ["alpha", "alphabet"]
    page = (await http.get(api.control(), params={"page": 2, "per_page": 3}, headers=AUTH)).json()
    assert [g["id"] for g in page["result"]] == ["gamma"]
    assert page["result_info"]["total_count"] == 4


async def test_gateway_url(api: Api, http: httpx.AsyncClient) -> None:
    await api.create("urls")
    response = await http.get(api.control("/urls/url/workers-ai"), headers=AUTH)
    url = response.json()["result"]
    assert url == f"{api.gw.data_url}/{api.account}/urls/workers-ai"
    assert (await http.get(api.control("/nope/url/workers-ai"), headers=AUTH)).status_code == 404


async def test_official_cloudflare_client(gw: LocalGateway, account: str) -> None:
    async with cloudflare.AsyncCloudflare(
        api_token=TOKEN, base_url=gw.api_url, http_client=async_client()
    ) as cf:
        created = await cf.ai_gateway.create(
            account_id=account,
            id="sdk-gw",
            cache_invalidate_on_update=True,
            cache_ttl=120,
            collect_logs=True,
            rate_limiting_interval=60,
            rate_limiting_limit=5,
            rate_limiting_technique="sliding",
        )
        assert created.id == "sdk-gw"
        assert created.cache_ttl == 120
        assert created.created_at.year == 2026
        listed = [g.id async for g in cf.ai_gateway.list(account_id=account)]
        assert listed == ["sdk-gw"]
        got = await cf.ai_gateway.get("sdk-gw", account_id=account)
        assert got.rate_limiting_technique == "sliding"
        updated = await cf.ai_gateway.update(
            "sdk-gw",
            account_id=account,
            cache_invalidate_on_update=True,
            cache_ttl=30,
            collect_logs=True,
            rate_limiting_interval=60,
            rate_limiting_limit=7,
        )
        assert updated.cache_ttl == 30
        assert updated.rate_limiting_limit == 7
        assert updated.modified_at >= updated.created_at

        async with async_client() as http:
            api = Api(gw, http, account)
            for prompt in ("one", "two"):
                await api.run("sdk-gw", prompt=prompt)
            await api.run("sdk-gw", prompt="three", model=OTHER_MODEL)
        logs = [log async for log in cf.ai_gateway.logs.list("sdk-gw", account_id=account)]
        assert len(logs) == 3
        assert all(log.provider == "workers-ai" for log in logs)
        assert logs[0].tokens_in == 1
        filtered = cf.ai_gateway.logs.list(
            "sdk-gw",
            account_id=account,
            filters=[{"key": "model", "operator": "eq", "value": [OTHER_MODEL]}],
        )
        assert [log.model async for log in filtered] == [OTHER_MODEL]
        two_filters = cf.ai_gateway.logs.list(
            "sdk-gw",
            account_id=account,
            filters=[
                {"key": "model", "operator": "neq", "value": [OTHER_MODEL]},
                {"key": "success", "operator": "eq", "value": [True]},
            ],
        )
        assert len([log async for log in two_filters]) == 2
        one = await cf.ai_gateway.logs.get(logs[0].id, account_id=account, gateway_id="sdk-gw")
        assert one.id == logs[0].id
        assert one.response_size
        request = await cf.ai_gateway.logs.request(
            logs[0].id, account_id=account, gateway_id="sdk-gw"
        )
        assert request == {"prompt": "three"}
        response = await cf.ai_gateway.logs.response(
            logs[0].id, account_id=account, gateway_id="sdk-gw"
        )
        assert isinstance(response, dict)
        assert response["success"] is True
        url = await cf.ai_gateway.urls.get("workers-ai", account_id=account, gateway_id="sdk-gw")
        assert url == f"{gw.data_url}/{account}/sdk-gw/workers-ai"
        await cf.ai_gateway.logs.edit(
            logs[0].id, account_id=account, gateway_id="sdk-gw", feedback=1, score=10
        )
        await cf.ai_gateway.logs.delete(
            "sdk-gw",
            account_id=account,
            filters=[{"key": "model", "operator": "eq", "value": [OTHER_MODEL]}],
        )
        remaining = [
            log.model async for log in cf.ai_gateway.logs.list("sdk-gw", account_id=account)
        ]
        assert remaining == ["@cf/meta/llama-3.1-8b-instruct"] * 2

        deleted = await cf.ai_gateway.delete("sdk-gw", account_id=account)
        assert deleted.id == "sdk-gw"
        with pytest.raises(cloudflare.NotFoundError):
            await cf.ai_gateway.get("sdk-gw", account_id=account)
        with pytest.raises(cloudflare.BadRequestError):
            await cf.ai_gateway.create(
                account_id=account,
                id="Not Valid",
                cache_invalidate_on_update=False,
                cache_ttl=0,
                collect_logs=True,
                rate_limiting_interval=0,
                rate_limiting_limit=0,
            )

    async with cloudflare.AsyncCloudflare(
        api_token="wrong", base_url=gw.api_url, http_client=async_client(), max_retries=0
    ) as bad:
        with pytest.raises(cloudflare.AuthenticationError):
            await bad.ai_gateway.get("x", account_id=account)
