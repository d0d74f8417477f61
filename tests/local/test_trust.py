"""Input the gateway must refuse with a Cloudflare-shaped 4xx (never a 500), no write before
authentication, out-of-range settings refused, and no secret in a server-side repr."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import attrs
import httpx
import pytest

from aigateway_sdk.local import LocalGateway, LocalGatewayConfig, UpstreamRoute
from aigateway_sdk.local.dataplane.headers import parse_options
from aigateway_sdk.local.dataplane.universal import MAX_STEPS
from aigateway_sdk.local.web.body import MAX_JSON_DEPTH
from tests.local.helpers import AUTH, GW_AUTH, MODEL, TOKEN, Api, async_client

pytestmark = pytest.mark.anyio
DEEP = MAX_JSON_DEPTH + 130  # past orjson's write limit (254) once wrapped, inside its read limit


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def chat_body(model: str, value: str) -> str:
    """A chat body with `value` 5 levels down: the only value of a JSON-mode schema's enum
    (body, response_format, json_schema, schema, enum), which the built-in model hashes and
    answers."""
    messages = '[{"role": "user", "content": "hi"}]'
    schema = f'{{"name": "n", "schema": {{"enum": [{value}]}}}}'
    response_format = f'{{"type": "json_schema", "json_schema": {schema}}}'
    return f'{{"model": "{model}", "messages": {messages}, "response_format": {response_format}}}'


def assert_400(response: httpx.Response, code: int | None = None) -> list[dict[str, object]]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["success"] is False
    errors: list[dict[str, object]] = body["errors"]
    assert errors
    assert isinstance(errors[0]["code"], int)
    if code is not None:
        assert errors[0]["code"] == code
    return errors


# -- item 3: nesting, header integers, filter counts ------------------------------------------


@pytest.mark.parametrize("depth", [DEEP, 255, MAX_JSON_DEPTH + 1])
async def test_deeply_nested_universal_query_is_400(
    api: Api, http: httpx.AsyncClient, depth: int
) -> None:
    query = f'{{"prompt": "hi", "extra": {nested(depth)}}}'
    auth = f'{{"authorization": "Bearer {TOKEN}"}}'
    step = (
        f'[{{"provider": "workers-ai", "endpoint": "{MODEL}", "headers": {auth}, '
        f'"query": {query}}}]'
    )
    response = await http.post(api.data("default"), content=step, headers={**AUTH, **GW_AUTH})
    assert_400(response, 7401)
    assert (await api.run()).status_code == 200


@pytest.mark.parametrize("path", ["compat/chat/completions", "workers-ai/v1/chat/completions"])
async def test_deeply_nested_field_the_builtin_model_hashes_is_400(
    api: Api, http: httpx.AsyncClient, path: str
) -> None:
    model = f"workers-ai/{MODEL}" if path.startswith("compat") else MODEL
    body = chat_body(model, nested(DEEP))
    response = await http.post(api.data("default", path), content=body, headers={**AUTH, **GW_AUTH})
    assert_400(response, 7401)
    assert (await api.run()).status_code == 200


async def test_nesting_up_to_the_cap_is_served(api: Api, http: httpx.AsyncClient) -> None:
    inner = nested(MAX_JSON_DEPTH - 5)  # 5 levels down (see chat_body): MAX_JSON_DEPTH levels
    body = chat_body(f"workers-ai/{MODEL}", inner)
    response = await http.post(
        api.data("default", "compat/chat/completions"), content=body, headers={**AUTH, **GW_AUTH}
    )
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == json.dumps(
        json.loads(inner), separators=(",", ":")
    )
    too_deep = chat_body(f"workers-ai/{MODEL}", nested(MAX_JSON_DEPTH - 4))
    refused = await http.post(
        api.data("default", "compat/chat/completions"),
        content=too_deep,
        headers={**AUTH, **GW_AUTH},
    )
    assert_400(refused, 7401)


async def test_universal_step_count_is_capped(api: Api, http: httpx.AsyncClient) -> None:
    bad = {"provider": "workers-ai", "endpoint": "", "query": {}}
    good = {
        "provider": "workers-ai",
        "endpoint": MODEL,
        "headers": {"authorization": f"Bearer {TOKEN}"},
        "query": {"prompt": "hi"},
    }
    headers = {**AUTH, **GW_AUTH}
    refused = await http.post(api.data("default"), json=[bad] * 300, headers=headers)
    assert_400(refused, 7400)
    assert len(await api.logs()) == 1  # one log for the refusal, not one per step
    served = await http.post(
        api.data("default"), json=[bad] * (MAX_STEPS - 1) + [good], headers=headers
    )
    assert served.status_code == 200, served.text
    assert served.headers["cf-aig-step"] == str(MAX_STEPS - 1)


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("cf-aig-request-timeout", "9" * 400),
        ("cf-aig-request-timeout", str(2**63)),
        ("cf-aig-retry-delay", "9" * 400),
        ("cf-aig-max-attempts", "9" * 400),
        ("cf-aig-cache-ttl", "9" * 400),
    ],
)
async def test_huge_header_integers_are_400(api: Api, header: str, value: str) -> None:
    errors = assert_400(await api.run(headers={header: value}), 7400)
    assert errors[0]["path"] == [header]
    assert (await api.run()).status_code == 200


async def test_huge_universal_config_integers_are_400(api: Api, http: httpx.AsyncClient) -> None:
    for config in ({"requestTimeout": 10**18}, {"retryDelay": 10**18}):
        step = {
            "provider": "workers-ai",
            "endpoint": MODEL,
            "headers": {"authorization": f"Bearer {TOKEN}"},
            "query": {"prompt": "hi"},
            "config": config,
        }
        response = await http.post(api.data("default"), json=[step], headers={**AUTH, **GW_AUTH})
        assert_400(response)


@pytest.mark.parametrize(
    "filters",
    [
        [{"key": "model", "operator": "contains", "value": ["a"] * 1500}],
        [{"key": "model", "operator": "eq", "value": ["a"] * 1500}],
        [{"key": "metadata.value", "operator": "contains", "value": ["a"] * 1500}],
        [{"key": "model", "operator": "neq", "value": ["a"]}] * 150,
    ],
    ids=["contains-values", "eq-values", "metadata-values", "many-filters"],
)
async def test_too_many_log_filters_or_values_are_400(
    api: Api, http: httpx.AsyncClient, filters: list[dict[str, object]]
) -> None:
    await api.run()
    raw = json.dumps(filters, separators=(",", ":"))
    for method in ("GET", "DELETE"):
        response = await http.request(
            method, api.control("/default/logs"), params={"filters": raw}, headers=AUTH
        )
        errors = assert_400(response, 7400)
        assert str(errors[0]["path"][0]).startswith("filters")  # type: ignore[index]
    assert len(await api.logs()) == 1


async def test_many_simple_filters_in_flat_form_are_400(api: Api, http: httpx.AsyncClient) -> None:
    await api.run()
    query = "&".join(["filters.key=model&filters.operator=neq&filters.value=a"] * 300)
    response = await http.get(api.control("/default/logs") + "?" + query, headers=AUTH)
    assert_400(response, 7400)


async def test_filters_up_to_the_caps_are_served(api: Api, http: httpx.AsyncClient) -> None:
    await api.run()
    for filters in (
        [{"key": "model", "operator": "contains", "value": [f"x{i}" for i in range(99)] + ["@"]}],
        [{"key": "model", "operator": "neq", "value": ["m"]}] * 50,
    ):
        raw = json.dumps(filters, separators=(",", ":"))
        response = await http.get(
            api.control("/default/logs"), params={"filters": raw}, headers=AUTH
        )
        assert response.status_code == 200, response.text
        assert response.json()["result_info"]["total_count"] == 1


# -- item 4: no write before authentication ---------------------------------------------------


def gateway_rows(db: Path) -> int:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        count: int = conn.execute("SELECT COUNT(*) FROM gateways").fetchone()[0]
    return count


async def test_refused_calls_create_no_default_gateway(
    fresh_gw: LocalGateway, config: LocalGatewayConfig, http: httpx.AsyncClient
) -> None:
    assert config.db_path is not None
    db = Path(config.db_path)
    before = gateway_rows(db)
    refusals = [
        {},  # no token at all
        {"cf-aig-authorization": "Bearer wrong"},
        {"authorization": f"Bearer {TOKEN}"},  # the provider token is not the gateway's
        {"cf-aig-authorization": f"Basic {TOKEN}"},
    ]
    for index in range(60):
        headers = refusals[index % len(refusals)]
        url = f"{fresh_gw.data_url}/new-account-{index}/default/workers-ai/{MODEL}"
        response = await http.post(url, json={"prompt": "hi"}, headers=headers)
        assert response.status_code == 401, response.text
        universal = f"{fresh_gw.data_url}/new-account-u{index}/default"
        response = await http.post(universal, json=[], headers=headers)
        assert response.status_code == 401, response.text
    assert gateway_rows(db) == before
    listed = await http.get(
        f"{fresh_gw.api_url}/accounts/new-account-0/ai-gateway/gateways", headers=AUTH
    )
    assert listed.json()["result"] == []
    # An authenticated call still creates it, once.
    api = Api(fresh_gw, http, "new-account-0")
    assert (await api.run()).status_code == 200
    assert (await api.run()).status_code == 200
    assert gateway_rows(db) == before + 1


async def test_open_default_gateway_is_created_only_for_a_token_holder(
    tmp_path: Path, config: LocalGatewayConfig
) -> None:
    """`default_gateway_authentication=False` with an API token: the gateway needs no
    `cf-aig-authorization`, but creating it (an account write) still needs the token."""
    open_default = attrs.evolve(
        config, db_path=tmp_path / "open-default.db", default_gateway_authentication=False
    )
    with LocalGateway(open_default) as gw:
        async with async_client() as http:
            url = f"{gw.data_url}/stranger/default/workers-ai/{MODEL}"
            for headers in ({}, {"authorization": "Bearer nope"}):
                response = await http.post(url, json={"prompt": "hi"}, headers=headers)
                assert response.status_code == 401, response.text
                assert response.json()["errors"][0]["code"] == 10000
            assert gateway_rows(tmp_path / "open-default.db") == 0
            ok = await http.post(url, json={"prompt": "hi"}, headers=AUTH)
            assert ok.status_code == 200, ok.text
            assert gateway_rows(tmp_path / "open-default.db") == 1
            # Now it exists, and it is open: a refused provider token is the provider's 401.
            again = await http.post(url, json={"prompt": "hi"}, headers={})
            assert again.status_code == 401


# -- item 6: secrets in reprs -----------------------------------------------------------------


def test_config_and_route_reprs_hide_secrets() -> None:
    route = UpstreamRoute("gpt-*", kind="openai", base_url="http://x", api_key="sk-route-secret")
    config = LocalGatewayConfig(api_token="api-token-secret", upstreams=[route])
    for text in (repr(config), str(config), repr(route), repr(config.upstreams)):
        assert "api-token-secret" not in text
        assert "sk-route-secret" not in text
    assert "api_token=***" in repr(config)
    assert "api_key=***" in repr(route)
    assert "api_token=None" in repr(LocalGatewayConfig())
    assert "api_key=None" in repr(UpstreamRoute("x"))


def test_request_options_repr_hides_the_gateway_token() -> None:
    options = parse_options({"cf-aig-authorization": "Bearer gw-secret", "cf-aig-skip-cache": "1"})
    assert options.gateway_authorization == "Bearer gw-secret"
    assert "gw-secret" not in repr(options)


# -- item 7: out-of-range values --------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cache_ttl", 2**64 - 1),
        ("cache_ttl", 2**63),
        ("rate_limiting_interval", 2**64 - 1),
        ("rate_limiting_limit", 2**63),
        ("cache_ttl", -1),
    ],
)
async def test_out_of_range_settings_are_400(
    api: Api, http: httpx.AsyncClient, field: str, value: int
) -> None:
    await api.create("ranged")
    errors = assert_400(await api.update("ranged", **{field: value}), 7400)
    assert errors[0]["path"] == [field]
    body = {"id": "ranged-new", "cache_ttl": 0, "cache_invalidate_on_update": False}
    body |= {"collect_logs": True, "rate_limiting_interval": 0, "rate_limiting_limit": 0}
    created = await http.post(api.control(), json={**body, field: value}, headers=AUTH)
    assert_400(created, 7400)
    current = (await http.get(api.control("/ranged"), headers=AUTH)).json()["result"]
    assert current[field] == 0


async def test_largest_int64_setting_is_accepted(api: Api) -> None:
    await api.create("big")
    response = await api.update(
        "big", rate_limiting_interval=2**63 - 1, rate_limiting_limit=5, cache_ttl=2**63 - 1
    )
    assert response.status_code == 200, response.text
    assert (await api.run("big")).headers["cf-aig-cache-status"] == "MISS"
    assert (await api.run("big")).headers["cf-aig-cache-status"] == "HIT"


@pytest.mark.parametrize(
    "cost",
    [
        '{"per_token_in": 1e308}',
        '{"total_cost": 1e308}',
        '{"per_token_out": 1e300, "per_token_in": 0}',
        '{"total_cost": 1e16}',
        '{"per_token_in": -0.5}',
    ],
)
async def test_out_of_range_custom_cost_is_400(api: Api, cost: str) -> None:
    errors = assert_400(await api.run(headers={"cf-aig-custom-cost": cost}), 7400)
    assert errors[0]["path"] == ["cf-aig-custom-cost"]


async def test_large_but_sane_custom_cost_is_logged_exactly(api: Api) -> None:
    response = await api.run(headers={"cf-aig-custom-cost": '{"total_cost": 1000000}'})
    assert response.status_code == 200, response.text
    [log] = await api.logs()
    assert log["cost"] == 1_000_000
