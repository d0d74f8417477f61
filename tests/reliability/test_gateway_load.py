"""The local gateway under concurrent load: no log lost or duplicated, rate limits exact (fixed
and sliding) under 200 concurrent callers, and both log-cap strategies exact under concurrency."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest

from aigateway_sdk.local import LocalGateway, LocalGatewayConfig, ManualClock

from .gateway import AUTH, Planes, client, db_log_ids

pytestmark = pytest.mark.anyio
WINDOW_START = 1_767_225_600.0  # a multiple of 60: the start of a fixed window
CAP = 20


@pytest.fixture(scope="module")
def clock() -> ManualClock:
    return ManualClock(WINDOW_START)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("load") / "gw.db"


@pytest.fixture(scope="module")
def gw(db: Path, clock: ManualClock) -> Iterator[LocalGateway]:
    config = LocalGatewayConfig(
        db_path=db, api_token="reliability-secret-token", clock=clock, log_cap_override=CAP
    )
    with LocalGateway(config) as gateway:
        yield gateway


@pytest.fixture
def account() -> str:
    return f"acct-{uuid.uuid4().hex[:10]}"


async def fire(planes: Planes, gateway_id: str, count: int) -> list[httpx.Response]:
    """`count` requests at once (as many in flight as the client's pool allows)."""
    responses: list[httpx.Response] = []

    async def one(i: int) -> None:
        responses.append(await planes.run(gateway_id, prompt=f"request {i}"))

    async with anyio.create_task_group() as group:
        for i in range(count):
            group.start_soon(one, i)
    return responses


def statuses(responses: list[httpx.Response]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for response in responses:
        counts[response.status_code] = counts.get(response.status_code, 0) + 1
    return counts


async def test_a_thousand_concurrent_requests_store_exactly_a_thousand_logs(
    gw: LocalGateway, db: Path, account: str
) -> None:
    async with client(connections=100) as http:
        planes = Planes(gw.url, http, account)
        await planes.create("load")
        responses = await fire(planes, "load", 1000)
        assert statuses(responses) == {200: 1000}
        log_ids = [r.headers["cf-aig-log-id"] for r in responses]
        assert len(set(log_ids)) == 1000, "every request gets its own log id"
        assert await planes.log_total("load") == 1000
    stored = db_log_ids(db, account, "load")
    assert len(stored) == 1000
    assert set(stored) == set(log_ids)


@pytest.mark.parametrize("technique", ["fixed", "sliding"])
async def test_rate_limit_lets_exactly_n_through_under_200_concurrent_callers(
    gw: LocalGateway, clock: ManualClock, account: str, technique: str
) -> None:
    limit = 7
    clock.set(WINDOW_START + 59)  # the last second of a fixed window
    async with client(connections=200) as http:
        planes = Planes(gw.url, http, account)
        await planes.create(
            "limited",
            rate_limiting_limit=limit,
            rate_limiting_interval=60,
            rate_limiting_technique=technique,
        )
        first = await fire(planes, "limited", 200)
        assert statuses(first) == {200: limit, 429: 200 - limit}
        limited = next(r for r in first if r.status_code == 429)
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json()["errors"][0]["code"] == 2003

        clock.set(WINDOW_START + 61)  # a new fixed window; same trailing minute
        second = await fire(planes, "limited", 200)
        expected = limit if technique == "fixed" else 0
        assert statuses(second).get(200, 0) == expected

        clock.set(WINDOW_START + 59 + 60)  # the first seven are a full interval old
        third = await fire(planes, "limited", 50)
        assert statuses(third).get(200, 0) == (0 if technique == "fixed" else limit)
    clock.set(WINDOW_START)


async def test_stop_inserting_stores_none_past_the_cap(
    gw: LocalGateway, db: Path, account: str
) -> None:
    async with client(connections=100) as http:
        planes = Planes(gw.url, http, account)
        await planes.create(
            "capped", log_management=10_000, log_management_strategy="STOP_INSERTING"
        )
        responses = await fire(planes, "capped", 150)
        assert statuses(responses) == {200: 150}
        assert await planes.log_total("capped") == CAP
        more = await fire(planes, "capped", 30)
        assert statuses(more) == {200: 30}
        assert await planes.log_total("capped") == CAP
    stored = db_log_ids(db, account, "capped")
    assert len(stored) == CAP
    assert not set(stored) & {r.headers.get("cf-aig-log-id") for r in more}


async def test_delete_oldest_keeps_the_newest_logs(
    gw: LocalGateway, db: Path, account: str
) -> None:
    async with client(connections=100) as http:
        planes = Planes(gw.url, http, account)
        await planes.create(
            "rolling", log_management=10_000, log_management_strategy="DELETE_OLDEST"
        )
        responses = await fire(planes, "rolling", 150)
        assert statuses(responses) == {200: 150}
        assert await planes.log_total("rolling") == CAP
        # Then CAP requests one after another: exactly those must be the logs kept.
        newest = [(await planes.run("rolling")).headers["cf-aig-log-id"] for _ in range(CAP)]
        assert await planes.log_total("rolling") == CAP
    assert db_log_ids(db, account, "rolling") == newest


async def test_concurrent_creates_are_exact(gw: LocalGateway, account: str) -> None:
    """50 concurrent creates of one id: one 200, the rest 409. 50 distinct ids: exactly the
    account's limit of 10 succeed."""
    async with client(connections=50) as http:
        planes = Planes(gw.url, http, account)
        body = {"cache_ttl": 0, "cache_invalidate_on_update": False, "collect_logs": True}
        body |= {"rate_limiting_interval": 0, "rate_limiting_limit": 0}
        codes: list[int] = []

        async def create(gateway_id: str) -> None:
            response = await http.post(
                planes.control(), json={"id": gateway_id, **body}, headers=AUTH
            )
            codes.append(response.status_code)

        async with anyio.create_task_group() as group:
            for _ in range(50):
                group.start_soon(create, "same")
        assert sorted(codes) == [200] + [409] * 49
        codes.clear()
        async with anyio.create_task_group() as group:
            for i in range(50):
                group.start_soon(create, f"gw-{i}")
        assert codes.count(200) == 9  # "same" is the tenth
        assert all(code in (200, 400) for code in codes)
        listed = await http.get(planes.control(), params={"per_page": 50}, headers=AUTH)
        assert len(listed.json()["result"]) == 10
