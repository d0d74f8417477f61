"""generate_text over a mock transport: request encoding, reply decoding, headers, routes."""

from __future__ import annotations

import json

import httpx
import pytest

from aigateway_sdk import (
    GatewayOptions,
    Message,
    ModelParameters,
    ValidationError,
)
from aigateway_sdk.options import CustomCost

from .helpers import MODEL, Recorder, binding_for, workers_ai_reply

pytestmark = pytest.mark.anyio


async def test_workers_ai_request_and_reply() -> None:
    recorder = Recorder(
        httpx.Response(
            200,
            json=workers_ai_reply("Hi!", 7, 3),
            headers={"cf-aig-cache-status": "MISS", "cf-aig-log-id": "01LOG"},
        )
    )
    binding = binding_for(recorder)
    lm = binding.model(MODEL, ModelParameters(temperature=0.7, max_tokens=1024))
    response = await lm.generate_text(prompt="Say hello.")
    assert response.text == "Hi!"
    assert response.usage.input_tokens.total == 7
    assert response.usage.output_tokens.total == 3
    assert response.finish_reason == "stop"
    assert response.cache_status == "MISS"
    assert response.log_id == "01LOG"
    request = recorder.requests[0]
    assert str(request.url) == f"https://gateway.ai.cloudflare.com/v1/acct/gw/workers-ai/{MODEL}"
    assert request.headers["authorization"] == "Bearer cf-token-secret"
    assert "cf-aig-authorization" not in request.headers
    assert json.loads(request.content) == {
        "messages": [{"role": "user", "content": "Say hello."}],
        "temperature": 0.7,
        "max_tokens": 1024,
    }


async def test_messages_prompt_is_sent_in_order() -> None:
    recorder = Recorder(httpx.Response(200, json=workers_ai_reply()))
    lm = binding_for(recorder).model(MODEL)
    await lm.generate_text(
        prompt=[
            Message("system", "Be brief."),
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello"},
            {"role": "user", "content": "Again"},
        ]
    )
    assert [m["role"] for m in recorder.bodies()[0]["messages"]] == [
        "system",
        "user",
        "assistant",
        "user",
    ]


async def test_finish_reason_length_when_max_tokens_reached() -> None:
    recorder = Recorder(httpx.Response(200, json=workers_ai_reply("a b c", 1, 3)))
    lm = binding_for(recorder).model(MODEL, ModelParameters(max_tokens=3))
    assert (await lm.generate_text(prompt="x")).finish_reason == "length"


async def test_compat_route_for_provider_model_ids() -> None:
    reply = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Yo"},
                "finish_reason": "length",
            }
        ],
        "usage": {
            "prompt_tokens": 5,
            "completion_tokens": 1,
            "total_tokens": 6,
            "prompt_tokens_details": {"cached_tokens": 2},
        },
    }
    recorder = Recorder(httpx.Response(200, json=reply))
    binding = binding_for(recorder, provider_api_keys={"openai": "sk-openai"})
    lm = binding.model("openai/gpt-4o-mini", ModelParameters(top_k=5, temperature=0.1))
    response = await lm.generate_text(prompt="hi")
    assert response.text == "Yo"
    assert response.finish_reason == "length"
    assert response.usage.input_tokens.cached == 2
    assert response.response_id == "chatcmpl-1"
    request = recorder.requests[0]
    assert request.url.path == "/v1/acct/gw/compat/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-openai"
    body = json.loads(request.content)
    assert body["model"] == "openai/gpt-4o-mini"
    assert "top_k" not in body  # not an OpenAI parameter
    assert body["temperature"] == 0.1


async def test_workers_ai_model_via_compat_uses_the_cloudflare_token() -> None:
    recorder = Recorder(
        httpx.Response(
            200,
            json={"choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}]},
        )
    )
    lm = binding_for(recorder).model("workers-ai/@cf/meta/llama-3.1-8b-instruct")
    assert lm.route == "compat"
    await lm.generate_text(prompt="hi")
    assert recorder.requests[0].headers["authorization"] == "Bearer cf-token-secret"


async def test_gateway_options_become_headers_with_call_over_model_over_binding() -> None:
    recorder = Recorder(httpx.Response(200, json=workers_ai_reply()))
    binding = binding_for(
        recorder,
        gateway_token="gw-token",
        options=GatewayOptions(cache_ttl=60, collect_log=False, event_id="binding"),
    )
    lm = binding.model(
        MODEL, options=GatewayOptions(cache_ttl=120, metadata={"user": "u1", "n": 3})
    )
    await lm.generate_text(
        prompt="hi",
        options=GatewayOptions(
            event_id="call-1",
            skip_cache=True,
            cache_key="k1",
            request_timeout_ms=5000,
            max_attempts=3,
            retry_delay_ms=100,
            backoff="exponential",
            custom_cost=CustomCost(per_token_in=0.1, per_token_out=0.2),
        ),
    )
    headers = recorder.requests[0].headers
    assert headers["cf-aig-authorization"] == "Bearer gw-token"
    assert headers["cf-aig-cache-ttl"] == "120"
    assert headers["cf-aig-collect-log"] == "false"
    assert headers["cf-aig-event-id"] == "call-1"
    assert json.loads(headers["cf-aig-metadata"]) == {"user": "u1", "n": 3}
    assert headers["cf-aig-skip-cache"] == "true"
    assert headers["cf-aig-cache-key"] == "k1"
    assert headers["cf-aig-request-timeout"] == "5000"
    assert headers["cf-aig-max-attempts"] == "3"
    assert headers["cf-aig-retry-delay"] == "100"
    assert headers["cf-aig-backoff"] == "exponential"
    assert json.loads(headers["cf-aig-custom-cost"]) == {"per_token_in": 0.1, "per_token_out": 0.2}
    # the model's own options are untouched by a call's
    await lm.generate_text(prompt="again")
    assert recorder.requests[1].headers["cf-aig-event-id"] == "binding"
    assert "cf-aig-skip-cache" not in recorder.requests[1].headers


async def test_call_parameters_override_model_parameters() -> None:
    recorder = Recorder(httpx.Response(200, json=workers_ai_reply()))
    lm = binding_for(recorder).model(MODEL, ModelParameters(temperature=0.7, max_tokens=100))
    await lm.generate_text(prompt="hi", parameters=ModelParameters(max_tokens=5, seed=1))
    assert recorder.bodies()[0] | {} == {
        "messages": [{"role": "user", "content": "hi"}],
        "temperature": 0.7,
        "max_tokens": 5,
        "seed": 1,
    }


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: GatewayOptions(metadata={str(i): i for i in range(6)}), "metadata"),
        (lambda: GatewayOptions(metadata={"a": [1]}), "metadata.a"),
        (lambda: GatewayOptions(max_attempts=6), "max_attempts"),
        (lambda: GatewayOptions(cache_ttl=-1), "cache_ttl"),
        (lambda: GatewayOptions(backoff="random"), "backoff"),
        (lambda: GatewayOptions(event_id="a\r\nx-injected: 1"), "event_id"),
        (lambda: ModelParameters(temperature=9), "temperature"),
        (lambda: ModelParameters(max_tokens=0), "max_tokens"),
    ],
)
def test_bad_options_and_parameters_fail_when_built_naming_the_field(build, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as caught:
        build()
    assert caught.value.fields == (field,)
    assert field in str(caught.value)


def test_building_a_model_does_no_io() -> None:
    def explode(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request may be sent")

    binding = binding_for(Recorder(explode))
    lm = binding.model(MODEL)
    lm.generate_text(prompt="never awaited")  # an AiCall is lazy: nothing is sent
    lm.stream_text(prompt="never iterated")
    assert binding._client is None  # the client itself is created on first use


def test_repr_hides_secrets() -> None:
    binding = binding_for(Recorder(), gateway_token="gw-secret")
    text = repr(binding) + repr(binding.model(MODEL))
    assert "cf-token-secret" not in text
    assert "gw-secret" not in text


async def test_a_call_is_a_coroutine_for_tasks_and_gather() -> None:
    import asyncio

    recorder = Recorder(httpx.Response(200, json=workers_ai_reply("concurrent")))
    lm = binding_for(recorder).model(MODEL)
    task = asyncio.create_task(lm.generate_text(prompt="a"))
    gathered = await asyncio.gather(lm.generate_text(prompt="b"), lm.generate_text(prompt="c"))
    assert (await task).text == "concurrent"
    assert [r.text for r in gathered] == ["concurrent", "concurrent"]
    assert len(recorder.requests) == 3


@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_a_call_runs_in_a_trio_nursery() -> None:
    import trio

    recorder = Recorder(httpx.Response(200, json=workers_ai_reply("nursery")))
    lm = binding_for(recorder).model(MODEL)
    results: list[str] = []

    async def one(n: int) -> None:
        results.append((await lm.generate_text(prompt=str(n))).text)

    async with trio.open_nursery() as nursery:
        for n in range(3):
            nursery.start_soon(one, n)
    assert results == ["nursery"] * 3


def test_an_unawaited_call_sends_nothing_and_warns_nothing() -> None:
    import gc
    import warnings

    recorder = Recorder(httpx.Response(200, json=workers_ai_reply()))
    lm = binding_for(recorder).model(MODEL)
    gc.collect()  # garbage of earlier tests (their sockets) is not this test's business
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lm.generate_text(prompt="dropped")
        gc.collect()
    assert recorder.requests == []


async def test_prompt_may_be_given_by_position() -> None:
    recorder = Recorder(httpx.Response(200, json=workers_ai_reply("positional")))
    lm = binding_for(recorder).model(MODEL)
    assert (await lm.generate_text("hi")).text == "positional"
    assert recorder.bodies()[0]["messages"] == [{"role": "user", "content": "hi"}]


async def test_parameters_may_be_a_dict_checked_like_model_parameters() -> None:
    recorder = Recorder(httpx.Response(200, json=workers_ai_reply()))
    lm = binding_for(recorder).model(MODEL, {"temperature": 0.5, "max_tokens": 100})
    assert lm.parameters == ModelParameters(temperature=0.5, max_tokens=100)
    await lm.generate_text("hi", parameters={"max_tokens": 5})
    body = recorder.bodies()[0]
    assert (body["temperature"], body["max_tokens"]) == (0.5, 5)


@pytest.mark.parametrize(
    ("parameters", "field"),
    [
        ({"temprature": 0.5}, "temprature"),
        ({"temperature": "hot"}, "temperature"),
        ({"max_tokens": 1.5}, "max_tokens"),
        ({"seed": 2.0}, "seed"),
        ("temperature=0.5", "parameters"),
    ],
)
def test_bad_parameters_are_refused_when_the_model_is_built(parameters: object, field: str) -> None:
    binding = binding_for(Recorder())
    with pytest.raises(ValidationError) as caught:
        binding.model(MODEL, parameters)  # type: ignore[arg-type]
    assert caught.value.fields == (field,)
    lm = binding.model(MODEL)
    with pytest.raises(ValidationError) as caught:  # and when a call is made, before sending
        lm.generate_text("hi", parameters=parameters)  # type: ignore[arg-type]
    assert caught.value.fields == (field,)


@pytest.mark.parametrize(
    ("model", "route"),
    [
        ("", None),
        (" @cf/meta/llama-3.1-8b-instruct", None),
        ("@cf/meta/llama-3.1-8b-instruct ", None),
        ("@cf/meta/llama 3.1", None),
        ("openai/gpt-4o-mini\n", None),
        ("gpt-4o-mini", None),  # no provider: would go to compat and fail there
        ("openai/", None),
        ("/gpt-4o-mini", None),
        ("@cf/meta/llama-3.1-8b-instruct", "compat"),  # compat needs workers-ai/@cf/...
    ],
)
def test_bad_model_ids_are_refused_naming_model(model: str, route: str | None) -> None:
    def explode(request: httpx.Request) -> httpx.Response:
        raise AssertionError("nothing may be sent")

    with pytest.raises(ValidationError) as caught:
        binding_for(Recorder(explode)).model(model, route=route)  # type: ignore[arg-type]
    assert caught.value.fields == ("model",)


def test_an_unknown_route_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        binding_for(Recorder()).model(MODEL, route="workers_ai")  # type: ignore[arg-type]
    assert caught.value.fields == ("route",)


@pytest.mark.parametrize(
    "prompt",
    [
        "",
        "   \n",
        [],
        [{"role": "user", "content": " "}],
        [Message("system", ""), Message("user", "")],
    ],
)
async def test_a_prompt_without_text_is_refused_before_sending(prompt: object) -> None:
    from aigateway_sdk import AiError, InvalidRequest

    recorder = Recorder(httpx.Response(200, json=workers_ai_reply()))
    lm = binding_for(recorder).model(MODEL)
    with pytest.raises(AiError) as caught:
        await lm.generate_text(prompt)  # type: ignore[arg-type]
    assert isinstance(caught.value.reason, InvalidRequest)
    assert "prompt" in caught.value.message
    with pytest.raises(AiError):
        await lm.stream_text(prompt).collect()  # type: ignore[arg-type]
    assert recorder.requests == []


async def test_workers_ai_openai_route_posts_to_its_own_path() -> None:
    reply = {"choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}]}
    recorder = Recorder(httpx.Response(200, json=reply))
    lm = binding_for(recorder).model(MODEL, route="workers-ai-openai")
    assert (await lm.generate_text(prompt="hi")).text == "ok"
    request = recorder.requests[0]
    assert str(request.url) == (
        "https://gateway.ai.cloudflare.com/v1/acct/gw/workers-ai/v1/chat/completions"
    )
    assert json.loads(request.content)["model"] == MODEL  # the id without a provider
    assert request.headers["authorization"] == "Bearer cf-token-secret"
