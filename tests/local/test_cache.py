"""Caching: Cloudflare's key rule, ttl (gateway and header), skip, custom key, streams,
invalidation on update, byte-identical hits."""

from __future__ import annotations

from pathlib import Path

import attrs
import httpx
import pytest

from aigateway_sdk.local import LocalGateway, LocalGatewayConfig, ManualClock
from tests.local.helpers import AUTH, Api

pytestmark = pytest.mark.anyio


async def test_repeat_is_a_byte_identical_hit(api: Api) -> None:
    await api.create("cached", cache_ttl=300)
    first = await api.chat("cached", content="same question")
    second = await api.chat("cached", content="same question")
    assert first.headers["cf-aig-cache-status"] == "MISS"
    assert second.headers["cf-aig-cache-status"] == "HIT"
    assert second.content == first.content  # same id, same created: the stored bytes
    assert second.headers["cf-aig-log-id"] != first.headers["cf-aig-log-id"]
    logs = await api.logs("cached")
    assert [log["cached"] for log in logs] == [True, False]  # newest first
    assert logs[0]["tokens_out"] == logs[1]["tokens_out"]


async def test_no_caching_without_ttl(api: Api) -> None:
    await api.create("plain")
    await api.run("plain", prompt="q")
    assert (await api.run("plain", prompt="q")).headers["cf-aig-cache-status"] == "MISS"


async def test_any_body_difference_misses(api: Api) -> None:
    await api.create("cached", cache_ttl=300)
    await api.run("cached", prompt="q", max_tokens=10)
    assert (await api.run("cached", prompt="q", max_tokens=11)).headers[
        "cf-aig-cache-status"
    ] == "MISS"
    other_model = await api.run(
        "cached", prompt="q", max_tokens=10, model="@cf/meta/llama-3.2-3b-instruct"
    )
    assert other_model.headers["cf-aig-cache-status"] == "MISS"
    assert (await api.run("cached", prompt="q", max_tokens=10)).headers[
        "cf-aig-cache-status"
    ] == "HIT"


async def test_header_ttl_opts_in_and_expires_with_the_clock(api: Api, clock: ManualClock) -> None:
    await api.create("plain")
    headers = {"cf-aig-cache-ttl": "60"}
    assert (await api.run("plain", headers=headers)).headers["cf-aig-cache-status"] == "MISS"
    clock.advance(59)
    assert (await api.run("plain", headers=headers)).headers["cf-aig-cache-status"] == "HIT"
    clock.advance(2)
    assert (await api.run("plain", headers=headers)).headers["cf-aig-cache-status"] == "MISS"


async def test_gateway_ttl_expires(api: Api, clock: ManualClock) -> None:
    await api.create("cached", cache_ttl=10)
    await api.run("cached")
    clock.advance(9.5)
    assert (await api.run("cached")).headers["cf-aig-cache-status"] == "HIT"
    clock.advance(1)
    assert (await api.run("cached")).headers["cf-aig-cache-status"] == "MISS"


async def test_skip_cache_bypasses_the_cache(api: Api) -> None:
    await api.create("cached", cache_ttl=300)
    await api.run("cached")
    skipped = await api.run("cached", headers={"cf-aig-skip-cache": "true"})
    assert skipped.headers["cf-aig-cache-status"] == "MISS"
    assert (await api.run("cached")).headers["cf-aig-cache-status"] == "HIT"


async def test_custom_key_replaces_the_request_key(api: Api) -> None:
    await api.create("plain")
    key = {"cf-aig-cache-key": "greeting-v1"}
    first = await api.run("plain", prompt="one thing", headers=key)
    other_body = await api.run("plain", prompt="a different thing", headers=key)
    assert first.headers["cf-aig-cache-status"] == "MISS"  # a custom key opts in
    assert other_body.headers["cf-aig-cache-status"] == "HIT"
    assert other_body.content == first.content
    no_key = await api.run("plain", prompt="a different thing")
    assert no_key.headers["cf-aig-cache-status"] == "MISS"


async def test_metadata_is_not_part_of_the_key(api: Api) -> None:
    await api.create("cached", cache_ttl=300)
    await api.run("cached", headers={"cf-aig-metadata": '{"user": "a"}'})
    hit = await api.run("cached", headers={"cf-aig-metadata": '{"user": "b"}'})
    assert hit.headers["cf-aig-cache-status"] == "HIT"
    logs = await api.logs("cached")
    assert logs[0]["metadata"] == '{"user":"b"}'  # the hit is logged with its own metadata


async def test_provider_auth_is_part_of_the_key(gw_open: Api) -> None:
    api = gw_open
    await api.create("cached", cache_ttl=300)
    await api.run("cached", headers={"authorization": "Bearer one"})
    other = await api.run("cached", headers={"authorization": "Bearer two"})
    assert other.headers["cf-aig-cache-status"] == "MISS"


async def test_streams_are_not_cached(api: Api) -> None:
    await api.create("cached", cache_ttl=300)
    await api.run("cached", stream=True)
    again = await api.run("cached", stream=True)
    assert again.headers["cf-aig-cache-status"] == "MISS"
    assert (await api.run("cached")).headers["cf-aig-cache-status"] == "MISS"


async def test_update_drops_entries_when_invalidate_on_update(api: Api) -> None:
    await api.create("inv", cache_ttl=300, cache_invalidate_on_update=True)
    await api.create("keep", cache_ttl=300, cache_invalidate_on_update=False)
    for name in ("inv", "keep"):
        await api.run(name)
        assert (await api.run(name)).headers["cf-aig-cache-status"] == "HIT"
        assert (await api.update(name, cache_ttl=600)).status_code == 200
    assert (await api.run("inv")).headers["cf-aig-cache-status"] == "MISS"
    assert (await api.run("keep")).headers["cf-aig-cache-status"] == "HIT"


async def test_entries_do_not_survive_gateway_recreation(api: Api) -> None:
    await api.create("cached", cache_ttl=300)
    await api.run("cached")
    assert (await api.http.delete(api.control("/cached"), headers=AUTH)).status_code == 200
    await api.create("cached", cache_ttl=300)
    assert (await api.run("cached")).headers["cf-aig-cache-status"] == "MISS"


async def test_authenticated_gateway_never_shares_across_tokens(gw_open: Api) -> None:
    api = gw_open
    await api.create("locked", cache_ttl=300, authentication=True)
    await api.run("locked", headers={"cf-aig-authorization": "Bearer token-a"})
    other = await api.run("locked", headers={"cf-aig-authorization": "Bearer token-b"})
    assert other.status_code == 200
    assert other.headers["cf-aig-cache-status"] == "MISS"
    same = await api.run("locked", headers={"cf-aig-authorization": "Bearer token-a"})
    assert same.headers["cf-aig-cache-status"] == "HIT"


async def test_memory_is_bounded_lru(
    config: LocalGatewayConfig, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    with LocalGateway(attrs.evolve(config, cache_max_entries=2)) as gw:
        api = Api(gw, http)
        await api.create("cached", cache_ttl=300)
        for prompt in ("a", "b"):
            await api.run("cached", prompt=prompt)
        assert (await api.run("cached", prompt="a")).headers["cf-aig-cache-status"] == "HIT"
        await api.run("cached", prompt="c")  # evicts "b", the least recently used
        assert (await api.run("cached", prompt="a")).headers["cf-aig-cache-status"] == "HIT"
        assert (await api.run("cached", prompt="b")).headers["cf-aig-cache-status"] == "MISS"
    small = attrs.evolve(config, cache_max_bytes=1500, db_path=tmp_path / "b.db")
    with LocalGateway(small) as gw:
        api = Api(gw, http)
        await api.create("cached", cache_ttl=300)
        for prompt in ("a", "b", "c", "d"):
            await api.run("cached", prompt=prompt)
        assert (await api.run("cached", prompt="d")).headers["cf-aig-cache-status"] == "HIT"
        assert (await api.run("cached", prompt="a")).headers["cf-aig-cache-status"] == "MISS"
