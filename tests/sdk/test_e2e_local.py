"""The SDK end to end over real HTTP against the local gateway, on asyncio and trio."""

from __future__ import annotations

import json
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
