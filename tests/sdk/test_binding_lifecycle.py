"""The binding's lifecycle: closing is final until reopened, a caller's client stays the
caller's, and `from_env()` names the variable behind a bad value."""

from __future__ import annotations

import httpx
import pytest

from aigateway_sdk import DEFAULT_DATA_URL, GatewayBinding, ValidationError

from .helpers import FAST_RETRY, MODEL, Recorder, binding_for, sse, workers_ai_reply

pytestmark = pytest.mark.anyio


async def test_a_call_after_aclose_is_refused_and_opens_nothing() -> None:
    recorder = Recorder(httpx.Response(200, json=workers_ai_reply("hi")))
    binding = binding_for(recorder)
    lm = binding.model(MODEL)
    assert (await lm.generate_text("first")).text == "hi"
    await binding.aclose()
    assert binding.closed
    with pytest.raises(RuntimeError, match="closed"):
        await lm.generate_text("after close")
    with pytest.raises(RuntimeError, match="closed"):
        async for _ in lm.stream_text("after close"):
            pass
    assert binding._client is None  # no new client (and socket) was opened
    assert len(recorder.requests) == 1


async def test_async_with_opens_a_closed_binding_again() -> None:
    recorder = Recorder(httpx.Response(200, json=workers_ai_reply("hi")))
    binding = binding_for(recorder)
    lm = binding.model(MODEL)
    async with binding:
        await lm.generate_text("one")
    assert binding._client is None  # closed and let go
    async with binding as reopened:
        assert reopened is binding
        assert not binding.closed
        await lm.generate_text("two")
        assert binding._client is not None
    assert binding.closed
    assert len(recorder.requests) == 2


async def test_a_callers_own_client_is_never_closed() -> None:
    recorder = Recorder(httpx.Response(200, json=workers_ai_reply("mine")))
    async with httpx.AsyncClient(transport=httpx.MockTransport(recorder)) as client:
        binding = GatewayBinding(account_id="acct", gateway_id="gw", api_token="t", client=client)
        async with binding:
            assert (await binding.model(MODEL).generate_text(prompt="hi")).text == "mine"
        assert binding.closed
        assert not client.is_closed
        reply = await client.get("https://example.invalid/still-usable")
        assert reply.status_code == 200
        async with binding:  # reopened over the same client
            assert binding.client is client


def test_from_env_names_the_missing_variable() -> None:
    with pytest.raises(ValidationError) as caught:
        GatewayBinding.from_env({})
    assert caught.value.fields == ("account_id",)
    assert "CLOUDFLARE_ACCOUNT_ID is not set" in str(caught.value)
    # a keyword argument stands in for the variable
    assert GatewayBinding.from_env({}, account_id="acct").account_id == "acct"


def test_from_env_names_the_variable_of_a_bad_value() -> None:
    env = {"CLOUDFLARE_ACCOUNT_ID": "acct", "CLOUDFLARE_API_TOKEN": "tok\r\nx-injected: 1"}
    with pytest.raises(ValidationError) as caught:
        GatewayBinding.from_env(env)
    assert caught.value.fields == ("api_token",)
    assert "CLOUDFLARE_API_TOKEN" in str(caught.value)
    assert "x-injected" not in str(caught.value)  # the value itself (a secret) is not echoed


async def test_from_env_reads_every_variable() -> None:
    recorder = Recorder(httpx.Response(200, json=workers_ai_reply("hi")))
    binding = GatewayBinding.from_env(
        {
            "CLOUDFLARE_ACCOUNT_ID": "acct",
            "AIGATEWAY_GATEWAY_ID": "gw",
            "CLOUDFLARE_API_TOKEN": "api-token",
            "CLOUDFLARE_GATEWAY_TOKEN": "gw-token",
            "AIGATEWAY_BASE_URL": "http://127.0.0.1:8787/v1/",
            "AIGATEWAY_API_BASE_URL": "http://127.0.0.1:8787/client/v4",
        },
        transport=httpx.MockTransport(recorder),
    )
    assert binding.gateway_url == "http://127.0.0.1:8787/v1/acct/gw"
    assert binding.api_base_url == "http://127.0.0.1:8787/client/v4"
    async with binding:
        await binding.model(MODEL).generate_text("hi")
    (sent,) = recorder.requests
    assert str(sent.url) == f"http://127.0.0.1:8787/v1/acct/gw/workers-ai/{MODEL}"
    assert sent.headers["authorization"] == "Bearer api-token"
    assert sent.headers["cf-aig-authorization"] == "Bearer gw-token"


def test_ensure_gateway_without_an_api_token_is_refused_when_built() -> None:
    from aigateway_sdk import AiGateway

    with pytest.raises(ValidationError) as caught:
        GatewayBinding(account_id="acct", spec=AiGateway("G", id="g"), ensure_gateway=True)
    assert caught.value.fields == ("api_token",)


@pytest.mark.parametrize("name", ["transport", "limits", "timeout"])
def test_client_with_transport_limits_or_timeout_is_refused(name: str) -> None:
    given = {"transport": httpx.MockTransport(Recorder()), "limits": httpx.Limits(), "timeout": 5}
    client = httpx.AsyncClient()
    with pytest.raises(ValidationError) as caught:
        GatewayBinding(account_id="acct", client=client, **{name: given[name]})  # type: ignore[arg-type]
    assert caught.value.fields == (name,)
    assert "client=" in str(caught.value)
    with pytest.raises(ValidationError) as all_three:
        GatewayBinding(account_id="acct", client=client, **given)  # type: ignore[arg-type]
    assert all_three.value.fields == ("transport", "limits", "timeout")
    # without client= each of them is the binding's own client's
    assert GatewayBinding(account_id="acct", **given).limits is given["limits"]  # type: ignore[arg-type]


class RecordingSpec:
    """Any spec that can apply itself: the binding needs nothing else of the control plane."""

    id = "declared"

    def __init__(self) -> None:
        self.applied: list[dict[str, object]] = []

    async def ensure(self, **where: object) -> None:
        self.applied.append(where)


async def test_any_spec_that_applies_itself_is_applied_once_by_the_first_calls() -> None:
    recorder = Recorder(
        httpx.Response(200, json=workers_ai_reply("hi")),
        httpx.Response(200, content=sse({"response": "hi"}, "[DONE]"), headers=SSE_HEADERS),
    )
    spec = RecordingSpec()
    binding = GatewayBinding(
        account_id="acct",
        api_token="cf-token",
        api_base_url="http://control.invalid/client/v4",
        retry=FAST_RETRY,
        transport=httpx.MockTransport(recorder),
        spec=spec,
        ensure_gateway=True,
    )
    assert binding.gateway_id == "declared"
    lm = binding.model(MODEL)
    assert (await lm.generate_text("one")).text == "hi"
    assert (await binding.model(MODEL).stream_text("two").collect()).text == "hi"
    assert spec.applied == [
        {
            "account_id": "acct",
            "api_token": "cf-token",
            "api_base_url": "http://control.invalid/client/v4",
            "retry": FAST_RETRY,
        }
    ]
    assert not binding.needs_start
    assert str(recorder.requests[0].url) == f"{DEFAULT_DATA_URL}/acct/declared/workers-ai/{MODEL}"
    await binding.aclose()


async def test_a_closed_binding_refuses_a_call_before_applying_its_spec() -> None:
    spec = RecordingSpec()
    recorder = Recorder(httpx.Response(200, json=workers_ai_reply("hi")))
    binding = binding_for(recorder, spec=spec, ensure_gateway=True)
    lm = binding.model(MODEL)
    await binding.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await lm.generate_text("after close")
    with pytest.raises(RuntimeError, match="closed"):
        await lm.stream_text("after close").collect()
    assert spec.applied == []
    assert recorder.requests == []


SSE_HEADERS = {"content-type": "text/event-stream"}
