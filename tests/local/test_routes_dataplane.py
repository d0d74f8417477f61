"""`dynamic/<route>` on the local data plane, end to end over HTTP: each element kind, retries,
timeouts and fallbacks, streams, the `openai` client with the gateway token alone, the log
row and headers naming the model that served, and a route whose models all fail reaching the
SDK as a typed `RouteFailed`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from aigateway_sdk import NO_RETRY, AiError, GatewayBinding, ModelParameters
from aigateway_sdk.errors import RouteFailed
from aigateway_sdk.local import LocalGateway, LocalGatewayConfig, ManualClock, UpstreamRoute
from aigateway_sdk.local.policies.routes import split_point
from tests.local.helpers import AUTH, GW_AUTH, MODEL, START, TOKEN, Api

pytestmark = pytest.mark.anyio

CHEAP = ("workers-ai", MODEL)
BIG = ("openai", "gpt-4o")
BROKEN = ("broken", "always-500")
SLOW = ("slow", "tortoise")
HEADERS = {**AUTH, **GW_AUTH}


@pytest.fixture(scope="module")
def route_clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture(scope="module")
def route_gw(
    tmp_path_factory: pytest.TempPathFactory, route_clock: ManualClock
) -> Iterator[LocalGateway]:
    db = Path(tmp_path_factory.mktemp("routes")) / "gw.db"
    upstreams = (
        UpstreamRoute("broken/*", kind="fault", status=500),
        UpstreamRoute("flaky/once-*", kind="fault", status=503, fail_times=1),
        UpstreamRoute("slow/*", latency_ms=10_000),
    )
    config = LocalGatewayConfig(db_path=db, api_token=TOKEN, clock=route_clock, upstreams=upstreams)
    with LocalGateway(config) as gw:
        yield gw


@pytest.fixture
def api(
    route_gw: LocalGateway, route_clock: ManualClock, http: httpx.AsyncClient, account: str
) -> Api:
    route_clock.set(START)
    return Api(route_gw, http, account)


def edge(target: str) -> dict[str, str]:
    return {"elementId": target}


def model(
    element_id: str,
    served: tuple[str, str],
    success: str = "end",
    fallback: str | None = None,
    retries: int = 0,
    timeout: int = 30_000,
) -> dict[str, Any]:
    outputs = {"success": edge(success)}
    if fallback is not None:
        outputs["fallback"] = edge(fallback)
    provider, name = served
    properties = {"provider": provider, "model": name, "retries": retries, "timeout": timeout}
    return {"id": element_id, "type": "model", "properties": properties, "outputs": outputs}


def start(first: str) -> dict[str, Any]:
    return {"id": "start", "type": "start", "outputs": {"next": edge(first)}}


END = {"id": "end", "type": "end", "outputs": {}}


async def route(api: Api, name: str, *elements: dict[str, Any], gateway_id: str = "gw") -> str:
    if not any(live["id"] == gateway_id for live in await _gateways(api)):
        await api.create(gateway_id)
    reply = await api.http.post(
        api.control(f"/{gateway_id}/routes"),
        json={"name": name, "elements": list(elements)},
        headers=AUTH,
    )
    assert reply.status_code == 200, reply.text
    route_id: str = reply.json()["result"]["id"]
    return route_id


async def _gateways(api: Api) -> list[dict[str, Any]]:
    reply = await api.http.get(api.control(), headers=AUTH)
    result: list[dict[str, Any]] = reply.json()["result"]
    return result


async def call(
    api: Api,
    name: str,
    *,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
    **body: Any,
) -> httpx.Response:
    payload = {"model": f"dynamic/{name}", "messages": [{"role": "user", "content": "hi"}], **body}
    return await api.http.post(
        api.data("gw", "compat/chat/completions"),
        content=content if content is not None else json.dumps(payload).encode(),
        headers={**HEADERS, "content-type": "application/json", **(headers or {})},
    )


def served(reply: httpx.Response) -> str:
    assert reply.status_code == 200, reply.text
    assert reply.json()["model"] == reply.headers["cf-aig-model"]
    return reply.headers["cf-aig-model"]


def label(served_by: tuple[str, str]) -> str:
    return "/".join(served_by)


# --- element kinds ------------------------------------------------------------------------


async def test_a_model_route_answers_and_names_the_model_in_reply_header_and_log(api: Api) -> None:
    await route(api, "simple", start("m"), model("m", CHEAP), END)
    reply = await call(api, "simple")
    assert served(reply) == label(CHEAP)
    assert reply.headers["cf-aig-dynamic-route"] == "simple"
    assert reply.json()["choices"][0]["message"]["content"]
    (log,) = await api.logs("gw")
    assert (log["provider"], log["model"]) == CHEAP
    assert log["id"] == reply.headers["cf-aig-log-id"]


async def test_conditional_on_metadata_headers_and_body(api: Api) -> None:
    plan = {
        "id": "plan",
        "type": "conditional",
        "properties": {
            "conditions": {
                "$or": [
                    {"metadata.plan": "pro"},
                    {"headers.x-plan": "pro"},
                    {"body.max_tokens": {"$gte": 1000}},
                ]
            }
        },
        "outputs": {"true": edge("big"), "false": edge("cheap")},
    }
    await route(api, "tiers", start("plan"), plan, model("big", BIG), model("cheap", CHEAP), END)
    assert served(await call(api, "tiers")) == label(CHEAP)
    pro = {"cf-aig-metadata": json.dumps({"plan": "pro"})}
    assert served(await call(api, "tiers", headers=pro)) == label(BIG)
    assert served(await call(api, "tiers", headers={"x-plan": "pro"})) == label(BIG)
    assert served(await call(api, "tiers", max_tokens=1000)) == label(BIG)
    free = {"cf-aig-metadata": json.dumps({"plan": "free"})}
    assert served(await call(api, "tiers", headers=free)) == label(CHEAP)


async def test_percentage_split_is_the_predicted_branch(api: Api) -> None:
    split = {
        "id": "split",
        "type": "percentage",
        "outputs": {"30%": edge("big"), "else": edge("cheap")},
    }
    await route(api, "ab", start("split"), split, model("big", BIG), model("cheap", CHEAP), END)
    bodies = [
        json.dumps({"model": "dynamic/ab", "messages": [{"role": "user", "content": f"q{i}"}]})
        for i in range(40)
    ]
    for body in bodies:
        point = split_point("split", b"\0" + body.encode())  # no metadata: "" then the body
        expected = BIG if point < 30 else CHEAP
        reply = await call(api, "ab", content=body.encode())
        assert served(reply) == label(expected)
        again = await call(api, "ab", content=body.encode())
        assert served(again) == label(expected)  # the same request, the same branch


def quota(limit: float, kind: str = "count", fallback: str | None = None) -> dict[str, Any]:
    outputs = {"success": edge("big")}
    if fallback is not None:
        outputs["fallback"] = edge(fallback)
    properties = {"key": "metadata.user", "limit": limit, "limitType": kind, "window": 60}
    return {"id": "quota", "type": "rate", "properties": properties, "outputs": outputs}


def user(name: str, **extra: str) -> dict[str, str]:
    return {"cf-aig-metadata": json.dumps({"user": name}), **extra}


async def test_rate_count_per_key_then_429_then_a_new_window(
    api: Api, route_clock: ManualClock
) -> None:
    await route(api, "quota", start("quota"), quota(2), model("big", BIG), END)
    for _ in range(2):
        assert served(await call(api, "quota", headers=user("ann"))) == label(BIG)
    limited = await call(api, "quota", headers=user("ann"))
    assert limited.status_code == 429
    assert limited.json()["errors"][0]["code"] == 2003
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert served(await call(api, "quota", headers=user("bob"))) == label(BIG)  # own counter
    route_clock.advance(60)
    assert served(await call(api, "quota", headers=user("ann"))) == label(BIG)


async def test_rate_with_fallback_sends_the_excess_elsewhere(api: Api) -> None:
    await route(
        api,
        "spill",
        start("quota"),
        quota(1, fallback="cheap"),
        model("big", BIG),
        model("cheap", CHEAP),
        END,
    )
    assert served(await call(api, "spill", headers=user("ann"))) == label(BIG)
    assert served(await call(api, "spill", headers=user("ann"))) == label(CHEAP)


async def test_rate_by_cost_counts_the_custom_cost(api: Api) -> None:
    await route(api, "budget", start("quota"), quota(1.0, "cost"), model("big", BIG), END)
    cost = {"cf-aig-custom-cost": json.dumps({"total_cost": 0.6})}
    assert served(await call(api, "budget", headers=user("ann", **cost))) == label(BIG)
    assert served(await call(api, "budget", headers=user("ann", **cost))) == label(BIG)
    assert (await call(api, "budget", headers=user("ann", **cost))).status_code == 429


async def test_a_chain_of_models_answers_with_the_last(api: Api) -> None:
    await route(
        api,
        "chain",
        start("first"),
        model("first", CHEAP, success="second"),
        model("second", BIG),
        END,
    )
    assert served(await call(api, "chain")) == label(BIG)


# --- failures and fallbacks -----------------------------------------------------------------


async def test_retries_absorb_a_failure_before_the_fallback(api: Api, account: str) -> None:
    flaky = ("flaky", f"once-{account}")
    await route(
        api,
        "retry",
        start("m"),
        model("m", flaky, retries=1, fallback="cheap"),
        model("cheap", CHEAP),
        END,
    )
    assert served(await call(api, "retry")) == label(flaky)


async def test_a_failed_model_falls_back_and_the_log_names_the_fallback(api: Api) -> None:
    await route(
        api,
        "fb",
        start("m"),
        model("m", BROKEN, retries=2, fallback="cheap"),
        model("cheap", CHEAP),
        END,
    )
    reply = await call(api, "fb")
    assert served(reply) == label(CHEAP)
    (log,) = await api.logs("gw")
    assert (log["provider"], log["model"]) == CHEAP


async def test_a_timeout_falls_back(api: Api) -> None:
    await route(
        api,
        "slowpoke",
        start("m"),
        model("m", SLOW, timeout=50, fallback="cheap"),
        model("cheap", CHEAP),
        END,
    )
    assert served(await call(api, "slowpoke")) == label(CHEAP)


async def test_all_models_failing_is_a_502_listing_what_was_tried(api: Api) -> None:
    await route(
        api,
        "doomed",
        start("m"),
        model("m", BROKEN, fallback="n"),
        model("n", ("broken", "also-500")),
        END,
    )
    reply = await call(api, "doomed")
    assert reply.status_code == 502
    body = reply.json()
    assert body["success"] is False
    assert body["route"] == {"name": "doomed", "tried": ["broken/always-500", "broken/also-500"]}
    assert "doomed" in body["errors"][0]["message"]
    (log,) = await api.logs("gw")
    assert log["success"] is False
    assert log["status_code"] == 502


async def test_the_sdk_raises_route_failed_with_the_models_tried(api: Api) -> None:
    await route(
        api,
        "doomed",
        start("m"),
        model("m", BROKEN, fallback="n"),
        model("n", ("broken", "also-500")),
        END,
    )
    binding = GatewayBinding(
        account_id=api.account,
        gateway_id="gw",
        gateway_token=TOKEN,
        base_url=api.gw.data_url,
        retry=NO_RETRY,
    )
    async with binding as b:
        lm = b.model("dynamic/doomed", ModelParameters(max_tokens=20))
        with pytest.raises(AiError) as caught:
            await lm.generate_text(prompt="hi")
        with pytest.raises(AiError) as streamed:
            await lm.stream_text(prompt="hi").collect()
    for error in (caught.value, streamed.value):
        reason = error.reason
        assert isinstance(reason, RouteFailed)
        assert reason.route == "doomed"
        assert reason.tried == ("broken/always-500", "broken/also-500")
        assert reason.status == 502


async def test_the_sdk_calls_a_route_like_any_model(api: Api) -> None:
    await route(api, "simple", start("m"), model("m", CHEAP), END)
    binding = GatewayBinding(
        account_id=api.account, gateway_id="gw", gateway_token=TOKEN, base_url=api.gw.data_url
    )
    async with binding as b:
        response = await b.model("dynamic/simple").generate_text(prompt="hello")
    assert response.text


# --- the openai client, streams --------------------------------------------------------------


def openai_client(api: Api) -> openai.AsyncOpenAI:
    """Holding only the gateway token: the client's own key is a placeholder."""
    return openai.AsyncOpenAI(
        base_url=api.data("gw", "compat"),
        api_key="no-provider-key",
        default_headers={"cf-aig-authorization": f"Bearer {TOKEN}"},
        max_retries=0,
    )


async def test_openai_client_calls_a_route_plain_and_streamed(api: Api) -> None:
    await route(
        api, "assist", start("m"), model("m", BROKEN, fallback="cheap"), model("cheap", CHEAP), END
    )
    async with openai_client(api) as ai:
        raw = await ai.chat.completions.with_raw_response.create(
            model="dynamic/assist", messages=[{"role": "user", "content": "Name a colour"}]
        )
        completion = raw.parse()
        assert completion.model == label(CHEAP)
        assert raw.headers["cf-aig-model"] == label(CHEAP)
        stream = await ai.chat.completions.create(
            model="dynamic/assist",
            messages=[{"role": "user", "content": "Name a colour"}],
            stream=True,
        )
        parts = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in parts if c.choices)
    assert text == completion.choices[0].message.content
    assert {c.model for c in parts} == {label(CHEAP)}
    logs = await api.logs("gw")
    assert {(log["provider"], log["model"]) for log in logs} == {CHEAP}


async def test_a_streamed_route_reports_the_model_in_its_headers(api: Api) -> None:
    await route(api, "s", start("m"), model("m", BIG), END)
    payload = {
        "model": "dynamic/s",
        "stream": True,
        "messages": [{"role": "user", "content": "hi"}],
    }
    async with api.http.stream(
        "POST", api.data("gw", "compat/chat/completions"), json=payload, headers=HEADERS
    ) as reply:
        body = (await reply.aread()).decode()
    assert reply.status_code == 200
    assert reply.headers["cf-aig-model"] == label(BIG)
    assert reply.headers["cf-aig-dynamic-route"] == "s"
    assert body.rstrip().endswith("data: [DONE]")


async def test_openai_client_unknown_route_is_not_found(api: Api) -> None:
    await api.create("gw")
    async with openai_client(api) as ai:
        with pytest.raises(openai.NotFoundError):
            await ai.chat.completions.create(
                model="dynamic/nope", messages=[{"role": "user", "content": "hi"}]
            )


# --- deployments, misuse -------------------------------------------------------------------


async def test_the_data_plane_runs_the_deployed_version(api: Api) -> None:
    route_id = await route(api, "live", start("m"), model("m", CHEAP), END)
    url = api.control(f"/gw/routes/{route_id}")
    created = await api.http.post(
        url + "/versions", json={"elements": [start("m"), model("m", BIG), END]}, headers=AUTH
    )
    version_id = created.json()["result"]["version"]["version_id"]
    assert served(await call(api, "live")) == label(CHEAP)  # created, not deployed
    await api.http.post(url + "/deployments", json={"version_id": version_id}, headers=AUTH)
    assert served(await call(api, "live")) == label(BIG)
    await api.http.patch(url, json={"name": "renamed"}, headers=AUTH)
    assert (await call(api, "live")).status_code == 404
    assert served(await call(api, "renamed")) == label(BIG)
    await api.http.delete(url, headers=AUTH)
    assert (await call(api, "renamed")).status_code == 404


async def test_dynamic_models_off_compat_chat_are_refused(api: Api) -> None:
    await route(api, "simple", start("m"), model("m", CHEAP), END)
    message = [{"role": "user", "content": "hi"}]
    for path, body in (
        ("openai/chat/completions", {"model": "dynamic/simple", "messages": message}),
        ("compat/embeddings", {"model": "dynamic/simple", "input": "hi"}),
        ("workers-ai/dynamic/simple", {"prompt": "hi"}),
    ):
        reply = await api.http.post(api.data("gw", path), json=body, headers=HEADERS)
        assert reply.status_code == 400, (path, reply.text)
        assert reply.json()["success"] is False


async def test_a_route_call_without_any_token_is_refused(api: Api) -> None:
    await route(api, "simple", start("m"), model("m", CHEAP), END)
    payload = {"model": "dynamic/simple", "messages": [{"role": "user", "content": "hi"}]}
    reply = await api.http.post(api.data("gw", "compat/chat/completions"), json=payload)
    assert reply.status_code == 401
    wrong = await api.http.post(
        api.data("gw", "compat/chat/completions"),
        json=payload,
        headers={"authorization": "Bearer nope", "cf-aig-authorization": "Bearer nope"},
    )
    assert wrong.status_code == 401
