"""Sampling parameters, `extra_body` / `extra_headers` and the raw reply: what reaches the wire
on each route, what is refused, and what comes back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aigateway_sdk import (
    GatewayBinding,
    GatewayOptions,
    ModelParameters,
    RawReply,
    ValidationError,
)
from aigateway_sdk.codecs import Route
from aigateway_sdk.local import LocalGateway, LocalGatewayConfig
from aigateway_sdk.parts import ResponseMetadata, TextDelta
from aigateway_sdk.testing import FakeLanguageModel

from .helpers import MODEL, Recorder, binding_for, sse, workers_ai_reply

pytestmark = pytest.mark.anyio

OPENAI_REPLY = {"choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}]}
EVERY = {
    "temperature": 0.5,
    "max_tokens": 20,
    "top_p": 0.9,
    "top_k": 7,
    "seed": 42,
    "repetition_penalty": 1.1,
    "frequency_penalty": 0.3,
    "presence_penalty": -0.4,
}
OPENAI_ROUTES: list[tuple[str, Route]] = [
    ("openai/gpt-4o-mini", "compat"),
    (MODEL, "workers-ai-openai"),
]


# -- parameters on the wire ------------------------------------------------------------------


async def test_every_native_parameter_reaches_the_workers_ai_body() -> None:
    recorder = Recorder(httpx.Response(200, json=workers_ai_reply()))
    await binding_for(recorder).model(MODEL, EVERY).generate_text("hi")
    body = recorder.bodies()[0]
    assert {k: body[k] for k in EVERY} == EVERY


@pytest.mark.parametrize(("model", "route"), OPENAI_ROUTES)
async def test_openai_parameters_reach_the_openai_body(model: str, route: Route) -> None:
    recorder = Recorder(httpx.Response(200, json=OPENAI_REPLY))
    lm = binding_for(recorder, provider_api_keys={"openai": "k"}).model(
        model, {**EVERY, "stop": ["END", "\n\n"]}, route=route
    )
    await lm.generate_text("hi")
    body = recorder.bodies()[0]
    sent = {k: v for k, v in EVERY.items() if k not in ("top_k", "repetition_penalty")}
    assert {k: body[k] for k in sent} == sent
    assert body["stop"] == ["END", "\n\n"]
    assert "top_k" not in body
    assert "repetition_penalty" not in body


async def test_a_single_stop_string_is_sent_as_given() -> None:
    recorder = Recorder(httpx.Response(200, json=OPENAI_REPLY))
    lm = binding_for(recorder, provider_api_keys={"openai": "k"}).model("openai/gpt-4o")
    await lm.generate_text("hi", parameters={"stop": "END"})
    assert recorder.bodies()[0]["stop"] == "END"


async def test_stop_on_the_native_route_is_refused_at_build_and_per_call() -> None:
    binding = binding_for(Recorder(httpx.Response(200, json=workers_ai_reply())))
    with pytest.raises(ValidationError) as built:
        binding.model(MODEL, ModelParameters(stop="END"))
    assert built.value.fields == ("stop",)
    assert "'workers-ai' route" in str(built.value)
    lm = binding.model(MODEL)
    with pytest.raises(ValidationError) as called:
        await lm.generate_text("hi", parameters={"stop": ["END"]})
    assert called.value.fields == ("stop",)


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"stop": ""}, "stop"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"stop": []}, "stop"),
        ({"stop": ["a", 1]}, "stop"),
        ({"stop": 3}, "stop"),
        ({"frequency_penalty": 2.5}, "frequency_penalty"),
        ({"presence_penalty": -2.1}, "presence_penalty"),
        ({"repetition_penalty": 2.1}, "repetition_penalty"),
        ({"top_k": 0}, "top_k"),
        ({"seed": -1}, "seed"),
    ],
)
def test_parameters_out_of_range_are_refused_by_name(value: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ModelParameters(**value)
    assert caught.value.fields == (field,)


def test_stop_sequences_are_kept_as_a_tuple() -> None:
    assert ModelParameters(stop=["a", "b"]).stop == ("a", "b")
    assert ModelParameters(stop="a").to_json() == {"stop": "a"}


# -- extra_body / extra_headers --------------------------------------------------------------


async def test_extra_body_and_headers_merge_and_the_call_wins() -> None:
    recorder = Recorder(httpx.Response(200, json=workers_ai_reply()))
    lm = binding_for(recorder).model(
        MODEL,
        {"temperature": 0.1},
        extra_body={"lora": "mine", "raw": False, "temperature": 0.9},
        extra_headers={"X-Trace": "model", "x-team": "a"},
    )
    await lm.generate_text("hi")
    await lm.generate_text("hi", extra_body={"raw": True}, extra_headers={"x-trace": "call"})
    first, second = recorder.bodies()
    assert first["lora"] == "mine"
    assert first["raw"] is False
    assert first["temperature"] == 0.9  # extra_body is the escape hatch: it wins
    assert second["lora"] == "mine"
    assert second["raw"] is True
    assert recorder.requests[0].headers["x-trace"] == "model"
    assert recorder.requests[1].headers["x-trace"] == "call"
    assert recorder.requests[1].headers["x-team"] == "a"
    assert recorder.requests[1].headers["authorization"] == "Bearer cf-token-secret"


async def test_extra_headers_survive_per_call_options_and_streams() -> None:
    stream = sse({"response": "a"}, "[DONE]")
    recorder = Recorder(
        httpx.Response(200, content=stream, headers={"content-type": "text/event-stream"})
    )
    lm = binding_for(recorder).model(MODEL, extra_headers={"x-team": "a"}, extra_body={"k": 1})
    reply = await lm.stream_text(
        "hi", options=GatewayOptions(skip_cache=True), extra_body={"j": 2}
    ).collect()
    assert reply.text == "a"
    request = recorder.requests[0]
    assert request.headers["x-team"] == "a"
    assert request.headers["cf-aig-skip-cache"] == "true"
    body = json.loads(request.content)
    assert (body["k"], body["j"], body["stream"]) == (1, 2, True)


async def test_extra_body_reaches_the_openai_body() -> None:
    recorder = Recorder(httpx.Response(200, json=OPENAI_REPLY))
    lm = binding_for(recorder, provider_api_keys={"openai": "k"}).model(
        "openai/gpt-4o", extra_body={"user": "u1", "top_k": 3}
    )
    await lm.generate_text("hi", extra_body={"logprobs": True})
    body = recorder.bodies()[0]
    assert (body["user"], body["top_k"], body["logprobs"]) == ("u1", 3, True)


@pytest.mark.parametrize("key", ["messages", "model", "stream", "stream_options", "prompt"])
async def test_extra_body_may_not_set_what_the_sdk_writes(key: str) -> None:
    binding = binding_for(Recorder(httpx.Response(200, json=workers_ai_reply())))
    with pytest.raises(ValidationError) as built:
        binding.model(MODEL, extra_body={key: 1})
    assert built.value.fields == (f"extra_body.{key}",)
    with pytest.raises(ValidationError) as called:
        binding.model(MODEL).generate_text("hi", extra_body={key: 1})
    assert called.value.fields == (f"extra_body.{key}",)


def test_extra_body_must_be_json() -> None:
    binding = binding_for(Recorder(httpx.Response(200, json=workers_ai_reply())))
    with pytest.raises(ValidationError) as caught:
        binding.model(MODEL, extra_body={"when": object()})
    assert caught.value.fields == ("extra_body",)


@pytest.mark.parametrize(
    ("headers", "field"),
    [
        ({"Authorization": "Bearer other"}, "extra_headers.Authorization"),
        ({"cf-aig-authorization": "Bearer x"}, "extra_headers.cf-aig-authorization"),
        ({"content-type": "text/plain"}, "extra_headers.content-type"),
        ({"x-a": "one\r\nx-b: two"}, "extra_headers.x-a"),
        ({"x-a": "one\ntwo"}, "extra_headers.x-a"),
        ({"x-a\r\nx-b": "v"}, "extra_headers.'x-a\\r\\nx-b'"),
        ({"bad name": "v"}, "extra_headers.'bad name'"),
    ],
)
async def test_extra_headers_refused_by_name(headers: dict[str, str], field: str) -> None:
    binding = binding_for(Recorder(httpx.Response(200, json=workers_ai_reply())))
    with pytest.raises(ValidationError) as built:
        binding.model(MODEL, extra_headers=headers)
    assert built.value.fields == (field,)
    with pytest.raises(ValidationError) as called:
        binding.model(MODEL).stream_text("hi", extra_headers=headers)
    assert called.value.fields == (field,)


async def test_the_fake_takes_and_records_the_same_arguments() -> None:
    fake = FakeLanguageModel(text="hi")
    await fake.generate_text("x", extra_body={"a": 1}, extra_headers={"X-A": "b"})
    await fake.stream_text("x", extra_body={"b": 2}).collect()
    assert fake.calls[0].extra_body == {"a": 1}
    assert fake.calls[0].extra_headers == {"x-a": "b"}
    assert fake.calls[1].extra_body == {"b": 2}
    with pytest.raises(ValidationError):
        fake.generate_text("x", extra_headers={"authorization": "no"})


# -- the raw reply ---------------------------------------------------------------------------


async def test_generate_gives_the_raw_status_headers_and_body() -> None:
    reply = workers_ai_reply("Hi", 1, 1)
    recorder = Recorder(httpx.Response(200, json=reply, headers={"X-Request-Id": "r1"}))
    response = await binding_for(recorder).model(MODEL).generate_text("hi")
    assert isinstance(response.raw, RawReply)
    assert response.raw.status == 200
    assert response.raw.headers["x-request-id"] == "r1"  # any case
    assert response.raw.headers["X-Request-Id"] == "r1"
    assert response.raw.body == reply
    with pytest.raises(TypeError):
        response.raw.headers["x-request-id"] = "changed"  # type: ignore[index]


async def test_stream_metadata_gives_the_raw_status_and_headers() -> None:
    stream = sse({"response": "a"}, "[DONE]")
    recorder = Recorder(
        httpx.Response(
            200, content=stream, headers={"content-type": "text/event-stream", "x-r": "1"}
        )
    )
    async with binding_for(recorder).model(MODEL).stream_text("hi") as parts:
        meta = await anext(parts)
    assert isinstance(meta, ResponseMetadata)
    assert meta.status == 200
    assert meta.headers is not None
    assert meta.headers["X-R"] == "1"


# -- the built-in model's `stop`, through the local gateway ---------------------------------

TOKEN = "params-token"


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalGateway]:
    db = Path(tmp_path_factory.mktemp("params")) / "gw.db"
    with LocalGateway(LocalGatewayConfig(db_path=db, api_token=TOKEN)) as gw:
        yield gw


def local_binding(gw: LocalGateway) -> GatewayBinding:
    return GatewayBinding(
        account_id="acct-params",
        gateway_id="default",
        api_token=TOKEN,
        gateway_token=TOKEN,
        base_url=gw.data_url,
        options=GatewayOptions(skip_cache=True),
    )


@pytest.mark.parametrize("route", ["compat", "workers-ai-openai"])
async def test_stop_cuts_the_builtin_reply_streamed_and_not(
    local: LocalGateway, route: str
) -> None:
    model = f"workers-ai/{MODEL}" if route == "compat" else MODEL
    params = {"seed": 5, "max_tokens": 200}
    async with local_binding(local) as binding:
        lm = binding.model(model, params, route=route)  # type: ignore[arg-type]
        full = (await lm.generate_text("tell me about rivers")).text
        assert full.startswith('You said: "tell me about rivers".')
        cut = await lm.generate_text("tell me about rivers", parameters={"stop": ["rivers", "zz"]})
        streamed = [
            part
            async for part in lm.stream_text("tell me about rivers", parameters={"stop": "rivers"})
        ]
    assert cut.text == 'You said: "tell me about '
    assert cut.finish_reason == "stop"
    assert "".join(p.delta for p in streamed if isinstance(p, TextDelta)) == cut.text
    assert full.startswith(cut.text)
    assert len(full) > len(cut.text)


async def test_the_same_seed_gives_the_same_builtin_reply(local: LocalGateway) -> None:
    async with local_binding(local) as binding:
        lm = binding.model(MODEL)
        one = await lm.generate_text("seeded", parameters={"seed": 1})
        again = await lm.generate_text("seeded", parameters={"seed": 1})
        other = await lm.generate_text("seeded", parameters={"seed": 2})
    assert one.text == again.text != other.text
    assert one.raw is not None
    assert one.raw.headers["cf-aig-log-id"] == one.log_id
