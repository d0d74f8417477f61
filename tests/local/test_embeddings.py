"""Embeddings at the local gateway: Workers AI's native shape, OpenAI's `/embeddings` on the
compat and provider routes, the per-request limits, caching and logs."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest

from aigateway_sdk.local import LocalGateway, LocalGatewayConfig, UpstreamRoute
from aigateway_sdk.local.upstreams.builtin import embedding_vector
from tests.local.helpers import AUTH, GW_AUTH, Api

pytestmark = pytest.mark.anyio

BGE = "@cf/baai/bge-base-en-v1.5"


async def post(api: Api, path: str, body: Any, gateway_id: str = "default") -> httpx.Response:
    return await api.http.post(api.data(gateway_id, path), json=body, headers={**AUTH, **GW_AUTH})


def norm(vector: list[float]) -> float:
    return math.sqrt(sum(x * x for x in vector))


async def test_native_shape(api: Api) -> None:
    response = await post(api, f"workers-ai/{BGE}", {"text": ["one", "two words"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    result = body["result"]
    assert result["shape"] == [2, 768]
    assert [len(v) for v in result["data"]] == [768, 768]
    assert all(abs(norm(v) - 1) < 1e-9 for v in result["data"])
    single = await post(api, f"workers-ai/{BGE}", {"text": "two words"})
    assert single.json()["result"]["shape"] == [1, 768]
    assert single.json()["result"]["data"][0] == result["data"][1]  # deterministic


@pytest.mark.parametrize(
    ("model", "dimension"),
    [
        ("@cf/baai/bge-small-en-v1.5", 384),
        ("@cf/baai/bge-large-en-v1.5", 1024),
        ("@cf/baai/bge-m3", 1024),
    ],
)
async def test_dimension_per_model(api: Api, model: str, dimension: int) -> None:
    response = await post(api, f"workers-ai/{model}", {"text": ["x"]})
    assert response.json()["result"]["shape"] == [1, dimension]


async def test_chat_models_still_chat(api: Api) -> None:
    response = await api.run(prompt="hello")
    assert "response" in response.json()["result"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": ["x"] * 101}, "text"),
        ({"text": []}, "text"),
        ({"text": ["ok", 3]}, "text[1]"),
        ({"text": ["ok", ""]}, "text[1]"),
        ({"text": ""}, "text"),
        ({"prompt": "no text"}, "text"),
    ],
)
async def test_native_bad_input(api: Api, body: Any, field: str) -> None:
    response = await post(api, f"workers-ai/{BGE}", body)
    assert response.status_code == 400
    assert field in response.text


async def test_openai_shape_on_compat_and_provider_routes(api: Api) -> None:
    compat = await post(
        api, "compat/embeddings", {"model": "openai/text-embedding-3-small", "input": ["hi there"]}
    )
    assert compat.status_code == 200, compat.text
    body = compat.json()
    assert body["object"] == "list"
    assert body["model"] == "openai/text-embedding-3-small"
    assert body["data"][0]["object"] == "embedding"
    assert body["data"][0]["index"] == 0
    assert len(body["data"][0]["embedding"]) == 1536
    assert body["usage"] == {"prompt_tokens": 2, "total_tokens": 2}
    direct = await post(
        api, "openai/embeddings", {"model": "text-embedding-3-small", "input": "hi there"}
    )
    assert direct.json()["data"][0]["embedding"] == body["data"][0]["embedding"]
    shorter = await post(
        api,
        "openai/v1/embeddings",
        {"model": "text-embedding-3-small", "input": "hi there", "dimensions": 8},
    )
    assert len(shorter.json()["data"][0]["embedding"]) == 8


async def test_openai_input_limit(api: Api) -> None:
    response = await post(
        api, "compat/embeddings", {"model": "openai/text-embedding-3-small", "input": ["x"] * 2049}
    )
    assert response.status_code == 400
    assert "2048" in response.text


@pytest.mark.parametrize("dimensions", [0, 3073, 10**9, 2**64])
async def test_dimensions_out_of_range_are_400(api: Api, dimensions: int) -> None:
    body = {"model": "openai/text-embedding-3-large", "input": ["x"] * 8, "dimensions": dimensions}
    response = await post(api, "compat/embeddings", body)
    assert response.status_code == 400
    assert "dimensions" in response.text


async def test_the_largest_dimensions_are_served(api: Api) -> None:
    body = {"model": "openai/text-embedding-3-large", "input": "x", "dimensions": 3072}
    response = await post(api, "compat/embeddings", body)
    assert response.status_code == 200, response.text
    assert len(response.json()["data"][0]["embedding"]) == 3072


async def test_cached_and_logged(api: Api) -> None:
    await api.create("cached", cache_ttl=300)
    body = {"text": ["cache me", "and me"]}
    first = await post(api, f"workers-ai/{BGE}", body, "cached")
    second = await post(api, f"workers-ai/{BGE}", body, "cached")
    assert first.headers["cf-aig-cache-status"] == "MISS"
    assert second.headers["cf-aig-cache-status"] == "HIT"
    assert second.content == first.content
    logs = await api.logs("cached")
    assert [log["cached"] for log in logs] == [True, False]
    assert [log["model"] for log in logs] == [BGE, BGE]
    assert [log["tokens_in"] for log in logs] == [4, 4]


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[LocalGateway]:
    """A second gateway acting as an OpenAI-compatible server (no token: accepts any key)."""
    with LocalGateway(LocalGatewayConfig(db_path=tmp_path / "upstream.db")) as gateway:
        yield gateway


@pytest.fixture
def front(
    config: LocalGatewayConfig, upstream: LocalGateway, http: httpx.AsyncClient
) -> Iterator[Api]:
    base = f"{upstream.data_url}/up/default/compat"
    routes = (
        UpstreamRoute("@cf/baai/bge-forwarded", kind="openai", base_url=base, model=UP_MODEL),
        UpstreamRoute("@cf/baai/bge-flaky", kind="fault", status=503, fail_times=2),
    )
    with LocalGateway(attrs.evolve(config, upstreams=routes)) as gateway:
        yield Api(gateway, http)


UP_MODEL = "openai/text-embedding-3-small"


async def test_forwarded_to_an_openai_compatible_server(
    front: Api, upstream: LocalGateway, http: httpx.AsyncClient
) -> None:
    response = await post(front, "workers-ai/@cf/baai/bge-forwarded", {"text": ["a", "b c"]})
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert result["shape"] == [2, 1536]
    expected = [embedding_vector("text-embedding-3-small", t, 1536) for t in ("a", "b c")]
    assert result["data"] == [list(v) for v in expected]  # the upstream's vectors, unchanged
    upstream_logs = await Api(upstream, http, account="up").logs()
    assert [log["path"] for log in upstream_logs] == ["compat/embeddings"]
    assert [log["tokens_in"] for log in await front.logs()] == [3]


async def test_retried_like_chat(front: Api) -> None:
    path = "workers-ai/@cf/baai/bge-flaky"
    once = await post(front, path, {"text": ["x"]})
    assert once.status_code == 503
    retried = await front.http.post(
        front.data("default", path),
        json={"text": ["x"]},
        headers={**AUTH, **GW_AUTH, "cf-aig-max-attempts": "3"},
    )
    assert retried.status_code == 200, retried.text
