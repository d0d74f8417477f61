"""The SDK end to end over real HTTP against the local gateway, on asyncio and trio."""

from __future__ import annotations

import gc
import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from aigateway_sdk import (
    NO_RETRY,
    AiError,
    AuthenticationFailed,
    Finish,
    GatewayBinding,
    GatewayOptions,
    Message,
    ModelParameters,
    NotFound,
    RateLimited,
    ResponseMetadata,
    TextDelta,
)
from aigateway_sdk.local import LocalGateway, LocalGatewayConfig

pytestmark = pytest.mark.anyio

ACCOUNT = "acct-e2e"
TOKEN = "e2e-token"
MODEL = "@cf/meta/llama-3.1-8b-instruct"
BOTH = pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
OPEN_SETTINGS = {
    "cache_ttl": 0,
    "cache_invalidate_on_update": False,
    "collect_logs": True,
    "rate_limiting_interval": 0,
    "rate_limiting_limit": 0,
}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalGateway]:
    db = Path(tmp_path_factory.mktemp("e2e")) / "gw.db"
    with LocalGateway(LocalGatewayConfig(db_path=db, api_token=TOKEN)) as gw:
        reply = httpx.post(
            f"{gw.api_url}/accounts/{ACCOUNT}/ai-gateway/gateways",
            json={"id": "open", **OPEN_SETTINGS},
            headers={"authorization": f"Bearer {TOKEN}"},
        )
        assert reply.status_code == 200, reply.text
        yield gw


async def create_gateway(gw: LocalGateway, gateway_id: str, **settings: object) -> None:
    body = {"id": gateway_id, **OPEN_SETTINGS, **settings}
    async with httpx.AsyncClient(headers={"authorization": f"Bearer {TOKEN}"}) as client:
        reply = await client.post(f"{gw.api_url}/accounts/{ACCOUNT}/ai-gateway/gateways", json=body)
    assert reply.status_code == 200, reply.text


def binding(gw: LocalGateway, gateway_id: str, **kwargs: object) -> GatewayBinding:
    return GatewayBinding(
        account_id=ACCOUNT,
        gateway_id=gateway_id,
        api_token=kwargs.pop("api_token", TOKEN),  # type: ignore[arg-type]
        base_url=gw.data_url,
        **kwargs,  # type: ignore[arg-type]
    )


@BOTH
async def test_generate_text_through_the_gateway(gateway: LocalGateway) -> None:
    async with binding(gateway, "open") as b:
        lm = b.model(MODEL, ModelParameters(max_tokens=40))
        response = await lm.generate_text(prompt="Say hello.")
    assert response.text
    assert response.usage.input_tokens.total > 0
    assert 0 < response.usage.output_tokens.total <= 40
    assert response.cache_status == "MISS"
    assert response.log_id


@BOTH
async def test_stream_text_through_the_gateway_matches_generate(gateway: LocalGateway) -> None:
    async with binding(gateway, "open") as b:
        lm = b.model(MODEL, ModelParameters(max_tokens=30, seed=1))
        whole = await lm.generate_text(prompt="Tell a story.")
        parts = [p async for p in lm.stream_text(prompt="Tell a story.")]
    deltas = [p.delta for p in parts if isinstance(p, TextDelta)]
    assert len(deltas) > 1  # it really streamed
    assert "".join(deltas) == whole.text  # the built-in model is deterministic
    assert isinstance(parts[0], ResponseMetadata)
    assert parts[0].log_id
    finish = parts[-1]
    assert isinstance(finish, Finish)
    assert finish.usage.output_tokens.total == whole.usage.output_tokens.total


async def test_compat_route_through_the_gateway(gateway: LocalGateway) -> None:
    async with binding(gateway, "open") as b:
        lm = b.model(f"workers-ai/{MODEL}", ModelParameters(max_tokens=20))
        response = await lm.generate_text(
            prompt=[Message("system", "Be brief."), Message("user", "Hello there")]
        )
        streamed = await lm.stream_text(prompt="Hello there").collect()
    assert response.text
    assert response.finish_reason in ("stop", "length")
    assert streamed.text
    assert streamed.usage.output_tokens.total > 0


async def test_cache_hit_on_repeat_and_skip_cache(gateway: LocalGateway) -> None:
    await create_gateway(gateway, "cached", cache_ttl=300)
    async with binding(gateway, "cached") as b:
        lm = b.model(MODEL)
        first = await lm.generate_text(prompt="cache me")
        second = await lm.generate_text(prompt="cache me")
        skipped = await lm.generate_text(prompt="cache me", options=GatewayOptions(skip_cache=True))
    assert (first.cache_status, second.cache_status, skipped.cache_status) == (
        "MISS",
        "HIT",
        "MISS",
    )
    assert second.text == first.text
    assert second.log_id != first.log_id


async def test_rate_limit_is_a_typed_error_with_retry_after(gateway: LocalGateway) -> None:
    await create_gateway(
        gateway,
        "limited",
        rate_limiting_interval=60,
        rate_limiting_limit=2,
        rate_limiting_technique="fixed",
    )
    async with binding(gateway, "limited", retry=NO_RETRY) as b:
        lm = b.model(MODEL)
        await lm.generate_text(prompt="one")
        await lm.generate_text(prompt="two")
        with pytest.raises(AiError) as caught:
            await lm.generate_text(prompt="three")
    assert isinstance(caught.value.reason, RateLimited)
    assert caught.value.status == 429
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > 0


async def test_authenticated_gateway_needs_the_gateway_token(gateway: LocalGateway) -> None:
    await create_gateway(gateway, "locked", authentication=True)
    async with binding(gateway, "locked") as b:
        with pytest.raises(AiError) as caught:
            await b.model(MODEL).generate_text(prompt="let me in")
    assert isinstance(caught.value.reason, AuthenticationFailed)
    assert caught.value.code == 2009
    async with binding(gateway, "locked", gateway_token=TOKEN) as b:
        assert (await b.model(MODEL).generate_text(prompt="let me in")).text


async def test_default_gateway_appears_with_authentication_on(gateway: LocalGateway) -> None:
    async with binding(gateway, "default") as b:
        with pytest.raises(AiError) as caught:
            await b.model(MODEL).generate_text(prompt="hi")
    assert isinstance(caught.value.reason, AuthenticationFailed)
    async with binding(gateway, "default", gateway_token=TOKEN) as b:
        assert (await b.model(MODEL).generate_text(prompt="hi")).text


async def test_unknown_gateway_is_not_found(gateway: LocalGateway) -> None:
    async with binding(gateway, "no-such-gateway") as b:
        with pytest.raises(AiError) as caught:
            await b.model(MODEL).generate_text(prompt="hello?")
    assert isinstance(caught.value.reason, NotFound)


async def test_metadata_and_event_id_reach_the_log(gateway: LocalGateway) -> None:
    await create_gateway(gateway, "logged")
    async with binding(gateway, "logged") as b:
        response = await b.model(MODEL).generate_text(
            prompt="log me",
            options=GatewayOptions(metadata={"user": "ada", "n": 1}, event_id="evt-1"),
        )
    url = f"{gateway.api_url}/accounts/{ACCOUNT}/ai-gateway/gateways/logged/logs/{response.log_id}"
    async with httpx.AsyncClient(headers={"authorization": f"Bearer {TOKEN}"}) as client:
        reply = await client.get(url)
    assert reply.status_code == 200, reply.text
    log = reply.json()["result"]
    assert log["event_id"] == "evt-1"
    assert json.loads(log["metadata"]) == {"user": "ada", "n": 1}  # a string, as Cloudflare
    assert log["success"] is True


async def test_binding_can_ensure_its_gateway_on_start(gateway: LocalGateway) -> None:
    from aigateway_sdk import AiGateway

    spec = AiGateway("Ensured", id="ensured", cache_ttl=120)
    ensured = GatewayBinding(
        account_id=ACCOUNT,
        api_token=TOKEN,
        base_url=gateway.data_url,
        api_base_url=gateway.api_url,
        spec=spec,
        ensure_gateway=True,
    )
    async with ensured as b:
        assert b.gateway_id == "ensured"
        first = await b.model(MODEL).generate_text(prompt="ensure")
        second = await b.model(MODEL).generate_text(prompt="ensure")
    assert (first.cache_status, second.cache_status) == ("MISS", "HIT")  # cache_ttl applied


def test_one_binding_serves_consecutive_event_loops(gateway: LocalGateway) -> None:
    # A binding outlives event loops: a script calling asyncio.run twice, pytest's loop per
    # test, a worker with its own loop. Each loop gets its own client; the old one is dropped
    # unclosed (its loop has ended), so the GC closes its sockets, with a ResourceWarning.
    import asyncio

    import trio

    b = binding(gateway, "open")
    lm = b.model(MODEL, ModelParameters(max_tokens=10))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        first = asyncio.run(lm.generate_text("first loop"))
        client = b.client
        second = asyncio.run(lm.generate_text("second loop"))  # was: Event loop is closed
        assert b.client is not client
        third = trio.run(lm.stream_text("a trio run").collect)
        fourth = asyncio.run(lm.stream_text("back on asyncio").collect())
        assert all(r.text for r in (first, second, third, fourth))
        asyncio.run(b.aclose())  # from yet another loop: the old client is dropped, not awaited
        assert b.closed
        del client
        gc.collect()


def test_async_with_in_each_event_loop_closes_its_client(gateway: LocalGateway) -> None:
    # The clean pattern for a binding shared by several loops: open and close it in each.
    import asyncio

    b = binding(gateway, "open")
    lm = b.model(MODEL, ModelParameters(max_tokens=10))
    clients: list[httpx.AsyncClient] = []

    async def one_loop() -> str:
        async with b:
            text = (await lm.generate_text(prompt="hello")).text
            clients.append(b.client)
        return text

    assert asyncio.run(one_loop())
    assert asyncio.run(one_loop())  # reopened by `async with`, on a new client
    assert clients[0] is not clients[1]
    assert all(c.is_closed for c in clients)


async def test_from_env_goes_to_the_data_plane_it_names(gateway: LocalGateway) -> None:
    env = {
        "CLOUDFLARE_ACCOUNT_ID": ACCOUNT,
        "CLOUDFLARE_API_TOKEN": TOKEN,
        "AIGATEWAY_GATEWAY_ID": "open",
        "AIGATEWAY_BASE_URL": gateway.data_url,
        "AIGATEWAY_API_BASE_URL": gateway.api_url,
    }
    b = GatewayBinding.from_env(env)
    assert b.gateway_url == f"{gateway.data_url}/{ACCOUNT}/open"  # checked before any request
    async with b:
        response = await b.model(MODEL).generate_text(prompt="from the environment")
    assert response.log_id  # the local gateway answered and logged it


@BOTH
async def test_workers_ai_openai_route_through_the_gateway(gateway: LocalGateway) -> None:
    async with binding(gateway, "open") as b:
        lm = b.model(MODEL, ModelParameters(max_tokens=20), route="workers-ai-openai")
        response = await lm.generate_text(prompt="Hello there")
        streamed = await lm.stream_text(prompt="Hello there").collect()
    assert response.text  # a wrong path is a 404 from the gateway
    assert streamed.text == response.text


async def test_ensure_gateway_is_applied_once_by_the_first_calls(
    gateway: LocalGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    import anyio

    from aigateway_sdk import AiGateway
    from aigateway_sdk.control import admin

    applied: list[str] = []
    real_ensure = admin.ensure_gateway

    async def counting_ensure(*args: object, **kwargs: object) -> object:
        applied.append("ensure")
        return await real_ensure(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(admin, "ensure_gateway", counting_ensure)
    spec = AiGateway("Lazy", id="lazily-ensured", cache_ttl=120)
    b = GatewayBinding(
        account_id=ACCOUNT,
        api_token=TOKEN,
        base_url=gateway.data_url,
        api_base_url=gateway.api_url,
        spec=spec,
        ensure_gateway=True,
    )
    lm = b.model(MODEL)
    results: list[str | None] = []

    async def call() -> None:
        results.append((await lm.generate_text("ensure me")).cache_status)

    try:
        async with anyio.create_task_group() as tg:  # no start(): the first calls apply it
            for _ in range(4):
                tg.start_soon(call)
        assert applied == ["ensure"]
        assert not b.needs_start
        assert (await lm.generate_text("ensure me")).cache_status == "HIT"  # cache_ttl applied
        await b.start()
        assert applied == ["ensure"]
    finally:
        await b.aclose()
    assert len(results) == 4


async def test_ready_made_container_talks_to_the_local_gateway(gateway: LocalGateway) -> None:
    from aigateway_sdk import AiGatewayContainer

    container = AiGatewayContainer()
    container.config.from_dict(
        {
            "account_id": ACCOUNT,
            "gateway_id": "open",
            "api_token": TOKEN,
            "base_url": gateway.data_url,
            "api_base_url": gateway.api_url,
            "model": MODEL,
        }
    )
    try:
        response = await container.language_model().generate_text("Say hello.")
    finally:
        await container.binding().aclose()
    assert response.text
    assert response.log_id


async def test_readme_dependency_injection_snippet_runs_against_the_local_gateway(
    gateway: LocalGateway,
) -> None:
    import re
    import sys
    import types

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("### Dependency injection", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]
    assert "http://127.0.0.1:8787/v1" in code  # the snippet names the local gateway's URLs
    root = gateway.data_url.removesuffix("/v1")
    code = code.replace("http://127.0.0.1:8787", root).replace('"any-token"', repr(TOKEN))
    module = types.ModuleType("readme_di_snippet")
    sys.modules[module.__name__] = module
    try:
        exec(compile(code, "README.md", "exec"), module.__dict__)
        binding = module.container.ai_gateway()
        assert binding.base_url == gateway.data_url
        result = await module.hello()
        assert result["text"]
        await binding.aclose()
        module.container.unwire()
    finally:
        del sys.modules[module.__name__]
