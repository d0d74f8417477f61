"""Rate limiting per gateway: fixed (clock-aligned) and sliding windows, exact under load."""

from __future__ import annotations

from datetime import UTC, datetime

import anyio
import pytest

from aigateway_sdk.local import ManualClock
from tests.local.helpers import Api

pytestmark = pytest.mark.anyio


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2026, 1, 5, hour, minute, second, tzinfo=UTC)


async def burst(api: Api, gateway: str, n: int) -> list[int]:
    return [(await api.run(gateway, prompt=f"q{i}")).status_code for i in range(n)]


async def test_fixed_window_passes_the_12_09_12_11_example(api: Api, clock: ManualClock) -> None:
    await api.create(
        "fixed", rate_limiting_limit=10, rate_limiting_interval=600, rate_limiting_technique="fixed"
    )
    clock.set(at(12, 9))
    assert await burst(api, "fixed", 10) == [200] * 10
    clock.set(at(12, 11))
    assert await burst(api, "fixed", 10) == [200] * 10  # a new 12:10-12:20 window
    assert (await api.run("fixed")).status_code == 429


async def test_sliding_window_refuses_the_12_09_12_11_example(api: Api, clock: ManualClock) -> None:
    await api.create(
        "sliding",
        rate_limiting_limit=10,
        rate_limiting_interval=600,
        rate_limiting_technique="sliding",
    )
    clock.set(at(12, 9))
    assert await burst(api, "sliding", 10) == [200] * 10
    clock.set(at(12, 11))
    refused = await api.run("sliding")
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == str(8 * 60)  # the 12:09 requests leave at 12:19
    clock.set(at(12, 19, 1))
    assert await burst(api, "sliding", 10) == [200] * 10


async def test_429_is_cloudflare_shaped_logged_and_not_processed(
    api: Api, clock: ManualClock
) -> None:
    await api.create("tight", rate_limiting_limit=1, rate_limiting_interval=60)
    clock.set(at(12, 0, 15))
    assert (await api.run("tight")).status_code == 200
    refused = await api.run("tight", prompt="should not run")
    assert refused.status_code == 429
    assert refused.json() == {
        "success": False,
        "result": [],
        "messages": [],
        "errors": [{"code": 2003, "message": "Rate limited"}],
    }
    assert refused.headers["retry-after"] == "45"
    logs = await api.logs("tight")
    assert logs[0]["status_code"] == 429
    assert logs[0]["success"] is False
    assert logs[0]["tokens_out"] is None  # never reached the model


async def test_cache_hits_count_against_the_limit(api: Api) -> None:
    await api.create("both", cache_ttl=300, rate_limiting_limit=2, rate_limiting_interval=60)
    assert (await api.run("both")).status_code == 200
    assert (await api.run("both")).headers["cf-aig-cache-status"] == "HIT"
    assert (await api.run("both")).status_code == 429


async def test_updating_the_rule_applies_at_once(api: Api) -> None:
    await api.create("g", rate_limiting_limit=1, rate_limiting_interval=60)
    assert await burst(api, "g", 2) == [200, 429]
    assert (await api.update("g", rate_limiting_limit=0)).status_code == 200
    assert await burst(api, "g", 3) == [200] * 3


@pytest.mark.parametrize("technique", ["fixed", "sliding"])
async def test_exactly_n_pass_under_concurrency(api: Api, technique: str) -> None:
    await api.create(
        "busy",
        rate_limiting_limit=37,
        rate_limiting_interval=3600,
        rate_limiting_technique=technique,
    )
    statuses: list[int] = []

    async def one(i: int) -> None:
        statuses.append((await api.run("busy", prompt=f"p{i}")).status_code)

    async with anyio.create_task_group() as group:
        for i in range(200):
            group.start_soon(one, i)
    assert statuses.count(200) == 37
    assert statuses.count(429) == 163
