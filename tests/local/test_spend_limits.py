"""Spend limits end to end: budgets declared on a gateway, spent by each request's cost (custom
cost header or the published price of a Workers AI model), refused with a 429 when spent."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import anyio
import httpx
import pytest

from aigateway_sdk import AiError, CustomCost, GatewayBinding, GatewayOptions, RateLimited
from aigateway_sdk.contract.spend import (
    SPEND_LIMITED_CODE,
    SpendLimits,
    SpendPartition,
    SpendRule,
)
from aigateway_sdk.local import LocalGateway, LocalGatewayConfig, ManualClock
from aigateway_sdk.local.policies.spend import MAX_BUCKETS_PER_GATEWAY, SpendLedger, Usage
from aigateway_sdk.local.upstreams.pricing import WORKERS_AI_PRICES
from tests.local.helpers import AUTH, GATEWAY_DEFAULTS, MODEL, TOKEN, Api

pytestmark = pytest.mark.anyio

HOUR = 3600


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2026, 1, 5, hour, minute, second, tzinfo=UTC)


def rule(limit: float, window: int = HOUR, **extra: Any) -> dict[str, Any]:
    return {"limit": limit, "limitType": "cost", "window": window, **extra}


def limits(*rules: dict[str, Any], enabled: bool = True) -> dict[str, Any]:
    return {"enabled": enabled, "rules": list(rules)}


def cost(total: float, **metadata: Any) -> dict[str, str]:
    headers = {"cf-aig-custom-cost": json.dumps({"total_cost": total})}
    if metadata:
        headers["cf-aig-metadata"] = json.dumps(metadata)
    return headers


async def spend(api: Api, gateway: str, n: int, total: float, **metadata: Any) -> list[int]:
    return [
        (await api.run(gateway, prompt=f"q{i}", headers=cost(total, **metadata))).status_code
        for i in range(n)
    ]


async def test_custom_costs_spend_a_budget_then_a_cloudflare_shaped_429(
    api: Api, clock: ManualClock
) -> None:
    await api.create("budget", spend_limits=limits(rule(1.0)))
    clock.set(at(12, 15))
    assert await spend(api, "budget", 4, 0.25) == [200] * 4
    refused = await api.run("budget", prompt="one too many", headers=cost(0.25))
    assert refused.status_code == 429
    assert refused.json() == {
        "success": False,
        "result": [],
        "messages": [],
        "errors": [{"code": SPEND_LIMITED_CODE, "message": "Spend limit exceeded"}],
    }
    assert refused.headers["retry-after"] == str(45 * 60)  # the 12:00-13:00 window ends
    logs = await api.logs("budget")
    assert [log["status_code"] for log in logs[:2]] == [429, 200]
    assert logs[0]["tokens_out"] is None  # never reached the model


async def test_a_fixed_window_resets_on_its_boundary(api: Api, clock: ManualClock) -> None:
    await api.create("fixed", spend_limits=limits(rule(0.5)))
    clock.set(at(12, 59, 59))
    assert await spend(api, "fixed", 2, 0.25) == [200, 200]
    assert (await api.run("fixed", headers=cost(0.25))).headers["retry-after"] == "1"
    clock.set(at(13, 0))
    assert await spend(api, "fixed", 2, 0.25) == [200, 200]
    assert (await api.run("fixed", headers=cost(0.01))).status_code == 429


async def test_a_sliding_window_frees_budget_as_charges_age(api: Api, clock: ManualClock) -> None:
    await api.create("sliding", spend_limits=limits(rule(1.0, 600, technique="sliding")))
    clock.set(at(12, 0))
    assert await spend(api, "sliding", 1, 0.5) == [200]
    clock.set(at(12, 5))
    assert await spend(api, "sliding", 1, 0.5) == [200]
    clock.set(at(12, 6))
    refused = await api.run("sliding", headers=cost(0.5))
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == str(4 * 60)  # the 12:00 charge leaves at 12:10
    clock.set(at(12, 10, 1))
    assert await spend(api, "sliding", 1, 0.5) == [200]
    assert (await api.run("sliding", headers=cost(0.01))).status_code == 429


async def test_a_tenth_ten_times_spends_exactly_one_dollar(api: Api) -> None:
    await api.create("exact", spend_limits=limits(rule(1.0)))
    assert await spend(api, "exact", 10, 0.1) == [200] * 10
    assert (await api.run("exact", headers=cost(0.1))).status_code == 429


async def test_a_metadata_partition_gives_each_user_a_budget(api: Api) -> None:
    per_user = rule(0.5, metadata={"user": {"mode": "partition"}})
    await api.create("users", spend_limits=limits(per_user))
    assert await spend(api, "users", 2, 0.25, user="ann") == [200, 200]
    assert await spend(api, "users", 1, 0.25, user="ann") == [429]
    assert await spend(api, "users", 2, 0.25, user="bob") == [200, 200]
    # requests without the key share one budget of their own
    assert await spend(api, "users", 2, 0.25) == [200, 200]
    assert await spend(api, "users", 1, 0.25, team="x") == [429]


async def test_filters_scope_a_rule_to_a_model_a_provider_or_a_metadata_value(api: Api) -> None:
    other_model = rule(0.1, model={"mode": "filter", "values": ["@cf/other/model"]})
    other_provider = rule(0.1, provider={"mode": "filter", "values": ["openai"]})
    team_a = rule(0.5, metadata={"team": {"mode": "filter", "values": ["a"]}})
    await api.create("scoped", spend_limits=limits(other_model, other_provider, team_a))
    assert await spend(api, "scoped", 3, 0.25) == [200] * 3  # no rule holds these
    assert await spend(api, "scoped", 3, 0.25, team="a") == [200, 200, 429]
    assert await spend(api, "scoped", 1, 0.25, team="b") == [200]
    this_model = rule(0.25, model={"mode": "filter", "values": [f"workers-ai/{MODEL}"]})
    this_provider = rule(0.5, provider={"mode": "filter", "values": ["Workers-AI"]})
    await api.create("mine", spend_limits=limits(this_model))
    assert await spend(api, "mine", 2, 0.25) == [200, 429]
    await api.create("provider", spend_limits=limits(this_provider))
    assert await spend(api, "provider", 3, 0.25) == [200, 200, 429]


async def test_disabled_rules_and_disabled_limits_do_not_refuse(api: Api) -> None:
    await api.create("off", spend_limits=limits(rule(0.0), enabled=False))
    await api.create("rule-off", spend_limits=limits(rule(0.0, enabled=False)))
    assert await spend(api, "off", 2, 1.0) == [200, 200]
    assert await spend(api, "rule-off", 2, 1.0) == [200, 200]
    await api.create("zero", spend_limits=limits(rule(0.0)))
    assert await spend(api, "zero", 1, 0.0) == [429]  # a zero budget refuses everything


async def test_a_workers_ai_model_is_charged_its_published_price(api: Api) -> None:
    price = WORKERS_AI_PRICES[MODEL]
    await api.create("priced", spend_limits=limits(rule(1e-6)))
    assert (await api.run("priced", prompt="Hello there")).status_code == 200
    log = (await api.logs("priced"))[0]
    expected = (log["tokens_in"] * price.input + log["tokens_out"] * price.output) / 1e6
    assert log["cost"] == pytest.approx(expected)
    assert log["cost"] > 1e-6
    assert (await api.run("priced")).status_code == 429


UNPRICED = "@hf/thebloke/mistral-7b-instruct-v0.1-awq"


async def test_a_model_without_a_price_costs_nothing(api: Api) -> None:
    await api.create("unpriced", spend_limits=limits(rule(1e-9)))
    for _ in range(3):
        # a Workers AI id outside @cf/: served by the built-in model, not in the price table
        assert (await api.run("unpriced", model=UNPRICED)).status_code == 200
    assert (await api.logs("unpriced"))[0]["cost"] == 0


async def test_a_cached_reply_costs_nothing_without_a_custom_cost(api: Api) -> None:
    await api.create("cached", cache_ttl=300, spend_limits=limits(rule(3e-5)))
    assert (await api.run("cached", prompt="same")).status_code == 200
    # the first reply cost about 2e-5: a hit is free, so the budget holds
    for _ in range(3):
        hit = await api.run("cached", prompt="same")
        assert hit.headers["cf-aig-cache-status"] == "HIT"
    assert (await api.logs("cached"))[0]["cost"] == 0


async def test_a_streamed_reply_is_charged_when_it_ends(api: Api) -> None:
    await api.create("streams", spend_limits=limits(rule(0.5)))
    for _ in range(2):
        async with api.http.stream(
            "POST",
            api.data("streams", "compat/chat/completions"),
            json={
                "model": f"workers-ai/{MODEL}",
                "messages": [{"role": "user", "content": "hi"}],
                "stream": True,
            },
            headers={**AUTH, "cf-aig-authorization": f"Bearer {TOKEN}", **cost(0.25)},
        ) as response:
            assert response.status_code == 200
            await response.aread()
    assert (await api.chat("streams", headers=cost(0.25))).status_code == 429


async def test_concurrent_requests_are_admitted_under_budget_and_charged_exactly(
    api: Api,
) -> None:
    """Cloudflare charges after completion, so requests admitted together may overshoot;
    every admitted request is charged, and once the spend reaches the limit all are refused."""
    await api.create("burst", spend_limits=limits(rule(1.0)))
    statuses: list[int] = []

    async def one(i: int) -> None:
        statuses.append((await api.run("burst", prompt=f"b{i}", headers=cost(0.25))).status_code)

    async with anyio.create_task_group() as group:
        for i in range(12):
            group.start_soon(one, i)
    admitted = statuses.count(200)
    assert admitted >= 4
    assert statuses.count(429) == 12 - admitted
    logs = await api.logs("burst")
    assert sum(log["cost"] for log in logs if log["status_code"] == 200) == 0.25 * admitted
    assert (await api.run("burst", headers=cost(0.0))).status_code == 429


async def test_raising_the_limit_keeps_the_spend_and_changing_the_window_resets_it(
    api: Api,
) -> None:
    await api.create("grow", spend_limits=limits(rule(0.5)))
    assert await spend(api, "grow", 3, 0.25) == [200, 200, 429]
    assert (await api.update("grow", spend_limits=limits(rule(0.75)))).status_code == 200
    assert await spend(api, "grow", 2, 0.25) == [200, 429]
    assert (await api.update("grow", spend_limits=limits(rule(0.75, 7200)))).status_code == 200
    assert await spend(api, "grow", 1, 0.25) == [200]
    assert (await api.update("grow", spend_limits=None)).status_code == 200
    assert await spend(api, "grow", 5, 0.25) == [200] * 5


async def test_a_refused_universal_step_falls_back_to_the_next(api: Api) -> None:
    only_this = rule(0.0, model={"mode": "filter", "values": [MODEL]})
    await api.create("uni", spend_limits=limits(only_this))
    steps = [
        {"provider": "workers-ai", "endpoint": MODEL, "headers": AUTH, "query": {"prompt": "a"}},
        {
            "provider": "workers-ai",
            "endpoint": "@cf/meta/llama-3.2-3b-instruct",
            "headers": AUTH,
            "query": {"prompt": "a"},
        },
    ]
    response = await api.http.post(
        api.data("uni"), json=steps, headers={**AUTH, "cf-aig-authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["cf-aig-step"] == "1"


# --- the control plane ---------------------------------------------------------------------


async def test_spend_limits_are_stored_as_sent_and_bad_ones_are_a_400_naming_the_field(
    api: Api,
) -> None:
    sent = limits(
        rule(5.0, 86_400, id="daily", technique="sliding", enabled=True),
        rule(
            200.0,
            86_400,
            metadata={"user": {"mode": "partition"}, "env": {"mode": "filter", "values": ["p"]}},
            model={"mode": "filter", "values": [MODEL]},
            provider={"mode": "filter", "values": ["workers-ai"]},
        ),
    )
    created = await api.create("stored", spend_limits=sent)
    got = (await api.http.get(api.control("/stored"), headers=AUTH)).json()["result"]
    assert created["spend_limits"] == got["spend_limits"]
    assert got["spend_limits"]["rules"][0] == {**sent["rules"][0]}
    assert got["spend_limits"]["rules"][1]["metadata"] == sent["rules"][1]["metadata"]
    bad = await api.update("stored", spend_limits=limits(rule(5.0, 0), rule(-1.0)))
    assert bad.status_code == 400
    paths = [error["path"] for error in bad.json()["errors"]]
    assert paths == [
        ["spend_limits", "rules[0]", "window"],
        ["spend_limits", "rules[1]", "limit"],
    ]
    too_many = await api.update("stored", spend_limits=limits(*[rule(1.0)] * 21))
    assert too_many.status_code == 400
    unchanged = (await api.http.get(api.control("/stored"), headers=AUTH)).json()["result"]
    assert unchanged["spend_limits"] == got["spend_limits"]


async def test_spend_limits_survive_a_restart(config: LocalGatewayConfig) -> None:
    account = "acct-restart"
    body = {"id": "kept", **GATEWAY_DEFAULTS, "spend_limits": limits(rule(0.5))}
    with LocalGateway(config) as gw:
        async with httpx.AsyncClient(timeout=20) as http:
            url = f"{gw.api_url}/accounts/{account}/ai-gateway/gateways"
            assert (await http.post(url, json=body, headers=AUTH)).status_code == 200
    with LocalGateway(config) as gw:
        async with httpx.AsyncClient(timeout=20) as http:
            url = f"{gw.api_url}/accounts/{account}/ai-gateway/gateways/kept"
            got = (await http.get(url, headers=AUTH)).json()["result"]
            api = Api(gw, http, account)
            assert await spend(api, "kept", 3, 0.25) == [200, 200, 429]
    assert got["spend_limits"]["rules"][0]["limit"] == 0.5


# --- clients: the SDK and Cloudflare's own ------------------------------------------------


async def test_the_sdk_sees_a_spent_budget_as_rate_limited_with_the_wait(
    api: Api, account: str, clock: ManualClock
) -> None:
    await api.create("sdk", spend_limits=limits(rule(0.3)))
    clock.set(at(12, 30))
    options = GatewayOptions(custom_cost=CustomCost(total_cost=0.2))
    async with GatewayBinding(
        account_id=account,
        gateway_id="sdk",
        api_token=TOKEN,
        gateway_token=TOKEN,
        base_url=api.gw.data_url,
        options=options,
    ) as binding:
        lm = binding.model(MODEL)
        await lm.generate_text(prompt="one")
        await lm.generate_text(prompt="two")
        with pytest.raises(AiError) as spent:
            await lm.generate_text(prompt="three")
    assert isinstance(spent.value.reason, RateLimited)
    assert spent.value.code == SPEND_LIMITED_CODE
    assert spent.value.retry_after == 30 * 60
    assert "Spend limit exceeded" in spent.value.message


async def test_cloudflares_client_creates_and_reads_spend_limits_strictly(
    gw: LocalGateway, account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cloudflare = pytest.importorskip("cloudflare")
    params = pytest.importorskip("cloudflare.types.ai_gateway.ai_gateway_create_params")
    if not hasattr(params, "SpendLimits"):
        pytest.skip("this cloudflare client (4.x) has no spend_limits")
    for name in ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_API_KEY", "CLOUDFLARE_EMAIL"):
        monkeypatch.delenv(name, raising=False)
    cf = cloudflare.AsyncCloudflare(
        base_url=gw.api_url, api_token=TOKEN, max_retries=0, _strict_response_validation=True
    )
    sent = limits(
        rule(5.0, 86_400, id="r1", metadata={"user": {"mode": "partition"}}),
        rule(1.0, 600, technique="sliding", model={"mode": "filter", "values": [MODEL]}),
    )
    created = await cf.ai_gateway.create(
        account_id=account,
        id="cf-spend",
        cache_invalidate_on_update=False,
        cache_ttl=0,
        collect_logs=True,
        rate_limiting_interval=0,
        rate_limiting_limit=0,
        spend_limits=sent,
    )
    assert created.spend_limits is not None
    assert created.spend_limits.rules[0].limit_type == "cost"
    got = await cf.ai_gateway.get("cf-spend", account_id=account)
    assert got.spend_limits is not None
    assert got.spend_limits.rules is not None
    first, second = got.spend_limits.rules
    assert (first.id, first.window, first.metadata["user"].mode) == ("r1", 86_400, "partition")
    assert second.technique == "sliding"
    assert second.model is not None
    assert second.model.values == [MODEL]
    plain = await cf.ai_gateway.create(
        account_id=account,
        id="cf-plain",
        cache_invalidate_on_update=False,
        cache_ttl=0,
        collect_logs=True,
        rate_limiting_interval=0,
        rate_limiting_limit=0,
    )
    assert plain.spend_limits is None
    await cf.close()


# --- the ledger itself ---------------------------------------------------------------------


def test_the_wait_is_until_every_spent_rule_has_room() -> None:
    ledger = SpendLedger()
    rules = SpendLimits(
        rules=[SpendRule(limit=1, window=60), SpendRule(limit=1, window=600, technique="sliding")]
    )
    usage = Usage("workers-ai", MODEL, {})
    ledger.charge(("a", "g"), rules, usage, 1.0, 1_000.0)
    decision = ledger.check(("a", "g"), rules, usage, 1_010.0)
    assert not decision.allowed
    assert decision.retry_after == 590  # the sliding rule frees later than the fixed one
    assert ledger.check(("a", "g"), rules, usage, 1_600.0).allowed
    assert ledger.check(("b", "g"), rules, usage, 1_010.0).allowed  # per gateway


def test_budgets_of_past_windows_are_dropped_when_there_are_too_many() -> None:
    ledger = SpendLedger()
    rules = SpendLimits(rules=[SpendRule(limit=1, window=60, metadata={"u": SpendPartition()})])
    scope = ("a", "g")
    for user in range(MAX_BUCKETS_PER_GATEWAY):
        ledger.charge(scope, rules, Usage("workers-ai", MODEL, {"u": user}), 0.5, 0.0)
    ledger.charge(scope, rules, Usage("workers-ai", MODEL, {"u": "late"}), 0.5, 120.0)
    assert len(ledger._gateways[scope]) == 1  # the old window's budgets were empty by then


async def test_a_dynamic_route_falls_back_when_its_model_has_spent_its_budget(api: Api) -> None:
    """Cloudflare's documented pattern: a spend limit on the primary model of a route with a
    fallback sends the requests to the fallback instead of refusing them."""
    cheap = "@cf/meta/llama-3.2-3b-instruct"
    primary_only = rule(0.5, model={"mode": "filter", "values": [MODEL]})
    await api.create("routed", spend_limits=limits(primary_only))

    def element(element_id: str, model: str, fallback: str | None = None) -> dict[str, Any]:
        outputs = {"success": {"elementId": "end"}}
        if fallback is not None:
            outputs["fallback"] = {"elementId": fallback}
        properties = {"provider": "workers-ai", "model": model, "retries": 0, "timeout": 30_000}
        return {"id": element_id, "type": "model", "properties": properties, "outputs": outputs}

    elements = [
        {"id": "start", "type": "start", "outputs": {"next": {"elementId": "primary"}}},
        element("primary", MODEL, fallback="cheap"),
        element("cheap", cheap),
        {"id": "end", "type": "end", "outputs": {}},
    ]
    created = await api.http.post(
        api.control("/routed/routes"), json={"name": "budget", "elements": elements}, headers=AUTH
    )
    assert created.status_code == 200, created.text
    served = []
    for _ in range(3):
        reply = await api.http.post(
            api.data("routed", "compat/chat/completions"),
            json={"model": "dynamic/budget", "messages": [{"role": "user", "content": "hi"}]},
            headers={**AUTH, "cf-aig-authorization": f"Bearer {TOKEN}", **cost(0.25)},
        )
        assert reply.status_code == 200, reply.text
        served.append(reply.headers["cf-aig-model"])
    assert served == [f"workers-ai/{MODEL}"] * 2 + [f"workers-ai/{cheap}"]


def test_a_flood_of_partition_values_shares_one_overflow_budget_and_resets_nobody() -> None:
    ledger = SpendLedger()
    rules = SpendLimits(rules=[SpendRule(limit=1, window=60, metadata={"u": SpendPartition()})])
    scope = ("a", "g")
    spent_user = Usage("workers-ai", MODEL, {"u": "spent"})
    ledger.charge(scope, rules, spent_user, 1.0, 0.0)
    for user in range(2 * MAX_BUCKETS_PER_GATEWAY):  # every budget stays live in this window
        ledger.charge(scope, rules, Usage("workers-ai", MODEL, {"u": user}), 0.01, 1.0)
    assert len(ledger._gateways[scope]) <= MAX_BUCKETS_PER_GATEWAY + 1  # bounded
    assert not ledger.check(scope, rules, spent_user, 2.0).allowed  # the flood reset nobody
    newcomer = Usage("workers-ai", MODEL, {"u": "newcomer"})
    assert not ledger.check(scope, rules, newcomer, 2.0).allowed  # the shared budget is spent
    assert ledger.check(scope, rules, Usage("workers-ai", MODEL, {"u": 5}), 2.0).allowed
