"""The SDK against the real local gateway: the gateway's Cloudflare-shaped failures become the
right typed reasons, the SDK retries exactly as configured, and every attempt is logged once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest

from aigateway_sdk import (
    AiError,
    AuthenticationFailed,
    GatewayBinding,
    GatewayOptions,
    NotFound,
    ProviderError,
    RateLimited,
    RetryPolicy,
    TextDelta,
)
from aigateway_sdk.local import LocalGateway, LocalGatewayConfig, ManualClock, UpstreamRoute

from .gateway import AUTH, SETTINGS, TOKEN

pytestmark = pytest.mark.anyio
BACKENDS = pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
FLAKY = "@cf/test/flaky-{backend}"  # one route (one failure counter) per anyio backend
DOWN = "@cf/test/down"
SLOW = "@cf/test/slow"
MODEL = "@cf/meta/llama-3.1-8b-instruct"


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalGateway]:
    config = LocalGatewayConfig(
        db_path=tmp_path_factory.mktemp("sdk") / "gw.db",
        api_token=TOKEN,
        clock=ManualClock(1_767_225_600.0),
        upstreams=(
            UpstreamRoute(FLAKY.format(backend="asyncio"), kind="fault", status=503, fail_times=2),
            UpstreamRoute(FLAKY.format(backend="trio"), kind="fault", status=503, fail_times=2),
            UpstreamRoute(DOWN, kind="fault", status=502),
            UpstreamRoute(SLOW, kind="builtin", token_latency_ms=20),
        ),
    )
    with LocalGateway(config) as gateway, httpx.Client(timeout=10) as http:
        control = f"{gateway.api_url}/accounts/acct/ai-gateway/gateways"
        for gateway_id, extra in (
            ("plain", {}),
            ("streams", {}),
            ("locked", {"authentication": True}),
            ("limited", {"rate_limiting_limit": 2, "rate_limiting_interval": 60}),
        ):
            created = http.post(control, json={"id": gateway_id, **SETTINGS, **extra}, headers=AUTH)
            assert created.status_code == 200, created.text
        yield gateway


def binding(gw: LocalGateway, gateway_id: str, retries: int = 3, **extra: str) -> GatewayBinding:
    return GatewayBinding(
        account_id="acct",
        gateway_id=gateway_id,
        api_token=TOKEN,
        base_url=gw.data_url,
        retry=RetryPolicy(max_retries=retries, initial_delay=0.01, jitter=0),
        **extra,  # type: ignore[arg-type]
    )


def log_count(gw: LocalGateway, gateway_id: str) -> int:
    with httpx.Client(timeout=10) as http:
        response = http.get(
            f"{gw.api_url}/accounts/acct/ai-gateway/gateways/{gateway_id}/logs",
            params={"per_page": 1},
            headers=AUTH,
        )
    total: int = response.json()["result_info"]["total_count"]
    return total


@BACKENDS
async def test_upstream_503_twice_then_success_is_retried_and_logged_per_attempt(
    gw: LocalGateway, anyio_backend: str
) -> None:
    before = log_count(gw, "plain")
    async with binding(gw, "plain") as b:
        response = await b.model(FLAKY.format(backend=anyio_backend)).generate_text(prompt="hi")
    assert response.text
    assert response.log_id is not None
    # Two failed attempts and the good one: three requests, three logs.
    assert log_count(gw, "plain") - before == 3


async def test_upstream_down_ends_in_provider_error_after_the_retries(gw: LocalGateway) -> None:
    before = log_count(gw, "plain")
    async with binding(gw, "plain", retries=2) as b:
        with pytest.raises(AiError) as failed:
            await b.model(DOWN).generate_text(prompt="hi")
    assert isinstance(failed.value.reason, ProviderError)
    assert failed.value.status == 502
    assert failed.value.log_id is not None
    assert log_count(gw, "plain") - before == 3


@BACKENDS
async def test_stream_through_the_gateway(gw: LocalGateway) -> None:
    async with binding(gw, "plain") as b:
        parts = [p async for p in b.model(MODEL).stream_text(prompt="tell me")]
    assert any(isinstance(p, TextDelta) for p in parts)


async def test_gateway_rate_limit_is_rate_limited_with_retry_after(gw: LocalGateway) -> None:
    async with binding(gw, "limited", retries=0) as b:
        lm = b.model(MODEL)
        await lm.generate_text(prompt="1")
        await lm.generate_text(prompt="2")
        with pytest.raises(AiError) as limited:
            await lm.generate_text(prompt="3")
    assert isinstance(limited.value.reason, RateLimited)
    assert limited.value.code == 2003
    assert limited.value.retry_after is not None
    assert limited.value.retry_after >= 1


async def test_wrong_gateway_token_is_authentication_failed_and_not_retried(
    gw: LocalGateway,
) -> None:
    before = log_count(gw, "locked")
    async with binding(gw, "locked", gateway_token="wrong") as b:
        with pytest.raises(AiError) as refused:
            await b.model(MODEL).generate_text(prompt="hi")
    assert isinstance(refused.value.reason, AuthenticationFailed)
    assert refused.value.code == 2009
    assert "the gateway token is missing or wrong" in refused.value.message
    assert log_count(gw, "locked") == before
    async with binding(gw, "locked", gateway_token=TOKEN) as b:
        assert (await b.model(MODEL).generate_text(prompt="hi")).text


async def test_wrong_api_token_is_named_as_the_api_token(gw: LocalGateway) -> None:
    wrong = GatewayBinding(
        account_id="acct", gateway_id="plain", api_token="wrong", base_url=gw.data_url
    )
    async with wrong as b:
        with pytest.raises(AiError) as refused:
            await b.model(MODEL).generate_text(prompt="hi")
    assert isinstance(refused.value.reason, AuthenticationFailed)
    assert refused.value.code == 10000
    assert "the API token or provider key is missing or wrong" in refused.value.message
    assert "wrong" not in refused.value.message.replace("missing or wrong", "")


async def test_unknown_gateway_is_not_found(gw: LocalGateway) -> None:
    async with binding(gw, "nowhere") as b:
        with pytest.raises(AiError) as missing:
            await b.model(MODEL).generate_text(prompt="hi")
    assert isinstance(missing.value.reason, NotFound)


async def test_per_call_options_reach_the_log(gw: LocalGateway) -> None:
    async with binding(gw, "plain") as b:
        response = await b.model(MODEL).generate_text(
            prompt="hi", options=GatewayOptions(event_id="evt-42", metadata={"user": "u1"})
        )
    async with httpx.AsyncClient(timeout=10) as http:
        reply = await http.get(
            f"{gw.api_url}/accounts/acct/ai-gateway/gateways/plain/logs/{response.log_id}",
            headers=AUTH,
        )
    log = reply.json()["result"]
    assert log["event_id"] == "evt-42"
    assert "u1" in str(log["metadata"])


def test_module_uses_only_loopback(gw: LocalGateway) -> None:
    assert gw.url.startswith("http://127.0.0.1:")
    assert Path(gw.config.db_path or "").name == "gw.db"


@BACKENDS
async def test_streams_the_client_abandons_are_still_logged(gw: LocalGateway) -> None:
    before = log_count(gw, "streams")
    async with binding(gw, "streams") as b:
        lm = b.model(SLOW)
        for _ in range(10):
            async for part in lm.stream_text(prompt="tell me a long story"):
                if isinstance(part, TextDelta):
                    break
    with anyio.fail_after(10):  # the gateway notices each disconnect at its next token
        while True:
            if log_count(gw, "streams") - before >= 10:
                break
            await anyio.sleep(0.05)
    async with httpx.AsyncClient(timeout=10) as http:
        reply = await http.get(
            f"{gw.api_url}/accounts/acct/ai-gateway/gateways/streams/logs",
            params={"per_page": 10, "order_by": "created_at", "order_by_direction": "desc"},
            headers=AUTH,
        )
    logs = reply.json()["result"]
    assert all(log["status_code"] == 499 and log["success"] is False for log in logs)
    assert log_count(gw, "streams") - before == 10
