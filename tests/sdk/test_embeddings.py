"""`EmbeddingModel`: the gateway model against the local gateway on both routes (asyncio and
trio), batching, the container provider with the fake, and replies of the wrong shape."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from dependency_injector import containers

from aigateway_sdk import (
    AiError,
    AiGatewayBinding,
    EmbeddingModel,
    EmbedResponse,
    GatewayBinding,
    GatewayEmbeddingModel,
    InvalidRequest,
    MalformedOutput,
    ValidationError,
)
from aigateway_sdk.local import LocalGateway, LocalGatewayConfig
from aigateway_sdk.local.upstreams.builtin import embedding_vector
from aigateway_sdk.testing import FakeEmbeddingModel, override_model
from tests.sdk.helpers import Recorder, binding_for

pytestmark = pytest.mark.anyio

ACCOUNT = "acct-embed"
TOKEN = "embed-token"
BGE = "@cf/baai/bge-small-en-v1.5"
OPENAI = "openai/text-embedding-3-small"
BOTH = pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
SETTINGS = {
    "cache_invalidate_on_update": False,
    "collect_logs": True,
    "rate_limiting_interval": 0,
    "rate_limiting_limit": 0,
}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalGateway]:
    db = Path(tmp_path_factory.mktemp("embed")) / "gw.db"
    with LocalGateway(LocalGatewayConfig(db_path=db, api_token=TOKEN)) as gw:
        for gateway_id, ttl in (("open", 0), ("batches", 0), ("cached", 300)):
            reply = httpx.post(
                f"{gw.api_url}/accounts/{ACCOUNT}/ai-gateway/gateways",
                json={"id": gateway_id, "cache_ttl": ttl, **SETTINGS},
                headers={"authorization": f"Bearer {TOKEN}"},
            )
            assert reply.status_code == 200, reply.text
        yield gw


def binding(gw: LocalGateway, gateway_id: str = "open") -> GatewayBinding:
    return GatewayBinding(
        account_id=ACCOUNT,
        gateway_id=gateway_id,
        api_token=TOKEN,
        provider_api_keys={"openai": TOKEN},
        base_url=gw.data_url,
    )


def unit(vector: tuple[float, ...]) -> bool:
    return abs(math.sqrt(math.fsum(x * x for x in vector)) - 1) < 1e-9


@BOTH
async def test_native_route_batches_in_order(gateway: LocalGateway) -> None:
    texts = [f"text number {i}" for i in range(250)]
    async with binding(gateway, "batches") as b:
        em = b.embedding_model(BGE)
        assert isinstance(em, EmbeddingModel)
        assert em.batch_size == 100
        response = await em.embed(texts)
    assert len(response.log_ids) == 3  # 100 + 100 + 50
    assert response.vectors == tuple(embedding_vector(BGE, t, 384) for t in texts)
    assert response.dimensions == 384
    assert all(unit(v) for v in response.vectors)
    assert response.model == BGE
    async with httpx.AsyncClient(headers={"authorization": f"Bearer {TOKEN}"}) as client:
        logs = (
            await client.get(
                f"{gateway.api_url}/accounts/{ACCOUNT}/ai-gateway/gateways/batches/logs",
                params={"per_page": 50},
            )
        ).json()["result"]
    mine = [log for log in logs if log["id"] in response.log_ids]
    assert sorted(log["tokens_in"] for log in mine) == [150, 300, 300]
    assert response.usage.input_tokens.total == 0  # Workers AI's reply reports no usage


@BOTH
async def test_compat_route_sums_usage_over_batches(gateway: LocalGateway) -> None:
    texts = ["one", "two words", "three more words", "four", "five"]
    async with binding(gateway) as b:
        whole = await b.embedding_model(OPENAI).embed(texts)
        batched = await b.embedding_model(OPENAI, batch_size=2).embed(texts)
    assert whole.vectors == batched.vectors
    assert whole.dimensions == 1536
    assert all(unit(v) for v in whole.vectors)
    assert len(set(whole.vectors)) == 5
    assert (len(whole.log_ids), len(batched.log_ids)) == (1, 3)
    assert whole.usage.input_tokens.total == batched.usage.input_tokens.total == 8
    assert whole.model == OPENAI
    assert whole.cache_status == "MISS"


async def test_one_text_determinism_and_cache(gateway: LocalGateway) -> None:
    async with binding(gateway, "cached") as b:
        em = b.embedding_model(BGE)
        first = await em.embed("the same text")
        second = await em.embed(["the same text"])
    assert first.vectors == second.vectors
    assert len(first.vectors) == 1
    assert (first.cache_status, second.cache_status) == ("MISS", "HIT")


async def test_empty_list_sends_nothing_and_empty_text_is_refused() -> None:
    recorder = Recorder()
    async with binding_for(recorder) as b:
        em = b.embedding_model("@cf/baai/bge-base-en-v1.5")
        empty = await em.embed([])
        with pytest.raises(AiError) as caught:
            await em.embed(["fine", ""])
    assert empty == EmbedResponse(vectors=(), model="@cf/baai/bge-base-en-v1.5")
    assert isinstance(caught.value.reason, InvalidRequest)
    assert "text 1 is empty" in str(caught.value)
    assert recorder.requests == []


@pytest.mark.parametrize(
    ("model", "reply"),
    [
        ("@cf/baai/bge-base-en-v1.5", {"result": {"shape": [1, 2], "data": [[0.1, 0.2]]}}),
        ("@cf/baai/bge-base-en-v1.5", {"result": {"shape": [2, 2], "data": [[0.1], [0.2, 1]]}}),
        ("@cf/baai/bge-base-en-v1.5", {"result": {"data": "nope"}}),
        ("@cf/baai/bge-base-en-v1.5", {"result": {"data": [[0.1, "x"], [0.2, 0.3]]}}),
        (OPENAI, {"data": [{"index": 0, "embedding": [0.1]}]}),
        (OPENAI, {"data": [{"index": 0, "embedding": [1.0]}, {"index": 0, "embedding": [1.0]}]}),
        (OPENAI, {"data": [1, 2]}),
        (OPENAI, {"object": "list"}),
    ],
)
async def test_reply_of_the_wrong_shape_is_malformed(model: str, reply: object) -> None:
    recorder = Recorder(httpx.Response(200, json=reply))
    async with binding_for(recorder, provider_api_keys={"openai": "sk"}) as b:
        with pytest.raises(AiError) as caught:
            await b.embedding_model(model).embed(["a", "b"])
    assert isinstance(caught.value.reason, MalformedOutput)
    assert len(recorder.requests) == 1  # not retried


async def test_request_shapes() -> None:
    native = {"result": {"shape": [1, 2], "data": [[0.6, 0.8]]}, "success": True}
    openai = {"data": [{"object": "embedding", "index": 0, "embedding": [1.0, 0.0]}]}
    recorder = Recorder(httpx.Response(200, json=native), httpx.Response(200, json=openai))
    async with binding_for(recorder, provider_api_keys={"openai": "sk-key"}) as b:
        await b.embedding_model("@cf/baai/bge-base-en-v1.5").embed("hi")
        await b.embedding_model(OPENAI).embed("hi")
    first, second = recorder.requests
    assert first.url.path == "/v1/acct/gw/workers-ai/@cf/baai/bge-base-en-v1.5"
    assert first.headers["authorization"] == "Bearer cf-token-secret"
    assert second.url.path == "/v1/acct/gw/compat/embeddings"
    assert second.headers["authorization"] == "Bearer sk-key"
    assert recorder.bodies() == [
        {"text": ["hi"]},
        {"model": OPENAI, "input": ["hi"], "encoding_format": "float"},
    ]


def test_bad_model_ids_are_refused_when_built() -> None:
    b = GatewayBinding(account_id="acct", gateway_id="gw", api_token="t")
    for kwargs in (
        {"model": "text-embedding-3-small"},  # compat needs a provider
        {"model": "@cf/baai/bge-base-en-v1.5", "route": "workers-ai-openai"},
        {"model": "@cf/baai/bge-base-en-v1.5", "batch_size": 0},
    ):
        with pytest.raises(ValidationError):
            b.embedding_model(**kwargs)
    capped = b.embedding_model("workers-ai/@cf/baai/bge-base-en-v1.5", batch_size=500)
    assert capped.batch_size == 100
    assert b.embedding_model(OPENAI).batch_size == 2048


class Container(containers.DeclarativeContainer):
    ai_gateway = AiGatewayBinding(account_id="acct", gateway_id="gw", api_token="t")
    embedder = ai_gateway.embedding_model("@cf/baai/bge-base-en-v1.5")


@BOTH
async def test_container_provider_and_fake() -> None:
    container = Container()
    real = container.embedder()
    assert isinstance(real, GatewayEmbeddingModel)
    assert real is container.embedder()
    fake = FakeEmbeddingModel(dimensions=16)
    with override_model(Container.embedder, fake):
        em: EmbeddingModel = container.embedder()
        assert em is fake
        response = await em.embed(["a", "b", "a"])
    assert container.embedder() is real
    assert response.vectors[0] == response.vectors[2] != response.vectors[1]
    assert all(len(v) == 16 and unit(v) for v in response.vectors)
    assert [call.texts for call in fake.calls] == [("a", "b", "a")]
    await container.ai_gateway().aclose()


async def test_fake_fails_like_the_real_model() -> None:
    with pytest.raises(AiError) as caught:
        await FakeEmbeddingModel().embed([""])
    assert isinstance(caught.value.reason, InvalidRequest)
    error = AiError(MalformedOutput(message="scripted"))
    assert (await FakeEmbeddingModel(error=error).embed("x").result()).is_ok is False
