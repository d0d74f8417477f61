"""Logs: what is recorded, the collect-log switches, caps, and the logs API."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import anyio
import attrs
import httpx
import pytest

from aigateway_sdk.local import LocalGateway, LocalGatewayConfig, ManualClock, UpstreamRoute
from tests.local.helpers import AUTH, GW_AUTH, MODEL, TOKEN, Api, async_client

pytestmark = pytest.mark.anyio

OTHER_MODEL = "@cf/meta/llama-3.2-3b-instruct"


async def test_log_fields(api: Api, http: httpx.AsyncClient) -> None:
    response = await api.run(
        prompt="log me",
        max_tokens=9,
        headers={
            "cf-aig-metadata": json.dumps({"user": "u1", "n": 3, "beta": True}),
            "cf-aig-event-id": "evt-42",
            "cf-aig-custom-cost": json.dumps({"per_token_in": 0.5, "per_token_out": 2}),
        },
    )
    log_id = response.headers["cf-aig-log-id"]
    [log] = await api.logs()
    assert log["id"] == log_id
    assert log["created_at"] == "2026-01-05T12:00:00.000Z"  # from the injected clock
    assert log["provider"] == "workers-ai"
    assert log["model"] == MODEL
    assert log["path"] == f"workers-ai/{MODEL}"
    assert log["success"] is True
    assert log["cached"] is False
    assert log["status_code"] == 200
    assert log["tokens_in"] == 2
    assert log["tokens_out"] == 9
    assert log["cost"] == 2 * 0.5 + 9 * 2
    assert log["custom_cost"] is True
    assert json.loads(log["metadata"]) == {"user": "u1", "n": 3, "beta": True}
    assert log["event_id"] == "evt-42"
    assert log["request_content_type"] == "application/json"
    assert log["response_content_type"] == "application/json"
    assert isinstance(log["duration"], int)
    detail = (await http.get(api.control(f"/default/logs/{log_id}"), headers=AUTH)).json()
    assert detail["result"]["request_head_complete"] is True
    request = await http.get(api.control(f"/default/logs/{log_id}/request"), headers=AUTH)
    assert request.json() == {"prompt": "log me", "max_tokens": 9}
    stored = await http.get(api.control(f"/default/logs/{log_id}/response"), headers=AUTH)
    assert stored.content == response.content


async def test_total_custom_cost(api: Api) -> None:
    await api.run(headers={"cf-aig-custom-cost": '{"total_cost": 0.25}'})
    assert (await api.logs())[0]["cost"] == 0.25


async def test_stream_is_logged_with_tokens_before_done(api: Api, http: httpx.AsyncClient) -> None:
    response = await api.run(prompt="a stream", stream=True)
    [log] = await api.logs()
    assert log["id"] == response.headers["cf-aig-log-id"]
    assert log["response_content_type"] == "text/event-stream"
    assert log["tokens_out"] > 0
    assert log["success"] is True
    stored = await http.get(api.control(f"/default/logs/{log['id']}/response"), headers=AUTH)
    assert stored.content == response.content


async def test_collect_logs_switches(api: Api) -> None:
    await api.create("quiet", collect_logs=False)
    silent = await api.run("quiet")
    assert "cf-aig-log-id" not in silent.headers
    forced = await api.run("quiet", headers={"cf-aig-collect-log": "true"})
    assert "cf-aig-log-id" in forced.headers
    await api.create("loud")
    muted = await api.run("loud", headers={"cf-aig-collect-log": "false"})
    assert "cf-aig-log-id" not in muted.headers
    assert len(await api.logs("quiet")) == 1
    assert await api.logs("loud") == []


async def test_errors_are_logged_with_their_status(api: Api, http: httpx.AsyncClient) -> None:
    bad = await http.post(
        api.data("default", f"workers-ai/{MODEL}"),
        content=b"{not json",
        headers={**AUTH, **GW_AUTH},
    )
    assert bad.status_code == 400
    [log] = await api.logs()
    assert log["id"] == bad.headers["cf-aig-log-id"]
    assert log["success"] is False
    assert log["status_code"] == 400


@pytest.fixture
def capped(tmp_path: Path, clock: ManualClock) -> LocalGatewayConfig:
    return LocalGatewayConfig(
        db_path=tmp_path / "capped.db", api_token=TOKEN, clock=clock, log_cap_override=3
    )


async def test_stop_inserting_cap(capped: LocalGatewayConfig, http: httpx.AsyncClient) -> None:
    with LocalGateway(capped) as gw:
        api = Api(gw, http)
        await api.create("g", log_management=10_000, log_management_strategy="STOP_INSERTING")
        replies = [await api.run("g", prompt=f"p{i}") for i in range(5)]
        logs = await api.logs("g", order_by_direction="asc")
        assert [log["id"] for log in logs] == [r.headers["cf-aig-log-id"] for r in replies[:3]]
        assert all(r.status_code == 200 for r in replies)
        assert all("cf-aig-log-id" not in r.headers for r in replies[3:])  # nothing stored


async def test_delete_oldest_cap(capped: LocalGatewayConfig, http: httpx.AsyncClient) -> None:
    with LocalGateway(capped) as gw:
        api = Api(gw, http)
        await api.create("g", log_management=10_000, log_management_strategy="DELETE_OLDEST")
        replies = [await api.run("g", prompt=f"p{i}") for i in range(5)]
        logs = await api.logs("g", order_by_direction="asc")
        assert [log["id"] for log in logs] == [r.headers["cf-aig-log-id"] for r in replies[2:]]


async def test_cap_counts_logs_kept_across_restart(
    capped: LocalGatewayConfig, http: httpx.AsyncClient
) -> None:
    gw = LocalGateway(capped)
    with gw:
        api = Api(gw, http)
        await api.create("g", log_management=10_000, log_management_strategy="STOP_INSERTING")
        for i in range(2):
            await api.run("g", prompt=f"p{i}")
    with gw:
        for i in range(3):
            await api.run("g", prompt=f"q{i}")
        assert len(await api.logs("g")) == 3


def fill_logs(db: Path, account: str, gateway_id: str, total: int) -> None:
    """Copy the gateway's one log until it has `total` (straight into SQLite, gateway stopped)."""
    with closing(sqlite3.connect(db)) as conn, conn:
        columns = "account_id, gateway_id, created_ms, provider, model, path, success, cached, "
        columns += "status_code, duration"
        row = conn.execute(
            f"SELECT {columns} FROM logs WHERE account_id = ? AND gateway_id = ?",
            (account, gateway_id),
        ).fetchone()
        have = conn.execute(
            "SELECT COUNT(*) FROM logs WHERE account_id = ? AND gateway_id = ?",
            (account, gateway_id),
        ).fetchone()[0]
        conn.executemany(
            f"INSERT INTO logs (id, {columns}) VALUES (?, {', '.join('?' * 10)})",
            ((f"00FILL{i:020d}", *row) for i in range(total - have)),
        )


async def test_the_gateways_own_log_management_cap_applies(
    config: LocalGatewayConfig, http: httpx.AsyncClient
) -> None:
    """No test override: the gateway's real `log_management` (10,000, Cloudflare's least)
    caps its logs, with either strategy."""
    assert config.log_cap_override is None
    assert config.db_path is not None
    gw = LocalGateway(config)
    with gw:
        api = Api(gw, http)
        await api.create("g", log_management=10_000, log_management_strategy="STOP_INSERTING")
        assert "cf-aig-log-id" in (await api.run("g")).headers
    fill_logs(Path(config.db_path), api.account, "g", 9_999)
    with gw:
        kept = await api.run("g", prompt="the ten thousandth")
        dropped = await api.run("g", prompt="one too many")
        assert kept.status_code == dropped.status_code == 200
        assert "cf-aig-log-id" in kept.headers
        assert "cf-aig-log-id" not in dropped.headers
        newest = await api.logs("g", per_page=1)
        assert newest[0]["id"] == kept.headers["cf-aig-log-id"]
        await api.update("g", log_management_strategy="DELETE_OLDEST")
        oldest = (await api.logs("g", per_page=1, order_by_direction="asc"))[0]["id"]
        latest = await api.run("g", prompt="pushes the oldest out")
        assert "cf-aig-log-id" in latest.headers
        response = await http.get(
            api.control("/g/logs"),
            params={"per_page": 1, "order_by_direction": "asc"},
            headers=AUTH,
        )
        assert response.json()["result_info"]["total_count"] == 10_000
        assert response.json()["result"][0]["id"] != oldest


async def test_logs_and_gateways_survive_restart(
    config: LocalGatewayConfig, http: httpx.AsyncClient
) -> None:
    gw = LocalGateway(attrs.evolve(config, log_durability="background"))
    with gw:
        api = Api(gw, http)
        created = await api.create("persist", cache_ttl=42, authentication=True)
        ids = [
            (await api.run("persist", prompt=f"p{i}")).headers["cf-aig-log-id"] for i in range(20)
        ]
    with LocalGateway(config) as again:
        api = Api(again, http)
        gateway = (await http.get(api.control("/persist"), headers=AUTH)).json()["result"]
        assert gateway == created
        logs = await api.logs("persist", order_by_direction="asc")
        assert [log["id"] for log in logs] == ids


async def seed(api: Api) -> list[str]:
    """Four logs with different models, metadata, success and tokens."""
    ids = []
    for prompt, meta, model in (
        ("one", {"user": "ann", "tier": "free"}, MODEL),
        ("two two", {"user": "bob"}, MODEL),
        ("three three three", {"user": "ann"}, OTHER_MODEL),
    ):
        response = await api.run(
            prompt=prompt, model=model, headers={"cf-aig-metadata": json.dumps(meta)}
        )
        ids.append(response.headers["cf-aig-log-id"])
    broken = await api.http.post(
        api.data("default", f"workers-ai/{MODEL}"), content=b"[", headers={**AUTH, **GW_AUTH}
    )
    ids.append(broken.headers["cf-aig-log-id"])
    return ids


def ids_of(logs: list[dict[str, object]]) -> list[object]:
    return [log["id"] for log in logs]


async def test_filters_in_json_form(api: Api) -> None:
    ids = await seed(api)

    async def only(*filters: dict[str, object]) -> list[object]:
        logs = await api.logs(filters=json.dumps(list(filters)), order_by_direction="asc")
        return ids_of(logs)

    assert await only({"key": "model", "operator": "eq", "value": [OTHER_MODEL]}) == [ids[2]]
    assert await only({"key": "success", "operator": "eq", "value": [False]}) == [ids[3]]
    assert await only({"key": "tokens_in", "operator": "gt", "value": [1]}) == ids[1:3]
    assert await only({"key": "tokens_in", "operator": "lt", "value": [2]}) == [ids[0]]
    assert await only({"key": "metadata.value", "operator": "eq", "value": ["ann"]}) == [
        ids[0],
        ids[2],
    ]
    assert await only({"key": "metadata.key", "operator": "eq", "value": ["tier"]}) == [ids[0]]
    assert await only({"key": "model", "operator": "contains", "value": ["3.2-3b"]}) == [ids[2]]
    assert await only({"key": "id", "operator": "neq", "value": [ids[0], ids[1]]}) == ids[2:]
    assert await only(
        {"key": "metadata.value", "operator": "eq", "value": ["ann"]},
        {"key": "model", "operator": "eq", "value": [MODEL]},
    ) == [ids[0]]


async def test_filters_in_bracket_form_and_simple_params(api: Api) -> None:
    ids = await seed(api)
    params = {
        "filters[0][key]": "model",
        "filters[0][operator]": "eq",
        "filters[0][value][]": OTHER_MODEL,
    }
    assert ids_of(await api.logs(**params)) == [ids[2]]
    assert ids_of(await api.logs(success="false")) == [ids[3]]
    assert ids_of(await api.logs(model=MODEL, order_by_direction="asc")) == [ids[0], ids[1], ids[3]]


async def test_search_order_and_pages(api: Api, http: httpx.AsyncClient) -> None:
    ids = await seed(api)
    assert ids_of(await api.logs(search="bob")) == [ids[1]]
    assert ids_of(await api.logs()) == ids[::-1]  # newest first by default
    assert ids_of(await api.logs(order_by="model", order_by_direction="desc"))[0] == ids[2]
    page = await http.get(
        api.control("/default/logs"), params={"per_page": 3, "page": 2}, headers=AUTH
    )
    body = page.json()
    assert ids_of(body["result"]) == [ids[0]]
    assert body["result_info"]["total_count"] == 4
    assert body["result_info"]["count"] == 1


async def test_bad_filters_are_400(api: Api, http: httpx.AsyncClient) -> None:
    for params in (
        {"filters": "not json"},
        {"filters": json.dumps([{"key": "nope", "operator": "eq", "value": ["x"]}])},
        {"filters": json.dumps([{"key": "model", "operator": "like", "value": ["x"]}])},
        {"filters": json.dumps([{"key": "success", "operator": "gt", "value": [1]}])},
        {"filters": json.dumps([{"key": "tokens_in", "operator": "eq", "value": ["many"]}])},
        {"order_by": "nope"},
        {"per_page": "0"},
    ):
        response = await http.get(api.control("/default/logs"), params=params, headers=AUTH)
        await api.run()  # the gateway exists and keeps serving
        assert response.status_code in (400, 404), params
        assert response.json()["success"] is False


async def test_patch_feedback_score_metadata(api: Api, http: httpx.AsyncClient) -> None:
    log_id = (await api.run()).headers["cf-aig-log-id"]
    url = api.control(f"/default/logs/{log_id}")
    patched = await http.patch(
        url, json={"feedback": 1, "score": 87, "metadata": {"reviewed": True}}, headers=AUTH
    )
    assert patched.status_code == 200
    log = (await http.get(url, headers=AUTH)).json()["result"]
    assert log["feedback"] == 1
    assert log["score"] == 87
    assert json.loads(log["metadata"]) == {"reviewed": True}
    bad = await http.patch(url, json={"feedback": 5}, headers=AUTH)
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["path"] == ["feedback"]
    missing = await http.patch(api.control("/default/logs/NOPE"), json={"score": 1}, headers=AUTH)
    assert missing.status_code == 404


async def test_delete_with_filters_and_limit(api: Api, http: httpx.AsyncClient) -> None:
    ids = await seed(api)
    url = api.control("/default/logs")
    failed = json.dumps([{"key": "success", "operator": "eq", "value": [False]}])
    deleted = await http.delete(url, params={"filters": failed}, headers=AUTH)
    assert deleted.status_code == 200
    assert deleted.json()["success"] is True
    assert ids_of(await api.logs(order_by_direction="asc")) == ids[:3]
    oldest = await http.delete(
        url,
        params={"limit": 2, "order_by": "created_at", "order_by_direction": "asc"},
        headers=AUTH,
    )
    assert oldest.status_code == 200
    assert ids_of(await api.logs()) == [ids[2]]


async def test_unknown_log_is_404(api: Api, http: httpx.AsyncClient) -> None:
    await api.run()
    response = await http.get(api.control("/default/logs/01ARZ3NDEKTSV4RRFFQ69G5FAV"), headers=AUTH)
    assert response.status_code == 404
    assert response.json()["success"] is False


async def test_abandoned_stream_is_logged_and_server_keeps_serving(
    config: LocalGatewayConfig, http: httpx.AsyncClient
) -> None:
    slow = UpstreamRoute("@cf/slow-stream/*", token_latency_ms=30)
    with LocalGateway(attrs.evolve(config, upstreams=(slow,))) as gw:
        api = Api(gw, http)
        async with (
            async_client() as quitter,
            quitter.stream(
                "POST",
                api.data("default", "workers-ai/@cf/slow-stream/m"),
                json={"prompt": "long story", "stream": True},
                headers={**AUTH, **GW_AUTH},
            ) as response,
        ):
            log_id = response.headers["cf-aig-log-id"]
            async for _chunk in response.aiter_bytes():
                break  # hang up after the first bytes
        assert (await api.run(prompt="still here")).status_code == 200
        for _ in range(100):
            logs = {log["id"]: log for log in await api.logs()}
            if log_id in logs:
                break
            await anyio.sleep(0.05)
        assert logs[log_id]["status_code"] == 499
        assert logs[log_id]["success"] is False
