"""The model catalog on the local gateway: the model search on the control plane (plain HTTP
and Cloudflare's own client with strict validation), and Workers AI's "No such model" for an
unknown `@cf/...` id on every data-plane route, unless a route names it or the gateway is
started with `allow_unknown_models`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import attrs
import httpx
import pytest

from aigateway_sdk.local import LocalGateway, LocalGatewayConfig, UpstreamRoute
from aigateway_sdk.local.upstreams.catalog import BUILTIN_MODELS
from tests.local.helpers import AUTH, GW_AUTH, MODEL, TOKEN, Api

pytestmark = pytest.mark.anyio

TYPO = "@cf/meta/llama-3.1-8b-instrukt"
EMBED_TYPO = "@cf/baai/bge-bse-en-v1.5"
NAMES = [model.name for model in BUILTIN_MODELS]
EMBEDDERS = [m.name for m in BUILTIN_MODELS if m.task.name == "Text Embeddings"]
CHAT_MODELS = [m.name for m in BUILTIN_MODELS if m.task.name == "Text Generation"]


def search_url(api: Api, account: str | None = None) -> str:
    return f"{api.gw.api_url}/accounts/{account or api.account}/ai/models/search"


async def search(api: Api, **params: Any) -> httpx.Response:
    return await api.http.get(search_url(api), params=params, headers=AUTH)


async def names(api: Api, **params: Any) -> list[str]:
    response = await search(api, **params)
    assert response.status_code == 200, response.text
    return [model["name"] for model in response.json()["result"]]


def assert_no_such_model(response: httpx.Response, model: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["success"] is False
    assert body["errors"] == [{"code": 5007, "message": f"No such model {model} or task"}]


# -- the model search ------------------------------------------------------------------------


async def test_search_lists_the_builtin_catalog_in_cloudflares_shape(api: Api) -> None:
    response = await search(api)
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert [m["name"] for m in body["result"]] == NAMES
    assert body["result_info"] == {"page": 1, "per_page": 50, "count": 8, "total_count": 8}
    fast = next(
        m for m in body["result"] if m["name"] == "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
    )
    assert fast["id"] == "7a143886-c9bb-4a1c-be95-377b1973bc3b"
    assert fast["source"] == 1
    assert fast["task"]["name"] == "Text Generation"
    assert fast["created_at"] == "2024-12-06 17:09:18.338"
    assert fast["tags"] == []
    properties = {p["property_id"]: p["value"] for p in fast["properties"]}
    assert properties["context_window"] == "24000"
    assert properties["price"][0] == {
        "unit": "per M input tokens",
        "price": 0.293,
        "currency": "USD",
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"search": "LLAMA"}, [n for n in NAMES if "llama" in n]),
        ({"search": "768-dimensional"}, ["@cf/baai/bge-base-en-v1.5"]),
        ({"task": "Text Embeddings"}, EMBEDDERS),
        ({"task": "text generation"}, CHAT_MODELS),
        ({"task": "0137cdcf-162a-4108-94f2-1ca59e8c65ee"}, EMBEDDERS),
        ({"author": "meta"}, [n for n in NAMES if n.startswith("@cf/meta/")]),
        ({"author": "meta", "search": "fp8"}, ["@cf/meta/llama-3.3-70b-instruct-fp8-fast"]),
        ({"author": "nobody"}, []),
        ({"source": "1"}, NAMES),
        ({"source": "2.0"}, []),
        ({"hide_experimental": "true", "include_deprecated": "false"}, NAMES),
        ({"search": "no model is called this"}, []),
    ],
)
async def test_search_filters(api: Api, params: dict[str, str], expected: list[str]) -> None:
    assert await names(api, **params) == expected


async def test_search_pages(api: Api) -> None:
    pages = [await names(api, page=page, per_page=3) for page in (1, 2, 3, 4)]
    assert pages == [NAMES[:3], NAMES[3:6], NAMES[6:], []]
    info = (await search(api, page=3, per_page=3)).json()["result_info"]
    assert info == {"page": 3, "per_page": 3, "count": 2, "total_count": 8}


async def test_every_account_sees_the_same_catalog(api: Api) -> None:
    other = await api.http.get(search_url(api, "some-other-account"), headers=AUTH)
    assert [m["name"] for m in other.json()["result"]] == NAMES


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": "0"}, "page"),
        ({"page": "abc"}, "page"),
        ({"page": str(2**70)}, "page"),
        ({"per_page": "0"}, "per_page"),
        ({"per_page": "1001"}, "per_page"),
        ({"source": "one"}, "source"),
        ({"source": "nan"}, "source"),
        ({"source": "1.5"}, "source"),
        ({"source": "1e300"}, "source"),
        ({"hide_experimental": "maybe"}, "hide_experimental"),
        ({"include_deprecated": "2"}, "include_deprecated"),
        ({"format": "openrouter"}, "format"),
        ({"format": "xml"}, "format"),
        ({"search": "x" * 257}, "search"),
        ({"task": "t" * 10_000}, "task"),
    ],
)
async def test_bad_search_parameters_are_a_400_naming_them(
    api: Api, params: dict[str, str], field: str
) -> None:
    response = await search(api, **params)
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False
    assert body["errors"][0]["path"] == [field]


@pytest.mark.parametrize(
    "headers",
    [{}, {"authorization": "Bearer wrong"}, {"x-auth-key": "wrong", "x-auth-email": "a@b.c"}],
)
async def test_search_needs_the_api_token(api: Api, headers: dict[str, str]) -> None:
    response = await api.http.get(search_url(api), headers=headers)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == 10000


async def test_search_is_read_only(api: Api) -> None:
    response = await api.http.post(search_url(api), json={}, headers=AUTH)
    assert response.status_code == 405


# -- Cloudflare's own client ----------------------------------------------------------------


@pytest.fixture
def cloudflare_client(gw: LocalGateway, monkeypatch: pytest.MonkeyPatch) -> Any:
    cloudflare = pytest.importorskip("cloudflare")
    for name in ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_API_KEY", "CLOUDFLARE_EMAIL"):
        monkeypatch.delenv(name, raising=False)
    return cloudflare.AsyncCloudflare(
        api_token=TOKEN, base_url=gw.api_url, max_retries=0, _strict_response_validation=True
    )


async def test_cloudflare_client_searches_the_catalog(cloudflare_client: Any, account: str) -> None:
    async with cloudflare_client as cf:
        page = await cf.ai.models.list(account_id=account, task="Text Embeddings")
        assert [m["name"] for m in page.result] == EMBEDDERS
        assert page.result_info.page == 1
        every = [m["name"] async for m in cf.ai.models.list(account_id=account, per_page=3)]
        assert every == NAMES  # the client pages until an empty page
        found = await cf.ai.models.list(account_id=account, search="gpt-oss", author="openai")
        assert [m["name"] for m in found.result] == ["@cf/openai/gpt-oss-20b"]


async def test_cloudflare_client_gets_a_typed_error_for_a_bad_parameter(
    cloudflare_client: Any, account: str
) -> None:
    cloudflare = pytest.importorskip("cloudflare")
    async with cloudflare_client as cf:
        with pytest.raises(cloudflare.BadRequestError):
            await cf.ai.models.list(account_id=account, per_page=5000)


# -- unknown model ids on the data plane ------------------------------------------------------


def chat_body(model: str, **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "hi"}], **extra}


async def post(api: Api, path: str, body: object) -> httpx.Response:
    return await api.http.post(api.data("default", path), json=body, headers={**AUTH, **GW_AUTH})


async def test_unknown_id_on_the_native_route(api: Api) -> None:
    assert_no_such_model(await api.run(model=TYPO), TYPO)
    assert_no_such_model(await api.run(model=TYPO, stream=True), TYPO)
    assert (await api.run(model=MODEL)).status_code == 200


async def test_unknown_id_on_workers_ai_openai_route(api: Api) -> None:
    response = await post(api, "workers-ai/v1/chat/completions", chat_body(TYPO))
    assert_no_such_model(response, TYPO)


async def test_unknown_id_on_compat(api: Api) -> None:
    response = await post(api, "compat/chat/completions", chat_body(f"workers-ai/{TYPO}"))
    assert_no_such_model(response, TYPO)
    streamed = chat_body(f"workers-ai/{TYPO}", stream=True)
    assert_no_such_model(await post(api, "compat/chat/completions", streamed), TYPO)


async def test_unknown_embedding_ids(api: Api) -> None:
    native = await post(api, f"workers-ai/{EMBED_TYPO}", {"text": ["a"]})
    assert_no_such_model(native, EMBED_TYPO)
    body = {"model": f"workers-ai/{EMBED_TYPO}", "input": "a"}
    assert_no_such_model(await post(api, "compat/embeddings", body), EMBED_TYPO)


async def test_unknown_id_in_a_universal_step_falls_back(api: Api) -> None:
    def step(model: str) -> dict[str, Any]:
        return {
            "provider": "workers-ai",
            "endpoint": model,
            "headers": AUTH,
            "query": {"prompt": "x"},
        }

    only = await api.http.post(api.data("default"), json=[step(TYPO)], headers=GW_AUTH)
    assert_no_such_model(only, TYPO)
    both = await api.http.post(api.data("default"), json=[step(TYPO), step(MODEL)], headers=GW_AUTH)
    assert both.status_code == 200
    assert both.headers["cf-aig-step"] == "1"


async def test_the_refusal_is_logged(api: Api) -> None:
    response = await api.run(model=TYPO)
    logs = await api.logs()
    assert [(log["id"], log["model"], log["success"], log["status_code"]) for log in logs] == [
        (response.headers["cf-aig-log-id"], TYPO, False, 400)
    ]


async def test_provider_auth_is_checked_before_the_model(api: Api) -> None:
    response = await api.http.post(
        api.data("default", f"workers-ai/{TYPO}"), json={"prompt": "x"}, headers=GW_AUTH
    )
    assert response.status_code == 401


@pytest.mark.parametrize("model", CHAT_MODELS)
async def test_every_catalog_chat_model_answers(api: Api, model: str) -> None:
    response = await post(api, "compat/chat/completions", chat_body(f"workers-ai/{model}"))
    assert response.status_code == 200, response.text
    assert response.json()["model"] == f"workers-ai/{model}"


@pytest.mark.parametrize("model", EMBEDDERS)
async def test_every_catalog_embedding_model_answers(api: Api, model: str) -> None:
    response = await post(api, f"workers-ai/{model}", {"text": ["a", "b"]})
    assert response.status_code == 200, response.text
    assert response.json()["result"]["shape"][0] == 2


async def test_other_providers_and_namespaces_are_not_checked(api: Api) -> None:
    for model in ("openai/gpt-4o-mini", "workers-ai/@hf/some/model"):
        response = await post(api, "compat/chat/completions", chat_body(model))
        assert response.status_code == 200, (model, response.text)


# -- routes and the permissive flag -----------------------------------------------------------


@pytest.fixture
def routed(config: LocalGatewayConfig) -> Iterator[LocalGateway]:
    routes = (
        UpstreamRoute("@cf/mine/*", kind="builtin"),
        UpstreamRoute("workers-ai/@cf/down/*", kind="fault", status=503),
    )
    with LocalGateway(attrs.evolve(config, upstreams=routes)) as gateway:
        yield gateway


@pytest.fixture
def permissive(config: LocalGatewayConfig) -> Iterator[LocalGateway]:
    with LocalGateway(attrs.evolve(config, allow_unknown_models=True)) as gateway:
        yield gateway


async def test_ids_a_route_names_are_the_users(
    routed: LocalGateway, http: httpx.AsyncClient, account: str
) -> None:
    api = Api(routed, http, account)
    assert (await api.run(model="@cf/mine/model")).status_code == 200
    assert (await api.run(model="@cf/down/model")).status_code == 503
    assert_no_such_model(await api.run(model=TYPO), TYPO)


async def test_the_permissive_flag_answers_any_id(
    permissive: LocalGateway, http: httpx.AsyncClient, account: str
) -> None:
    api = Api(permissive, http, account)
    assert (await api.run(model=TYPO)).status_code == 200
    chat = await post(api, "compat/chat/completions", chat_body(f"workers-ai/{TYPO}"))
    assert chat.status_code == 200
    embedded = await post(api, "workers-ai/@cf/some/embedder", {"text": ["x"]})
    assert embedded.json()["result"]["shape"] == [1, 768]  # the default dimension
    # the search still lists the built-in catalog only
    listed = await http.get(search_url(api), headers=AUTH)
    assert [m["name"] for m in listed.json()["result"]] == NAMES


def test_the_flag_defaults_to_strict() -> None:
    assert LocalGatewayConfig().allow_unknown_models is False


async def test_malformed_bodies_stay_a_400_before_the_model_check(api: Api) -> None:
    response = await api.http.post(
        api.data("default", f"workers-ai/{TYPO}"), content=b"[", headers={**AUTH, **GW_AUTH}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] != 5007
    assert json.loads(response.content)["success"] is False
