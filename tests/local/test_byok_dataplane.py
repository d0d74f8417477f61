"""Stored provider keys (BYOK) on the local data plane: a call with the gateway token alone
reaches the upstream with the stored key (the default one, or the one `cf-aig-byok-alias`
names), through the `openai` client (compat and a provider route, plain and streamed) and the
SDK's `GatewayBinding`; what comes back has the key redacted.

The upstream is a real HTTP server on loopback that echoes the `Authorization` it received.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aigateway_sdk import _json
from aigateway_sdk.local import LocalGateway, LocalGatewayConfig, ManualClock, UpstreamRoute
from tests.local.helpers import AUTH, GW_AUTH, START, TOKEN, Api
from tests.reliability.faultserver import Conn, FaultServer, reply, sse

pytestmark = pytest.mark.anyio

SECRET = "sk-proj-stored-default-5e8b1c0a9d7f"
PROD_SECRET = "sk-proj-stored-prod-44c2aa01be93"
OWN_KEY = "sk-callers-own-0000aaaa1111"
MODEL = "openai/gpt-4o-mini"


def seen(conn: Conn) -> str:
    return conn.request.headers.get("authorization", "<none>")


async def echo(conn: Conn) -> bool:
    """A completion (or a stream of one, three characters an event) quoting the key it got."""
    text = f"upstream saw {seen(conn)}."
    usage = {"prompt_tokens": 1, "completion_tokens": 5}
    if _json.loads(conn.request.body).get("stream"):
        frames = [
            b"data: " + _json.dumps({"choices": [{"delta": {"content": text[i : i + 3]}}]})
            for i in range(0, len(text), 3)
        ]
        frames.append(b"data: " + _json.dumps({"choices": [], "usage": usage}))
        frames.append(b"data: [DONE]")
        return await sse([frame + b"\n\n" for frame in frames])(conn)
    body = {"choices": [{"message": {"content": text}, "finish_reason": "stop"}], "usage": usage}
    return await reply(200, body)(conn)


@pytest.fixture(scope="module")
def upstream() -> Iterator[FaultServer]:
    with FaultServer(echo) as server:
        yield server


@pytest.fixture(scope="module")
def byok_gw(
    tmp_path_factory: pytest.TempPathFactory, upstream: FaultServer
) -> Iterator[LocalGateway]:
    """A gateway whose `openai/*` models go to the echoing upstream, on the caller's key."""
    route = UpstreamRoute("openai/*", kind="openai", base_url=f"{upstream.url}/v1")
    db: Path = tmp_path_factory.mktemp("byok") / "gw.db"
    config = LocalGatewayConfig(
        db_path=db, api_token=TOKEN, upstreams=(route,), clock=ManualClock(START)
    )
    with LocalGateway(config) as gateway:
        yield gateway


@pytest.fixture
async def kapi(byok_gw: LocalGateway, http: httpx.AsyncClient, upstream: FaultServer) -> Api:
    """A fresh account with gateway `g` (authentication on) holding `SECRET` as openai's
    default key and `PROD_SECRET` under the alias `prod`."""
    upstream.clear()
    api = Api(byok_gw, http, f"acct-{uuid.uuid4().hex[:12]}")
    await api.create("g", authentication=True)
    await store(api, "default", SECRET, default_config=True)
    await store(api, "prod", PROD_SECRET, default_config=False)
    return api


async def store(api: Api, alias: str, secret: str, gateway: str = "g", **extra: Any) -> str:
    body = {"provider_slug": "openai", "alias": alias, "secret": secret, **extra}
    body.setdefault("default_config", False)
    url = api.control(f"/{gateway}/provider_configs")
    created = await api.http.post(url, json=body, headers=AUTH)
    assert created.status_code == 200, created.text
    key_id: str = created.json()["result"]["id"]
    return key_id


def last_seen(upstream: FaultServer) -> str:
    return upstream.requests[-1].headers.get("authorization", "<none>")


def openai_client(api: Api, route: str, **headers: str) -> Any:
    openai = pytest.importorskip("openai")
    return openai.AsyncOpenAI(
        base_url=api.data("g", route),
        api_key=TOKEN,  # the openai client always sends one: the gateway token here
        default_headers={"cf-aig-authorization": f"Bearer {TOKEN}", **headers},
        max_retries=0,
    )


async def test_openai_client_on_compat_with_the_gateway_token_alone(
    kapi: Api, upstream: FaultServer
) -> None:
    async with openai_client(kapi, "compat") as client:
        completion = await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}]
        )
    assert last_seen(upstream) == f"Bearer {SECRET}"
    assert completion.choices[0].message.content == "upstream saw Bearer [REDACTED]."


async def test_openai_client_on_a_provider_route_streamed(kapi: Api, upstream: FaultServer) -> None:
    async with openai_client(kapi, "openai") as client:
        stream = await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert last_seen(upstream) == f"Bearer {SECRET}"
    assert text == "upstream saw Bearer [REDACTED]."


async def test_the_alias_header_picks_another_key(kapi: Api, upstream: FaultServer) -> None:
    async with openai_client(kapi, "compat", **{"cf-aig-byok-alias": "prod"}) as client:
        completion = await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}]
        )
    assert last_seen(upstream) == f"Bearer {PROD_SECRET}"
    assert PROD_SECRET not in str(completion.model_dump())


async def test_an_unknown_alias_is_a_logged_400_naming_the_header(
    kapi: Api, upstream: FaultServer
) -> None:
    reply_ = await kapi.http.post(
        kapi.data("g", "compat/chat/completions"),
        json={"model": MODEL, "messages": [{"role": "user", "content": "hi"}]},
        headers={**GW_AUTH, "cf-aig-byok-alias": "staging"},
    )
    assert reply_.status_code == 400
    error = reply_.json()["errors"][0]
    assert error["path"] == ["cf-aig-byok-alias"]
    assert "'openai'" in error["message"]
    assert reply_.headers.get("cf-aig-log-id")
    assert upstream.requests == []


async def test_the_callers_own_key_wins_over_the_stored_one(
    kapi: Api, upstream: FaultServer
) -> None:
    reply_ = await kapi.http.post(
        kapi.data("g", "openai/chat/completions"),
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
        headers={**GW_AUTH, "authorization": f"Bearer {OWN_KEY}", "cf-aig-byok-alias": "nope"},
    )
    assert reply_.status_code == 200, reply_.text
    assert last_seen(upstream) == f"Bearer {OWN_KEY}"


async def test_a_provider_without_a_stored_key_goes_on_without_one(
    kapi: Api, upstream: FaultServer
) -> None:
    reply_ = await kapi.http.post(
        kapi.data("g", "compat/chat/completions"),
        json={"model": "groq/llama", "messages": [{"role": "user", "content": "hi"}]},
        headers=GW_AUTH,
    )
    assert reply_.status_code == 200  # the built-in model answers groq/*
    assert upstream.requests == []


async def test_stored_keys_need_gateway_authentication(kapi: Api, upstream: FaultServer) -> None:
    await kapi.create("open", authentication=False)
    await store(kapi, "default", SECRET, gateway="open", default_config=True)
    reply_ = await kapi.http.post(
        kapi.data("open", "compat/chat/completions"),
        json={"model": MODEL, "messages": [{"role": "user", "content": "hi"}]},
    )
    assert reply_.status_code == 401
    assert SECRET not in reply_.text
    assert upstream.requests == []


async def test_a_keys_rate_limit_is_enforced(kapi: Api, upstream: FaultServer) -> None:
    await store(kapi, "limited", PROD_SECRET + "x", rate_limit=1, rate_limit_period=60)
    headers = {**GW_AUTH, "cf-aig-byok-alias": "limited"}
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
    url = kapi.data("g", "compat/chat/completions")
    assert (await kapi.http.post(url, json=body, headers=headers)).status_code == 200
    limited = await kapi.http.post(url, json=body, headers=headers)
    assert limited.status_code == 429
    assert limited.json()["errors"][0]["code"] == 2003
    other = await kapi.http.post(url, json=body, headers=GW_AUTH)
    assert other.status_code == 200  # another key of the same gateway is not limited


async def test_a_rotated_key_is_used_at_once_and_both_stay_redacted(
    kapi: Api, upstream: FaultServer
) -> None:
    key_id = (await kapi.http.get(kapi.control("/g/provider_configs"), headers=AUTH)).json()[
        "result"
    ][0]["id"]
    rotated = "sk-proj-rotated-9999bbbb2222cccc"
    put = await kapi.http.put(
        kapi.control(f"/g/provider_configs/{key_id}"), json={"secret": rotated}, headers=AUTH
    )
    assert put.status_code == 200
    async with openai_client(kapi, "compat") as client:
        completion = await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": f"say {SECRET}"}]
        )
    assert last_seen(upstream) == f"Bearer {rotated}"
    assert completion.choices[0].message.content == "upstream saw Bearer [REDACTED]."


async def test_the_binding_calls_compat_with_the_gateway_token_alone(
    kapi: Api, upstream: FaultServer
) -> None:
    from aigateway_sdk import GatewayBinding

    async with GatewayBinding(
        account_id=kapi.account,
        gateway_id="g",
        gateway_token=TOKEN,
        base_url=kapi.gw.data_url,
    ) as binding:
        response = await binding.model(MODEL).generate_text(prompt="hi")
        streamed = await binding.model(MODEL).stream_text(prompt="hi").collect()
    assert response.text == "upstream saw Bearer [REDACTED]."
    assert streamed.text == response.text
    assert [r.headers.get("authorization") for r in upstream.requests] == [f"Bearer {SECRET}"] * 2


async def test_the_binding_calls_workers_ai_and_an_alias_with_the_gateway_token_alone(
    kapi: Api, upstream: FaultServer
) -> None:
    """Workers AI's key is the API token: stored as a `workers-ai` key, the binding needs no
    `api_token`; `extra_headers` picks an alias."""
    from aigateway_sdk import GatewayBinding

    url = kapi.control("/g/provider_configs")
    body = {"provider_slug": "workers-ai", "alias": "default", "default_config": True}
    stored = await kapi.http.post(url, json={**body, "secret": TOKEN}, headers=AUTH)
    assert stored.status_code == 200
    async with GatewayBinding(
        account_id=kapi.account, gateway_id="g", gateway_token=TOKEN, base_url=kapi.gw.data_url
    ) as binding:
        native = await binding.model("@cf/meta/llama-3.1-8b-instruct").generate_text(prompt="hi")
        prod = binding.model(MODEL, extra_headers={"cf-aig-byok-alias": "prod"})
        aliased = await prod.generate_text(prompt="hi")
    assert native.text  # the built-in model answered: the key passed Workers AI's check
    assert aliased.text == "upstream saw Bearer [REDACTED]."
    assert last_seen(upstream) == f"Bearer {PROD_SECRET}"


async def test_workers_ai_without_a_stored_key_still_needs_the_api_token(kapi: Api) -> None:
    reply_ = await kapi.http.post(
        kapi.data("g", "workers-ai/@cf/meta/llama-3.1-8b-instruct"),
        json={"prompt": "hi"},
        headers=GW_AUTH,
    )
    assert reply_.status_code == 401


async def test_a_dynamic_routes_model_uses_the_stored_key(kapi: Api, upstream: FaultServer) -> None:
    """`dynamic/<route>` with the gateway token alone: the route's model element reaches its
    provider with the stored key (Cloudflare's routes use the gateway's stored keys)."""
    properties = {"provider": "openai", "model": "gpt-4o-mini", "retries": 0, "timeout": 30_000}
    element = {
        "id": "m",
        "type": "model",
        "properties": properties,
        "outputs": {"success": {"elementId": "end"}},
    }
    elements = [
        {"id": "start", "type": "start", "outputs": {"next": {"elementId": "m"}}},
        element,
        {"id": "end", "type": "end", "outputs": {}},
    ]
    created = await kapi.http.post(
        kapi.control("/g/routes"), json={"name": "byok", "elements": elements}, headers=AUTH
    )
    assert created.status_code == 200, created.text
    async with openai_client(kapi, "compat") as client:
        completion = await client.chat.completions.create(
            model="dynamic/byok", messages=[{"role": "user", "content": "hi"}]
        )
    assert last_seen(upstream) == f"Bearer {SECRET}"
    assert completion.choices[0].message.content == "upstream saw Bearer [REDACTED]."
