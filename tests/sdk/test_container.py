"""The dependency-injector story: config -> binding -> model, @inject, override, trio."""

from __future__ import annotations

import httpx
import pytest
from dependency_injector import containers, providers
from dependency_injector.wiring import Provide, inject

from aigateway_sdk import (
    AiGateway,
    AiGatewayBinding,
    AiGatewayContainer,
    GatewayBinding,
    GatewayLanguageModel,
    LanguageModel,
    ModelParameters,
    ValidationError,
)
from aigateway_sdk.testing import FakeLanguageModel, override_model

from .helpers import MODEL, Recorder, workers_ai_reply

pytestmark = pytest.mark.anyio

Gateway = AiGateway("Gateway", id="prod-gateway", cache_ttl=300)


class Container(containers.DeclarativeContainer):
    config = providers.Configuration()
    transport = providers.Object(None)
    ai_gateway = AiGatewayBinding(
        Gateway, account_id=config.account_id, api_token=config.api_token, transport=transport
    )
    language_model = ai_gateway.model(
        model=MODEL, parameters=ModelParameters(temperature=0.7, max_tokens=1024)
    )


@inject
async def hello(lm: LanguageModel = Provide[Container.language_model]) -> dict[str, object]:
    response = await lm.generate_text(prompt="Say hello.").or_die()
    return {"text": response.text, "outputTokens": response.usage.output_tokens.total}


def make_container(recorder: Recorder) -> Container:
    container = Container()
    container.config.from_dict({"account_id": "acct", "api_token": "tok"})
    container.transport.override(providers.Object(httpx.MockTransport(recorder)))
    container.wire(modules=[__name__])
    return container


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_injected_model_calls_the_declared_gateway() -> None:
    recorder = Recorder(httpx.Response(200, json=workers_ai_reply("hey", 2, 1)))
    container = make_container(recorder)
    try:
        assert await hello() == {"text": "hey", "outputTokens": 1}
        assert recorder.requests[0].url.path == f"/v1/acct/prod-gateway/workers-ai/{MODEL}"
        assert recorder.bodies()[0]["max_tokens"] == 1024
    finally:
        await container.ai_gateway().aclose()
        container.unwire()


async def test_binding_and_model_are_singletons_sharing_one_client() -> None:
    container = make_container(Recorder())
    binding = container.ai_gateway()
    assert isinstance(binding, GatewayBinding)
    assert binding is container.ai_gateway()
    model = container.language_model()
    assert isinstance(model, GatewayLanguageModel)
    assert model is container.language_model()
    assert binding.spec == Gateway
    container.unwire()


async def test_override_swaps_the_model_and_restores_it() -> None:
    recorder = Recorder(httpx.Response(200, json=workers_ai_reply("real")))
    container = make_container(recorder)
    fake = FakeLanguageModel(text="fake")
    with override_model(container.language_model, fake):
        assert (await hello())["text"] == "fake"
    assert recorder.requests == []
    assert (await hello())["text"] == "real"
    assert len(fake.calls) == 1
    await container.ai_gateway().aclose()
    container.unwire()


async def test_two_container_instances_are_independent() -> None:
    first = Container()
    second = Container()
    first.config.from_dict({"account_id": "a1", "api_token": "t"})
    second.config.from_dict({"account_id": "a2", "api_token": "t"})
    assert first.ai_gateway().account_id == "a1"
    assert second.ai_gateway().account_id == "a2"


async def test_ready_made_container_from_config() -> None:
    container = AiGatewayContainer()
    container.config.from_dict(
        {
            "account_id": "acct",
            "gateway_id": "gw",
            "api_token": "tok",
            "base_url": "http://127.0.0.1:1/v1",
            "api_base_url": "http://127.0.0.1:1/client/v4",
            "model": "openai/gpt-4o-mini",
        }
    )
    model = container.language_model()
    assert isinstance(model, GatewayLanguageModel)
    assert model.route == "compat"
    assert container.binding().gateway_url == "http://127.0.0.1:1/v1/acct/gw"
    assert container.binding().api_base_url == "http://127.0.0.1:1/client/v4"


async def test_ready_made_container_without_a_model_says_so_when_built() -> None:
    container = AiGatewayContainer()
    container.config.from_dict({"account_id": "acct", "api_token": "tok"})
    with pytest.raises(ValidationError) as caught:
        container.language_model()
    assert caught.value.fields == ("model",)
    assert "'None'" not in str(caught.value)


async def test_class_override_after_the_container_is_built_reaches_it() -> None:
    # The documented pattern: the container is built (and wired) first, the test overrides the
    # class provider afterwards. dependency-injector copies providers into the container, so
    # this override used to be ignored and the real model called.
    recorder = Recorder(httpx.Response(200, json=workers_ai_reply("real")))
    container = make_container(recorder)
    try:
        assert (await hello())["text"] == "real"  # the real model, built and cached
        fake = FakeLanguageModel(text="fake")
        Container.language_model.override(providers.Object(fake))
        try:
            assert (await hello())["text"] == "fake"
            assert container.language_model() is fake
        finally:
            Container.language_model.reset_last_overriding()
        assert len(recorder.requests) == 1  # the real model was not called while overridden
        assert len(fake.calls) == 1
        assert (await hello())["text"] == "real"
        assert len(recorder.requests) == 2
    finally:
        await container.ai_gateway().aclose()
        container.unwire()


async def test_container_built_during_a_class_override_is_restored_after_it() -> None:
    recorder = Recorder(httpx.Response(200, json=workers_ai_reply("real")))
    fake = FakeLanguageModel(text="fake")
    with override_model(Container.language_model, fake):
        container = make_container(recorder)
        assert (await hello())["text"] == "fake"
    try:
        assert (await hello())["text"] == "real"  # the override did not outlive its block
    finally:
        await container.ai_gateway().aclose()
        container.unwire()


async def test_class_override_of_the_binding_reaches_built_containers() -> None:
    container = make_container(Recorder())
    other = GatewayBinding(account_id="other", api_token="t")
    with override_model(Container.ai_gateway, other):
        assert container.ai_gateway() is other
    assert container.ai_gateway() is not other
    container.unwire()


async def test_fake_records_stream_calls_and_scripted_errors() -> None:
    from aigateway_sdk import AiError, TextDelta, Timeout

    fake = FakeLanguageModel(script=["first", AiError(Timeout(message="slow"))])
    assert (await fake.generate_text(prompt="a")).text == "first"
    with pytest.raises(AiError):
        await fake.generate_text(prompt="b")
    with pytest.raises(AiError):  # the last entry repeats
        async for _ in fake.stream_text(prompt="c"):
            pass
    assert [c.kind for c in fake.calls] == ["generate", "generate", "stream"]
    streamed = FakeLanguageModel(text="x y")
    deltas = [p.delta async for p in streamed.stream_text(prompt="d") if isinstance(p, TextDelta)]
    assert deltas == ["x ", "y"]


async def test_fake_takes_what_the_real_model_takes_and_refuses_what_it_refuses() -> None:
    from aigateway_sdk import AiError, InvalidRequest

    fake = FakeLanguageModel(text="ok")
    assert isinstance(fake, LanguageModel)
    assert (await fake.generate_text("by position", parameters={"max_tokens": 5})).text == "ok"
    assert fake.calls[0].parameters == ModelParameters(max_tokens=5)
    assert (await fake.stream_text("by position").collect()).text == "ok"
    with pytest.raises(AiError) as caught:
        await fake.generate_text("  ")
    assert isinstance(caught.value.reason, InvalidRequest)
    with pytest.raises(ValidationError):
        fake.generate_text("hi", parameters={"temprature": 1})
