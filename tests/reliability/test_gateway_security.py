"""The local gateway lets no one in who does not belong and never leaks: tokens on both planes,
no reply served or cached across gateway tokens, accounts invisible to each other, secrets
never stored or echoed, and no listening beyond loopback without a token. Bad input of every
kind gets a Cloudflare-shaped 4xx, never a crash."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from aigateway_sdk.local import LocalGateway, LocalGatewayConfig

from .gateway import AUTH, MODEL, TOKEN, Planes, client, cloudflare_error

pytestmark = pytest.mark.anyio
GATEWAY_TOKEN = "gateway-token-of-another-kind"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("security") / "gw.db"


@pytest.fixture(scope="module")
def gw(db: Path) -> Iterator[LocalGateway]:
    with LocalGateway(LocalGatewayConfig(db_path=db, api_token=TOKEN)) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def open_gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalGateway]:
    """No API token: any bearer token is accepted (loopback only)."""
    db = tmp_path_factory.mktemp("security-open") / "gw.db"
    with LocalGateway(LocalGatewayConfig(db_path=db, api_token=None)) as gateway:
        yield gateway


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with client(connections=20) as session:
        yield session


@pytest.fixture
def planes(gw: LocalGateway, http: httpx.AsyncClient) -> Planes:
    return Planes(gw.url, http, f"acct-{uuid.uuid4().hex[:10]}")


BAD_AUTH: list[dict[str, str]] = [
    {},
    {"authorization": ""},
    {"authorization": "Bearer"},
    {"authorization": f"Basic {TOKEN}"},
    {"authorization": TOKEN},
    {"authorization": f"Bearer {TOKEN}x"},
    {"authorization": f"Bearer {TOKEN[:-1]}"},
    {"authorization": f"Bearer {TOKEN.upper()}"},
    {"authorization": "Bearer wrong"},
    {"x-auth-key": TOKEN},
]


# -- authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize("headers", BAD_AUTH)
async def test_control_plane_refuses_missing_or_wrong_tokens(
    planes: Planes, http: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    await planes.create("guarded")
    requests = [
        ("GET", planes.control(), None),
        ("POST", planes.control(), {"id": "intruder", "cache_ttl": 0}),
        ("GET", planes.control("/guarded"), None),
        ("PUT", planes.control("/guarded"), {"cache_ttl": 5}),
        ("DELETE", planes.control("/guarded"), None),
        ("GET", planes.control("/guarded/url/openai"), None),
        ("GET", planes.control("/guarded/logs"), None),
        ("DELETE", planes.control("/guarded/logs"), None),
        ("GET", planes.control("/guarded/logs/01J0000000000000000000000"), None),
        ("PATCH", planes.control("/guarded/logs/01J0000000000000000000000"), {"feedback": 1}),
    ]
    for method, url, body in requests:
        response = await http.request(method, url, json=body, headers=headers)
        assert response.status_code == 401, (method, url, response.text)
        assert cloudflare_error(response)[0]["code"] == 10000
        assert TOKEN not in response.text
    # Nothing changed behind the refusals.
    listed = (await http.get(planes.control(), headers=AUTH)).json()["result"]
    assert [g["id"] for g in listed] == ["guarded"]
    assert listed[0]["cache_ttl"] == 0


@pytest.mark.parametrize("headers", BAD_AUTH[:10])
async def test_authenticated_gateway_refuses_missing_or_wrong_gateway_tokens(
    planes: Planes, http: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    await planes.create(
        "locked", authentication=True, rate_limiting_limit=2, rate_limiting_interval=600
    )
    gateway_headers = {f"cf-aig-{k}" if k == "authorization" else k: v for k, v in headers.items()}
    for _ in range(5):
        response = await http.post(
            planes.data("locked"), json={"prompt": "hi"}, headers={**AUTH, **gateway_headers}
        )
        assert response.status_code == 401, response.text
        assert cloudflare_error(response)[0]["code"] == 2009
        assert "cf-aig-log-id" not in response.headers
    # Refused callers used none of the rate limit, and left no logs.
    for _ in range(2):
        ok = await planes.run("locked", headers={"cf-aig-authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200, ok.text
    assert await planes.log_total("locked") == 2


async def test_data_plane_refuses_a_wrong_provider_token(
    planes: Planes, http: httpx.AsyncClient
) -> None:
    await planes.create("open-gw")
    for headers in ({}, {"authorization": "Bearer nope"}, {"authorization": f"Bearer {TOKEN}x"}):
        response = await http.post(planes.data("open-gw"), json={"prompt": "hi"}, headers=headers)
        assert response.status_code == 401, response.text
        assert cloudflare_error(response)
        assert TOKEN not in response.text
        assert "nope" not in response.text


async def test_authenticated_gateway_never_serves_or_caches_across_tokens(
    open_gw: LocalGateway, http: httpx.AsyncClient
) -> None:
    planes = Planes(open_gw.url, http, "acct")
    await planes.create("shared-cache", authentication=True, cache_ttl=300)

    async def run(token: str, extra: dict[str, str] | None = None) -> httpx.Response:
        headers = {"cf-aig-authorization": f"Bearer {token}", **(extra or {})}
        response = await planes.run("shared-cache", prompt="the same prompt", headers=headers)
        assert response.status_code == 200, response.text
        return response

    first = await run("alice")
    assert first.headers["cf-aig-cache-status"] == "MISS"
    assert (await run("alice")).headers["cf-aig-cache-status"] == "HIT"
    assert (await run("bob")).headers["cf-aig-cache-status"] == "MISS"
    assert (await run("bob")).headers["cf-aig-cache-status"] == "HIT"
    custom = {"cf-aig-cache-key": "one-key-for-all"}
    assert (await run("alice", custom)).headers["cf-aig-cache-status"] == "MISS"
    assert (await run("bob", custom)).headers["cf-aig-cache-status"] == "MISS"
    refused = await http.post(
        planes.data("shared-cache"), json={"prompt": "the same prompt"}, headers=AUTH
    )
    assert refused.status_code == 401


# -- isolation --------------------------------------------------------------------------------


async def test_one_accounts_gateways_and_logs_are_invisible_to_another(
    gw: LocalGateway, http: httpx.AsyncClient
) -> None:
    alice = Planes(gw.url, http, f"alice-{uuid.uuid4().hex[:8]}")
    mallory = Planes(gw.url, http, f"mallory-{uuid.uuid4().hex[:8]}")
    await alice.create("private")
    log_id = (await alice.run("private", prompt="alice's secret prompt")).headers["cf-aig-log-id"]

    listed = await http.get(mallory.control(), headers=AUTH)
    assert listed.status_code == 200
    assert all(g["id"] != "private" for g in listed.json()["result"])
    for method, path in [
        ("GET", "/private"),
        ("PUT", "/private"),
        ("DELETE", "/private"),
        ("GET", "/private/logs"),
        ("DELETE", "/private/logs"),
        ("GET", f"/private/logs/{log_id}"),
        ("GET", f"/private/logs/{log_id}/request"),
        ("GET", f"/private/logs/{log_id}/response"),
        ("PATCH", f"/private/logs/{log_id}"),
    ]:
        body = (
            {"cache_ttl": 1} if method == "PUT" else {"feedback": 1} if method == "PATCH" else None
        )
        response = await http.request(method, mallory.control(path), json=body, headers=AUTH)
        assert response.status_code == 404, (method, path, response.text)
        cloudflare_error(response)
        assert "secret prompt" not in response.text
    data = await http.post(mallory.data("private"), json={"prompt": "x"}, headers=AUTH)
    assert data.status_code == 404
    # Mallory's own gateway of the same name does not see Alice's logs either.
    await mallory.create("private")
    theirs = await http.get(mallory.control(f"/private/logs/{log_id}"), headers=AUTH)
    assert theirs.status_code == 404
    assert await mallory.log_total("private") == 0
    # And Alice's gateway and log are untouched.
    mine = await http.get(alice.control(f"/private/logs/{log_id}/request"), headers=AUTH)
    assert mine.status_code == 200
    assert "alice's secret prompt" in mine.text


# -- secrets ----------------------------------------------------------------------------------


async def test_tokens_are_never_stored_in_logs_or_the_database(
    gw: LocalGateway, db: Path, http: httpx.AsyncClient, planes: Planes
) -> None:
    await planes.create("auditable", authentication=True)
    headers = {"cf-aig-authorization": f"Bearer {TOKEN}", "cf-aig-metadata": '{"user": "u1"}'}
    ok = await planes.run("auditable", prompt="hello", headers=headers)
    assert ok.status_code == 200, ok.text
    bad = await http.post(
        planes.data("auditable"),
        json={"prompt": "hello"},
        headers={
            "authorization": f"Bearer {GATEWAY_TOKEN}",
            "cf-aig-authorization": f"Bearer {TOKEN}",
        },
    )
    assert bad.status_code == 401
    assert GATEWAY_TOKEN not in bad.text
    log_id = ok.headers["cf-aig-log-id"]
    for suffix in ("", "/request", "/response"):
        response = await http.get(planes.control(f"/auditable/logs/{log_id}{suffix}"), headers=AUTH)
        assert response.status_code == 200
        assert TOKEN not in response.text
    listing = await http.get(planes.control("/auditable/logs"), headers=AUTH)
    assert TOKEN not in listing.text
    assert GATEWAY_TOKEN not in listing.text
    # Nowhere in the database files either (the WAL included).
    for path in db.parent.iterdir():
        if path.name.startswith(db.name):
            content = path.read_bytes()
            assert TOKEN.encode() not in content, path.name
            assert GATEWAY_TOKEN.encode() not in content, path.name


# -- listening beyond loopback ----------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "example.com"])
def test_cli_refuses_to_listen_beyond_loopback_without_a_token(
    host: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`aigateway serve --host <not loopback>` with no token exits 2 before it opens anything
    (uvicorn is stubbed: this test never listens)."""
    import uvicorn

    from aigateway_sdk.cli import serve
    from aigateway_sdk.cli.main import main

    def must_not_serve(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"would serve on {host} with no API token")

    monkeypatch.delenv("AIGATEWAY_API_TOKEN", raising=False)
    monkeypatch.setattr(uvicorn, "run", must_not_serve)
    monkeypatch.setattr(uvicorn.Server, "run", must_not_serve)
    monkeypatch.setattr(serve, "_listen", must_not_serve)
    code = main(["serve", "--host", host, "--port", "0", "--db", str(tmp_path / "gw.db")])
    assert code == 2
    assert "token" in capsys.readouterr().err
    assert not (tmp_path / "gw.db").exists()


def test_cli_serve_entry_point_refuses_too() -> None:
    """The real command line, end to end, for one case."""
    result = subprocess.run(
        [sys.executable, "-m", "aigateway_sdk", "serve", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
        env={k: v for k, v in os.environ.items() if k != "AIGATEWAY_API_TOKEN"},
    )
    assert result.returncode == 2
    assert "token" in result.stderr


def test_in_process_gateway_refuses_to_listen_beyond_loopback_without_a_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`LocalGateway` must refuse before it binds (binding is stubbed: this test never listens
    on anything but loopback)."""

    def must_not_bind(self: LocalGateway) -> None:
        raise AssertionError(f"would listen on {self.config.host} with no API token")

    monkeypatch.setattr(LocalGateway, "_bind", must_not_bind)
    with pytest.raises((ValueError, RuntimeError, PermissionError)) as refused:
        LocalGateway(LocalGatewayConfig(host="0.0.0.0", api_token=None)).start()
    assert "token" in str(refused.value).lower()


# -- bad input --------------------------------------------------------------------------------


async def assert_alive(planes: Planes) -> None:
    response = await planes.run("default", headers={"cf-aig-authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text


def no_internals(text: str) -> None:
    for leak in ("Traceback", 'File "', "sqlite", ".py", TOKEN):
        assert leak not in text, f"{leak!r} leaked: {text[:300]}"


async def test_bodies_over_the_limit_get_413(planes: Planes, http: httpx.AsyncClient) -> None:
    big = b'{"prompt": "' + b"x" * (2 << 20) + b'"}'
    response = await http.post(
        planes.data("default"),
        content=big,
        headers={**AUTH, "cf-aig-authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 413
    assert cloudflare_error(response)

    async def chunked() -> AsyncIterator[bytes]:  # no content-length: counted as it arrives
        yield b'{"prompt": "'
        for _ in range(40):
            yield b"y" * 65536
        yield b'"}'

    response = await http.post(
        planes.data("default"),
        content=chunked(),
        headers={**AUTH, "cf-aig-authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 413
    create = await http.post(
        planes.control(), content=big, headers={**AUTH, "content-type": "application/json"}
    )
    assert create.status_code in (400, 413)
    cloudflare_error(create)
    await assert_alive(planes)


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 200_000 + b"]" * 200_000,
        b'{"prompt": ' + b"[" * 1000 + b"]" * 1000 + b"}",
        b'{"messages": [{"role": "user", "content": ' + b'{"a":' * 900 + b"1" + b"}" * 900 + b"}]}",
        b'{"prompt": "\xff\xfe\xfd"}',
        b'{"prompt": "\xed\xa0\x80"}',
        b"\xef\xbb\xbf{}",
        b"[" + b"1," * 300_000 + b"1]",
        b'{"prompt": "\\ud800"}',
        b"null",
        b"",
        b"{",
        b'{"prompt": 1e999999}',
        b'{"prompt": "hi", "max_tokens": 99999999999999999999999}',
        b'{"prompt": "hi", "stream": "yes"}',
        b'{"messages": "not a list"}',
        b'{"messages": [{"role": 5, "content": null}]}',
    ],
)
async def test_bad_json_bodies_get_a_cloudflare_shaped_4xx(
    planes: Planes, http: httpx.AsyncClient, body: bytes
) -> None:
    headers = {
        **AUTH,
        "cf-aig-authorization": f"Bearer {TOKEN}",
        "content-type": "application/json",
    }
    for url in (
        planes.data("default"),
        planes.data("default", "compat/chat/completions"),
        f"{planes.url}/v1/{planes.account}/default",  # Universal
        planes.control(),
    ):
        response = await http.post(url, content=body, headers=headers)
        assert 400 <= response.status_code < 500, (url, response.status_code, response.text[:300])
        cloudflare_error(response)
        no_internals(response.text)
    await assert_alive(planes)


@pytest.mark.parametrize(
    "body",
    [
        # 60,000 duplicate keys: valid JSON (the last value wins, as in JavaScript's JSON.parse)
        b'{"prompt": "a"' + b', "k": 1' * 60_000 + b"}",
        b'{"prompt": "a", "prompt": "b"}',
    ],
)
async def test_unusual_but_valid_json_bodies_are_served(
    planes: Planes, http: httpx.AsyncClient, body: bytes
) -> None:
    headers = {
        **AUTH,
        "cf-aig-authorization": f"Bearer {TOKEN}",
        "content-type": "application/json",
    }
    response = await http.post(planes.data("default"), content=body, headers=headers)
    assert response.status_code == 200, response.text[:300]
    await assert_alive(planes)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("cf-aig-metadata", '{"a": ' * 2000 + "1" + "}" * 2000),
        ("cf-aig-metadata", '{"a": "\\r\\nX-Injected: 1"}'),
        ("cf-aig-metadata", "[1, 2]"),
        ("cf-aig-metadata", "{" + ",".join(f'"k{i}": {i}' for i in range(50)) + "}"),
        ("cf-aig-event-id", "evt\\r\\nX-Injected: 1"),
        ("cf-aig-cache-key", "k" * 5000),
        ("cf-aig-cache-ttl", "-1"),
        ("cf-aig-cache-ttl", "1e309"),
        ("cf-aig-max-attempts", "99999999999999999999999"),
        ("cf-aig-request-timeout", "nan"),
        ("cf-aig-custom-cost", '{"total_cost": "free"}'),
        ("cf-aig-skip-cache", "maybe"),
        ("cf-aig-backoff", "forever"),
    ],
)
async def test_bad_gateway_headers_get_a_4xx_or_are_ignored_safely(
    planes: Planes, http: httpx.AsyncClient, name: str, value: str
) -> None:
    headers = {**AUTH, "cf-aig-authorization": f"Bearer {TOKEN}", name: value}
    response = await http.post(planes.data("default"), json={"prompt": "hi"}, headers=headers)
    assert response.status_code in (200, 400), response.text[:300]
    if response.status_code == 400:
        cloudflare_error(response)
    assert "x-injected" not in response.headers
    no_internals(response.text)
    await assert_alive(planes)


async def raw_exchange(gw: LocalGateway, request: bytes) -> bytes:
    """Send raw bytes on a fresh connection; return all the server says before it closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(1 << 20), 10)
    finally:
        writer.close()


@pytest.mark.parametrize(
    "header_line",
    [
        b"cf-aig-metadata: {}\r\nX-Injected: 1",  # just another header: harmless
        b"cf-aig-event-id: a\rX-Injected: 1",  # bare CR inside a value
        b"cf-aig-event-id: a\x00b",
        b"cf-aig-event-id: \xff\xfe",
        b" folded: continuation",
        b"cf-aig-authorization: Bearer " + TOKEN.encode() + b"\x0b",
    ],
)
async def test_raw_header_injection_never_reaches_a_reply(
    gw: LocalGateway, planes: Planes, header_line: bytes
) -> None:
    body = b'{"prompt": "hi"}'
    request = (
        (
            f"POST /v1/{planes.account}/default/workers-ai/{MODEL} HTTP/1.1\r\n"
            f"host: 127.0.0.1\r\nauthorization: Bearer {TOKEN}\r\n"
            "content-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n"
        ).encode()
        + header_line
        + b"\r\n\r\n"
        + body
    )
    reply = await raw_exchange(gw, request)
    head = reply.split(b"\r\n\r\n", 1)[0].lower()
    assert head.startswith(b"http/1.1 "), reply[:200]
    status = int(head[9:12])
    assert status < 500, reply[:300]
    assert b"\r\nx-injected" not in head
    assert TOKEN.encode() not in reply
    await assert_alive(planes)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/{account}/..%2F..%2Fetc/workers-ai/{model}"),
        ("POST", "/v1/{account}/../../etc/passwd"),
        ("POST", "/v1/..%2f/default/workers-ai/{model}"),
        ("POST", "/v1/{account}/%2e%2e/workers-ai/{model}"),
        ("POST", "/v1/{account}/default%00/workers-ai/{model}"),
        ("POST", "/v1/{account}/%FF%FE/workers-ai/{model}"),
        ("GET", "/client/v4/accounts/{account}/ai-gateway/gateways/..%2F..%2Fpasswd"),
        ("GET", "/client/v4/accounts/{account}/ai-gateway/gateways/default/logs/..%2F..%2Fx"),
        ("GET", "/client/v4/accounts/{account}/ai-gateway/gateways/default/logs/%00"),
        ("GET", "/client/v4/accounts/{account}/ai-gateway/gateways/" + "a" * 5000),
        ("GET", "/nope"),
        ("GET", "/"),
        ("GET", "/v1/{account}/default/workers-ai/{model}"),
        ("DELETE", "/v1/{account}/default/workers-ai/{model}"),
        ("PATCH", "/client/v4/accounts/{account}/ai-gateway/gateways"),
        ("TRACE", "/client/v4/accounts/{account}/ai-gateway/gateways"),
        ("OPTIONS", "/v1/{account}/default"),
        ("BREW", "/v1/{account}/default"),
    ],
)
async def test_traversal_unknown_routes_and_methods_get_cloudflare_shaped_4xx(
    gw: LocalGateway, planes: Planes, http: httpx.AsyncClient, method: str, path: str
) -> None:
    await planes.run("default", headers={"cf-aig-authorization": f"Bearer {TOKEN}"})
    url = gw.url + path.format(account=planes.account, model=MODEL)
    headers = {**AUTH, "cf-aig-authorization": f"Bearer {TOKEN}"}
    response = await http.request(method, httpx.URL(url), json={"prompt": "hi"}, headers=headers)
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    cloudflare_error(response)
    no_internals(response.text)
    await assert_alive(planes)


@pytest.mark.parametrize(
    "gateway_id", ["../etc", "a/b", "A", "a b", "x" * 65, "", "-a", "a--b", "\u00e9t\u00e9"]
)
async def test_invalid_gateway_ids_are_refused_on_create(
    planes: Planes, http: httpx.AsyncClient, gateway_id: str
) -> None:
    body = {
        "id": gateway_id,
        "cache_ttl": 0,
        "cache_invalidate_on_update": False,
        "collect_logs": True,
        "rate_limiting_interval": 0,
        "rate_limiting_limit": 0,
    }
    response = await http.post(planes.control(), json=body, headers=AUTH)
    assert response.status_code == 400, response.text
    errors = cloudflare_error(response)
    assert errors[0].get("path") == ["id"]
    assert (await http.get(planes.control(), headers=AUTH)).json()["result"] == []
