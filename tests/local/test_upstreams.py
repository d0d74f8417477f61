"""Upstreams: forwarding to an OpenAI-compatible server, retries, timeouts, Universal fallback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import attrs
import httpx
import pytest

from aigateway_sdk.local import LocalGateway, LocalGatewayConfig, UpstreamRoute
from aigateway_sdk.local.config import routes_from_mapping, routes_from_toml
from tests.local.helpers import AUTH, GW_AUTH, MODEL, Api

pytestmark = pytest.mark.anyio

ROUTES = (
    UpstreamRoute("@cf/broken/*", kind="fault", status=500),
    UpstreamRoute("@cf/slow/*", latency_ms=400),
    UpstreamRoute("@cf/stuck/*", latency_ms=600_000),
    UpstreamRoute("@cf/flaky-local/*", kind="fault", status=503, fail_times=2),
)


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[LocalGateway]:
    """A second gateway acting as an OpenAI-compatible server (no token: accepts any key, and
    any model id)."""
    config = LocalGatewayConfig(
        db_path=tmp_path / "upstream.db",
        allow_unknown_models=True,
        upstreams=(UpstreamRoute("@cf/flaky", kind="fault", status=503, fail_times=2),),
    )
    with LocalGateway(config) as gateway:
        yield gateway


@pytest.fixture
def front(config: LocalGatewayConfig, upstream: LocalGateway) -> Iterator[LocalGateway]:
    base = f"{upstream.data_url}/up/default/compat"
    routes = (
        UpstreamRoute("@cf/forwarded/*", kind="openai", base_url=base, model="workers-ai/@cf/up/m"),
        UpstreamRoute("@cf/flaky", kind="openai", base_url=base, model="workers-ai/@cf/flaky"),
        *ROUTES,
    )
    with LocalGateway(attrs.evolve(config, upstreams=routes)) as gateway:
        yield gateway


@pytest.fixture
def fapi(front: LocalGateway, http: httpx.AsyncClient) -> Api:
    return Api(front, http)


async def test_forwarding_to_an_openai_compatible_server(
    fapi: Api, upstream: LocalGateway, http: httpx.AsyncClient
) -> None:
    forwarded = await fapi.run(prompt="forward me please", model="@cf/forwarded/x", max_tokens=30)
    assert forwarded.status_code == 200
    direct = await http.post(
        f"{upstream.data_url}/up/default/compat/chat/completions",
        json={
            "model": "workers-ai/@cf/up/m",
            "messages": [{"role": "user", "content": "forward me please"}],
            "max_tokens": 30,
        },
        headers={"authorization": "Bearer x"},
    )
    expected = direct.json()
    result = forwarded.json()["result"]
    assert result["response"] == expected["choices"][0]["message"]["content"]
    assert result["usage"] == expected["usage"]
    upstream_logs = await Api(upstream, http, account="up").logs()
    assert [log["model"] for log in upstream_logs] == ["@cf/up/m", "@cf/up/m"]


async def test_forwarded_stream(fapi: Api) -> None:
    streamed = await fapi.http.post(
        fapi.data("default", "compat/chat/completions"),
        json={
            "model": "workers-ai/@cf/forwarded/x",
            "messages": [{"role": "user", "content": "stream through"}],
            "stream": True,
            "stream_options": {"include_usage": True},
        },
        headers={**AUTH, **GW_AUTH},
    )
    assert streamed.status_code == 200
    assert streamed.text.rstrip().endswith("data: [DONE]")
    assert '"usage":{"prompt_tokens":2' in streamed.text
    assert "through" in streamed.text
    [log] = await fapi.logs()
    assert log["tokens_in"] == 2


async def test_forwarding_retries_with_max_attempts(fapi: Api, upstream: LocalGateway) -> None:
    once = await fapi.run(model="@cf/flaky", headers={"cf-aig-max-attempts": "1"})
    assert once.status_code == 503
    retried = await fapi.run(
        model="@cf/flaky", headers={"cf-aig-max-attempts": "3", "cf-aig-retry-delay": "10"}
    )
    assert retried.status_code == 200  # failure 2 of the upstream, then success
    statuses = [log["status_code"] for log in await Api(upstream, fapi.http, "up").logs()]
    assert statuses == [200, 503, 503]


async def test_unreachable_upstream_is_502(
    config: LocalGatewayConfig, http: httpx.AsyncClient
) -> None:
    route = UpstreamRoute("*", kind="openai", base_url="http://127.0.0.1:9/v1", timeout=2)
    with LocalGateway(attrs.evolve(config, upstreams=(route,))) as gw:
        response = await Api(gw, http).run()
        assert response.status_code == 502
        assert response.json()["success"] is False


async def test_gateway_retry_settings_are_the_default(fapi: Api) -> None:
    await fapi.create("retrying", retry_max_attempts=3, retry_delay=0)
    assert (await fapi.run("retrying", model="@cf/flaky-local/m")).status_code == 200


async def test_backoff_delays(fapi: Api) -> None:
    started = time.perf_counter()
    response = await fapi.run(
        model="@cf/broken/m",
        headers={
            "cf-aig-max-attempts": "3",
            "cf-aig-retry-delay": "100",
            "cf-aig-backoff": "exponential",
        },
    )
    elapsed = time.perf_counter() - started
    assert response.status_code == 500
    assert elapsed >= 0.3  # 100 ms, then 200 ms


async def test_request_timeout(fapi: Api) -> None:
    """`@cf/stuck/*` answers after ten minutes and the client gives up after 20 s (helpers):
    any reply at all means the gateway stopped waiting, and a 504 says the timeout did it."""
    timeout = {"cf-aig-request-timeout": "50"}
    response = await fapi.run(model="@cf/stuck/m", headers=timeout)
    assert response.status_code == 504
    assert response.json()["errors"][0]["code"] == 2006
    stream = await fapi.run(model="@cf/stuck/m", stream=True, headers=timeout)
    assert stream.status_code == 504
    assert [log["status_code"] for log in await fapi.logs()] == [504, 504]
    in_time = await fapi.run(model="@cf/slow/m", headers={"cf-aig-request-timeout": "60000"})
    assert in_time.status_code == 200  # a deadline the upstream meets (400 ms) cuts nothing


async def test_universal_falls_back_to_the_next_step(fapi: Api) -> None:
    steps = [
        {
            "provider": "workers-ai",
            "endpoint": "@cf/broken/m",
            "headers": AUTH,
            "query": {"prompt": "a"},
        },
        {
            "provider": "workers-ai",
            "endpoint": "@cf/slow/m",
            "headers": AUTH,
            "query": {"prompt": "b"},
            "config": {"requestTimeout": 50},
        },
        {
            "provider": "compat",
            "endpoint": "chat/completions",
            "headers": AUTH,
            "query": {
                "model": f"workers-ai/{MODEL}",
                "messages": [{"role": "user", "content": "third step"}],
            },
        },
    ]
    response = await fapi.http.post(fapi.data("default"), json=steps, headers=GW_AUTH)
    assert response.status_code == 200
    assert response.headers["cf-aig-step"] == "2"
    assert "third" in response.json()["choices"][0]["message"]["content"]
    logs = await fapi.logs(order_by_direction="asc")
    assert [(log["step"], log["success"], log["status_code"]) for log in logs] == [
        (0, False, 500),
        (1, False, 504),
        (2, True, 200),
    ]
    assert logs[2]["id"] == response.headers["cf-aig-log-id"]
    failing = await fapi.http.post(fapi.data("default"), json=steps[:2], headers=GW_AUTH)
    assert failing.status_code == 504
    assert failing.headers["cf-aig-step"] == "1"


async def test_universal_single_step_stream(fapi: Api) -> None:
    step = {
        "provider": "workers-ai",
        "endpoint": MODEL,
        "headers": AUTH,
        "query": {"prompt": "hi", "stream": True},
    }
    response = await fapi.http.post(fapi.data("default"), json=[step], headers=GW_AUTH)
    assert response.headers["cf-aig-step"] == "0"
    assert response.text.rstrip().endswith("data: [DONE]")


def test_routes_from_toml_mapping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLAMA_KEY", "k-123")
    routes = routes_from_mapping(
        {
            "upstreams": [
                {
                    "pattern": "@cf/meta/*",
                    "kind": "openai",
                    "base_url": "http://127.0.0.1:8080/v1",
                    "api_key_env": "LLAMA_KEY",
                    "model": "llama",
                },
                {"pattern": "*", "latency_ms": 5},
            ]
        }
    )
    assert routes[0].api_key == "k-123"
    assert routes[1].kind == "builtin"
    with pytest.raises(ValueError, match="unknown keys"):
        routes_from_mapping({"upstreams": [{"pattern": "*", "colour": "red"}]})
    with pytest.raises(ValueError, match="base_url"):
        routes_from_mapping({"upstreams": [{"pattern": "*", "kind": "openai"}]})


async def test_universal_bad_step_is_skipped_and_reported(fapi: Api) -> None:
    good = {"provider": "workers-ai", "endpoint": MODEL, "headers": AUTH, "query": {"prompt": "ok"}}
    bad_config = {**good, "config": {"maxAttempts": 9}}
    unknown = {"provider": "workers-ai", "endpoint": "", "headers": AUTH, "query": {}}
    response = await fapi.http.post(
        fapi.data("default"), json=[bad_config, unknown, good], headers=GW_AUTH
    )
    assert response.status_code == 200
    assert response.headers["cf-aig-step"] == "2"
    only_bad = await fapi.http.post(fapi.data("default"), json=[bad_config], headers=GW_AUTH)
    assert only_bad.status_code == 400
    assert only_bad.json()["errors"][0]["path"] == ["0"]


def test_routes_from_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "upstreams.toml"
    path.write_text(
        '[[upstreams]]\npattern = "@cf/meta/*"\nkind = "openai"\n'
        'base_url = "http://127.0.0.1:11434/v1"\nmodel = "llama3.1"\n'
    )
    [route] = routes_from_toml(path)
    assert route == UpstreamRoute(
        "@cf/meta/*", kind="openai", base_url="http://127.0.0.1:11434/v1", model="llama3.1"
    )
