"""The model catalog from the SDK: `binding.models()` and `ModelCatalog` against the local
gateway (on asyncio and trio), typed `ModelInfo` values, and a mistyped model id failing as
`AiError(UnknownModel)` on a model call."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from aigateway_sdk import NO_RETRY, AiError, GatewayBinding, InvalidRequest, MalformedOutput
from aigateway_sdk.catalog import ModelCatalog, ModelInfo, ModelPrice, ModelTask
from aigateway_sdk.errors import UnknownModel
from aigateway_sdk.local import LocalGateway, LocalGatewayConfig
from aigateway_sdk.validation import ValidationError

pytestmark = pytest.mark.anyio

ACCOUNT = "acct-catalog"
TOKEN = "catalog-token"
TYPO = "@cf/meta/llama-3.1-8b-instrukt"
BOTH = pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
EMBEDDERS = [
    "@cf/baai/bge-base-en-v1.5",
    "@cf/baai/bge-small-en-v1.5",
    "@cf/baai/bge-large-en-v1.5",
    "@cf/baai/bge-m3",
]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalGateway]:
    db = Path(tmp_path_factory.mktemp("catalog")) / "gw.db"
    with LocalGateway(LocalGatewayConfig(db_path=db, api_token=TOKEN)) as gw:
        yield gw


def binding(gw: LocalGateway, **kwargs: object) -> GatewayBinding:
    return GatewayBinding(
        ACCOUNT,
        api_token=TOKEN,
        gateway_token=TOKEN,
        base_url=gw.data_url,
        api_base_url=gw.api_url,
        retry=NO_RETRY,
        **kwargs,  # type: ignore[arg-type]
    )


@BOTH
async def test_binding_models_searches_the_catalog(gateway: LocalGateway) -> None:
    async with binding(gateway) as gw:
        embedders = [m.name async for m in gw.models(task="Text Embeddings")]
        assert embedders == EMBEDDERS
        paged = [m.name async for m in gw.models(author="baai", per_page=3)]
        assert paged == EMBEDDERS  # two pages, fetched as the loop goes
        fast = [m async for m in gw.models("fp8-fast")]
    assert len(fast) == 1
    model = fast[0]
    assert model.name == "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
    assert model.id == "7a143886-c9bb-4a1c-be95-377b1973bc3b"
    assert model.author == "meta"
    assert model.task == ModelTask(
        "c329a1f9-323d-4e91-b2aa-582dd4188d34", "Text Generation", model.task.description
    )
    assert model.created_at == datetime(2024, 12, 6, 17, 9, 18, 338000, tzinfo=UTC)
    assert model.context_window == 24000
    assert model.function_calling is True
    assert model.prices == (
        ModelPrice("per M input tokens", 0.293, "USD"),
        ModelPrice("per M output tokens", 2.253, "USD"),
    )
    assert model.property_value("terms") is not None
    assert model.property_value("no such property") is None


async def test_models_is_pure_until_iterated() -> None:
    gw = GatewayBinding(ACCOUNT, api_token=TOKEN, api_base_url="http://127.0.0.1:9/client/v4")
    found = gw.models(search="llama")  # no I/O: nothing listens on port 9
    assert gw._client is None
    with pytest.raises(AiError):
        await anext(found)
    await gw.aclose()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"per_page": 0}, "per_page"),
        ({"per_page": 1001}, "per_page"),
        ({"per_page": True}, "per_page"),
        ({"search": "x" * 300}, "search"),
        ({"task": "a\nb"}, "task"),
        ({"author": 3}, "author"),
        ({"hide_experimental": "yes"}, "hide_experimental"),
        ({"source": 1.5}, "source"),
    ],
)
def test_bad_filters_are_refused_before_any_request(kwargs: dict[str, object], field: str) -> None:
    gw = GatewayBinding(ACCOUNT, api_token=TOKEN)
    with pytest.raises(ValidationError) as raised:
        gw.models(**kwargs)  # type: ignore[arg-type]
    assert raised.value.fields == (field,) or field in raised.value.fields


def test_models_needs_the_api_token() -> None:
    with pytest.raises(ValidationError) as raised:
        GatewayBinding(ACCOUNT).models()
    assert "api_token" in raised.value.fields


async def test_a_closed_binding_refuses_the_search(gateway: LocalGateway) -> None:
    gw = binding(gateway)
    await gw.aclose()
    with pytest.raises(RuntimeError):
        await anext(gw.models())


async def test_a_wrong_token_is_authentication_failed(gateway: LocalGateway) -> None:
    gw = GatewayBinding(ACCOUNT, api_token="wrong", api_base_url=gateway.api_url, retry=NO_RETRY)
    async with gw:
        with pytest.raises(AiError) as raised:
            await anext(gw.models())
    assert raised.value.status == 401


@BOTH
async def test_model_catalog_get(gateway: LocalGateway) -> None:
    async with ModelCatalog(ACCOUNT, TOKEN, gateway.api_url, retry=NO_RETRY) as catalog:
        model = await catalog.get("@cf/baai/bge-small-en-v1.5")
        assert model.property_value("output_dimensions") == "384"
        with pytest.raises(AiError) as raised:
            await catalog.get(TYPO)
    reason = raised.value.reason
    assert isinstance(reason, UnknownModel)
    assert reason.model == TYPO
    assert "***" in repr(catalog)
    assert TOKEN not in repr(catalog)


def test_model_catalog_refuses_bad_credentials() -> None:
    with pytest.raises(ValidationError) as raised:
        ModelCatalog("", "a\nb")
    assert set(raised.value.fields) == {"account_id", "api_token"}


@BOTH
async def test_a_mistyped_model_id_is_unknown_model(gateway: LocalGateway) -> None:
    async with binding(gateway) as gw:
        with pytest.raises(AiError) as raised:
            await gw.model(TYPO).generate_text(prompt="hi")
        with pytest.raises(AiError) as embedded:
            await gw.embedding_model("@cf/baai/bge-bse-en-v1.5").embed("hi")
    reason = raised.value.reason
    assert isinstance(reason, UnknownModel)
    assert isinstance(reason, InvalidRequest)  # code matching InvalidRequest still catches it
    assert (reason.status, reason.code, reason.model) == (400, 5007, TYPO)
    assert reason.log_id is not None
    assert not raised.value.is_retryable
    assert isinstance(embedded.value.reason, UnknownModel)


def test_model_info_round_trips_cloudflares_shape() -> None:
    body = {
        "id": "u",
        "source": 1,
        "name": "@cf/x/y",
        "description": "d",
        "task": {"id": "t", "name": "Text Generation", "description": "td"},
        "created_at": "2025-08-05 10:49:53.265",
        "tags": ["a"],
        "properties": [
            {"property_id": "context_window", "value": "128000"},
            {"property_id": "price", "value": [{"unit": "u", "price": 1, "currency": "USD"}]},
            {"property_id": "odd", "value": {"nested": True}},
        ],
        "unknown_field": "ignored",
    }
    model = ModelInfo.from_json(body)
    assert model.context_window == 128000
    assert model.prices == (ModelPrice("u", 1.0, "USD"),)
    assert model.property_value("odd") == '{"nested":true}'
    again = ModelInfo.from_json(model.to_json())
    assert again == model


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"name": "@cf/x/y"},
        {"id": "u", "name": 3},
        {"id": "u", "name": "n", "task": "Text Generation"},
        {"id": "u", "name": "n", "tags": "a"},
        {"id": "u", "name": "n", "properties": [{"value": "x"}]},
        {"id": "u", "name": "n", "created_at": "yesterday"},
        {"id": "u", "name": "n", "source": "one"},
    ],
)
def test_a_malformed_model_object_is_malformed_output(body: object) -> None:
    with pytest.raises(AiError) as raised:
        ModelInfo.from_json(body)
    assert isinstance(raised.value.reason, MalformedOutput)


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (httpx.Response(200, json={"success": True, "result": {}}), MalformedOutput),
        (httpx.Response(200, json=[1]), MalformedOutput),
        (
            httpx.Response(200, json={"success": False, "errors": [{"code": 1, "message": "x"}]}),
            AiError,
        ),
        (httpx.Response(200, json={"success": True, "result": [{"id": 1}]}), MalformedOutput),
    ],
)
async def test_malformed_search_replies(reply: httpx.Response, kind: type) -> None:
    client = httpx.AsyncClient(transport=httpx.MockTransport(lambda _request: reply))
    async with client, ModelCatalog(ACCOUNT, TOKEN, client=client, retry=NO_RETRY) as catalog:
        with pytest.raises(AiError) as raised:
            await anext(catalog.search())
    if kind is MalformedOutput:
        assert isinstance(raised.value.reason, MalformedOutput)


async def test_search_sends_the_filters_and_stops_at_total_count() -> None:
    seen: list[httpx.URL] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        item = {"id": "u", "name": "@cf/a/b"}
        info = {"page": 1, "per_page": 1, "count": 1, "total_count": 2}
        return httpx.Response(200, json={"success": True, "result": [item], "result_info": info})

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    async with client, ModelCatalog("a/b", TOKEN, "https://x.test/v4/", client=client) as catalog:
        found = catalog.search("q", task="T", hide_experimental=False, source=1, per_page=1)
        assert len([m async for m in found]) == 2
    paths = [url.raw_path.split(b"?")[0] for url in seen]
    assert paths == [b"/v4/accounts/a%2Fb/ai/models/search"] * 2
    assert dict(seen[1].params) == {
        "search": "q",
        "task": "T",
        "source": "1",
        "hide_experimental": "false",
        "page": "2",
        "per_page": "1",
    }
