"""Bad input gets a Cloudflare-shaped 4xx, and the server keeps serving."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import httpx
import pytest

from aigateway_sdk.local import LocalGateway, LocalGatewayConfig
from tests.local.helpers import AUTH, GW_AUTH, MODEL, Api, async_client

pytestmark = pytest.mark.anyio


def assert_envelope(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    body: dict[str, object] = response.json()
    assert body["success"] is False
    errors = body["errors"]
    assert isinstance(errors, list)
    assert errors
    assert isinstance(errors[0]["code"], int)
    assert errors[0]["message"]
    return body


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b"{broken", None),
        (b"", None),
        (b"[1, 2]", "body"),
        (b'{"max_tokens": 3}', "prompt"),
        (b'{"prompt": 42}', "prompt"),
        (b'{"prompt": "x", "max_tokens": "many"}', "max_tokens"),
        (b'{"prompt": "x", "max_tokens": -1}', "max_tokens"),
        (b'{"prompt": "x", "temperature": 9}', "temperature"),
        (b'{"prompt": "x", "stream": "yes"}', "stream"),
        (b'{"messages": "hi"}', "messages"),
        (b'{"messages": [{"content": "no role"}]}', "messages[0].role"),
    ],
)
async def test_bad_workers_ai_bodies(
    api: Api, http: httpx.AsyncClient, content: bytes, field: str | None
) -> None:
    url = api.data("default", f"workers-ai/{MODEL}")
    response = await http.post(url, content=content, headers={**AUTH, **GW_AUTH})
    body = assert_envelope(response, 400)
    if field is not None:
        assert body["errors"][0]["path"] == [field]  # type: ignore[index]
    assert (await api.run()).status_code == 200


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("cf-aig-metadata", "not json"),
        ("cf-aig-metadata", "[1]"),
        ("cf-aig-metadata", '{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6}'),
        ("cf-aig-metadata", '{"nested": {"x": 1}}'),
        ("cf-aig-cache-ttl", "soon"),
        ("cf-aig-skip-cache", "maybe"),
        ("cf-aig-collect-log", "perhaps"),
        ("cf-aig-request-timeout", "-5"),
        ("cf-aig-max-attempts", "9"),
        ("cf-aig-retry-delay", "x"),
        ("cf-aig-backoff", "random"),
        ("cf-aig-custom-cost", '{"per_token_in": "cheap"}'),
    ],
)
async def test_bad_headers_are_400_naming_the_header(api: Api, header: str, value: str) -> None:
    response = await api.run(headers={header: value})
    body = assert_envelope(response, 400)
    assert body["errors"][0]["path"] == [header]  # type: ignore[index]
    assert (await api.run()).status_code == 200


async def test_five_metadata_entries_are_fine(api: Api) -> None:
    metadata = '{"a":1,"b":"2","c":true,"d":4.5,"e":"x"}'
    assert (await api.run(headers={"cf-aig-metadata": metadata})).status_code == 200


async def test_oversize_body_is_413(tmp_path: Path, config: LocalGatewayConfig) -> None:
    small = attrs.evolve(config, max_body_bytes=1024, db_path=tmp_path / "small.db")
    with LocalGateway(small) as gw:
        async with async_client() as http:
            api = Api(gw, http)
            response = await api.run(prompt="x" * 2000)
            assert_envelope(response, 413)

            async def parts() -> AsyncIterator[bytes]:  # no content-length: chunked
                for part in (b'{"prompt": "', b"y" * 2000, b'"}'):
                    yield part

            chunked = await http.post(
                api.data("default", f"workers-ai/{MODEL}"),
                content=parts(),
                headers={**AUTH, **GW_AUTH},
            )
            assert_envelope(chunked, 413)
            created = await http.post(
                api.control(), content=b"{" + b" " * 2000 + b"}", headers=AUTH
            )
            assert_envelope(created, 413)
        async with async_client() as http:
            assert (await Api(gw, http).run()).status_code == 200


async def test_log_bodies_are_capped(tmp_path: Path, config: LocalGatewayConfig) -> None:
    capped = attrs.evolve(config, log_body_cap=100, db_path=tmp_path / "cap.db")
    with LocalGateway(capped) as gw:
        async with async_client() as http:
            api = Api(gw, http)
            response = await api.run(prompt="z" * 500)
            log_id = response.headers["cf-aig-log-id"]
            detail = await http.get(api.control(f"/default/logs/{log_id}"), headers=AUTH)
            log = detail.json()["result"]
            assert log["request_head_complete"] is False
            assert log["request_size"] > 500
            stored = await http.get(api.control(f"/default/logs/{log_id}/request"), headers=AUTH)
            assert len(stored.content) == 100
            assert stored.headers["cf-aig-body-truncated"] == "true"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/nothing/here", 404),
        ("GET", "/client/v4/accounts/a/ai-gateway/unknown", 404),
        ("GET", "/v1/a/default/workers-ai/@cf/x", 405),
        ("PATCH", "/client/v4/accounts/a/ai-gateway/gateways", 405),
        ("POST", "/v1/a/default/unknown-provider/images/generations", 404),
    ],
)
async def test_unknown_routes_and_methods(
    api: Api, http: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    response = await http.request(method, api.gw.url + path, headers=AUTH)
    assert_envelope(response, status)
    assert (await api.run()).status_code == 200


async def test_control_plane_wrong_types(api: Api, http: httpx.AsyncClient) -> None:
    assert_envelope(await http.post(api.control(), content=b"{oops", headers=AUTH), 400)
    assert_envelope(await http.post(api.control(), json=["id"], headers=AUTH), 400)
    assert_envelope(await http.get(api.control(), params={"page": "first"}, headers=AUTH), 400)
    assert_envelope(await http.get(api.control(), params={"per_page": "0"}, headers=AUTH), 400)
    await api.create("g")
    assert_envelope(await http.put(api.control("/g"), json=[], headers=AUTH), 400)
    assert_envelope(await http.put(api.control("/g"), json={"cache_ttl": True}, headers=AUTH), 400)


async def test_universal_body_must_be_steps(api: Api, http: httpx.AsyncClient) -> None:
    for content in (b"{broken", b"[]", b"42"):
        response = await http.post(
            api.data("default"), content=content, headers={**AUTH, **GW_AUTH}
        )
        assert_envelope(response, 400)
