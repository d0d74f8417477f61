"""The server's own provider keys (`UpstreamRoute.api_key`, `api_key_env`): who may use them,
and that they never come back out.

The upstream is a real HTTP server on loopback that echoes the `Authorization` header it got,
in its replies (plain and streamed) and in its errors, as an upstream that echoes keys would.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aigateway_sdk import _json
from aigateway_sdk.local import LocalGateway, LocalGatewayConfig, UpstreamRoute
from aigateway_sdk.local.upstreams.redact import Redactor
from tests.local.helpers import AUTH, TOKEN, Api
from tests.reliability.faultserver import Action, Conn, FaultServer, reply, sse

pytestmark = pytest.mark.anyio

SERVER_KEY = "sk-server-held-2f9c41d07b"
"""The key the server holds for the `@cf/*` route (what `api_key_env` would read)."""
CF_MODEL = "@cf/meta/llama-3.1-8b-instruct"
MESSAGES = [{"role": "user", "content": "hi"}]


def _seen(conn: Conn) -> str:
    return conn.request.headers.get("authorization", "<none>")


async def echo(conn: Conn) -> bool:
    """A chat completion (or a stream of one) whose text is the `Authorization` it received;
    streamed three characters per event, so the key is split across events."""
    text = f"upstream saw {_seen(conn)}."
    if _json.loads(conn.request.body).get("stream"):
        frames = [
            b"data: " + _json.dumps({"choices": [{"delta": {"content": text[i : i + 3]}}]})
            for i in range(0, len(text), 3)
        ]
        usage = {"prompt_tokens": 1, "completion_tokens": 5}
        frames.append(b"data: " + _json.dumps({"choices": [], "usage": usage}))
        frames.append(b"data: [DONE]")
        return await sse([frame + b"\n\n" for frame in frames])(conn)
    body = {
        "choices": [{"message": {"content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 5},
    }
    return await reply(200, body)(conn)


def echo_error(status: int, shape: str) -> Action:
    """An error whose message quotes the `Authorization` received."""

    async def action(conn: Conn) -> bool:
        message = f"invalid api key: {_seen(conn)}"
        body: object
        if shape == "openai":
            body = {"error": {"message": message, "type": "invalid_request_error"}}
        elif shape == "cloudflare":
            body = {"success": False, "errors": [{"code": 10000, "message": message}]}
        else:
            body = message.encode()
        return await reply(status, body)(conn)

    return action


@pytest.fixture(scope="module")
def upstream() -> Iterator[FaultServer]:
    with FaultServer(echo) as server:
        yield server


@pytest.fixture(scope="module")
def keyed(
    tmp_path_factory: pytest.TempPathFactory, upstream: FaultServer
) -> Iterator[LocalGateway]:
    """A gateway with an api token whose `@cf/*` models go to the upstream on the server's key,
    and whose `own/*` models go there on the caller's own key (a route without a key)."""
    routes = (
        UpstreamRoute("@cf/*", kind="openai", base_url=f"{upstream.url}/v1", api_key=SERVER_KEY),
        UpstreamRoute("own/*", kind="openai", base_url=f"{upstream.url}/v1"),
    )
    db: Path = tmp_path_factory.mktemp("provider-keys") / "gw.db"
    config = LocalGatewayConfig(db_path=db, api_token=TOKEN, upstreams=routes)
    with LocalGateway(config) as gateway:
        yield gateway


@pytest.fixture
async def kapi(keyed: LocalGateway, http: httpx.AsyncClient, upstream: FaultServer) -> Api:
    """A fresh account whose gateway `open` has no authentication."""
    upstream.clear()
    api = Api(keyed, http, f"acct-{uuid.uuid4().hex[:12]}")
    await api.create("open", authentication=False)
    return api


def chat(model: str, **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": MESSAGES, **extra}


def step(provider: str, endpoint: str, query: dict[str, Any]) -> dict[str, Any]:
    return {"provider": provider, "endpoint": endpoint, "query": query}


# Every way of addressing an `@cf/...` model that the `@cf/*` route answers: (path, body).
# An empty path is the Universal endpoint, whose step carries the provider key in `headers`.
ROUTES_TO_THE_SERVER_KEY: dict[str, tuple[str, Any]] = {
    "workers-ai native": (f"workers-ai/{CF_MODEL}", {"prompt": "hi"}),
    "workers-ai/v1": ("workers-ai/v1/chat/completions", chat(CF_MODEL)),
    "compat workers-ai": ("compat/chat/completions", chat(f"workers-ai/{CF_MODEL}")),
    "compat Workers-AI": ("compat/chat/completions", chat(f"Workers-AI/{CF_MODEL}")),
    "compat openai": ("compat/chat/completions", chat(f"openai/{CF_MODEL}")),
    "openai path": ("openai/chat/completions", chat(CF_MODEL)),
    "made-up provider": ("made-up/chat/completions", chat(CF_MODEL)),
    "made-up provider v1": ("made-up/v1/chat/completions", chat(CF_MODEL)),
    "Workers-AI path": ("Workers-AI/chat/completions", chat(CF_MODEL)),
    "Workers-AI v1 path": ("Workers-AI/v1/chat/completions", chat(CF_MODEL)),
    "universal workers-ai": ("", step("workers-ai", CF_MODEL, {"prompt": "hi"})),
    "universal Workers-AI native": ("", step("Workers-AI", CF_MODEL, {"prompt": "hi"})),
    "universal Workers-AI v1": ("", step("Workers-AI", "v1/chat/completions", chat(CF_MODEL))),
    "universal openai": ("", step("openai", "chat/completions", chat(CF_MODEL))),
    "universal compat": (
        "",
        step("COMPAT", "chat/completions", chat(f"WORKERS-AI/{CF_MODEL}")),
    ),
}


async def call(api: Api, path: str, body: Any, authorization: str | None) -> httpx.Response:
    headers = {} if authorization is None else {"authorization": authorization}
    if path:
        return await api.http.post(api.data("open", path), json=body, headers=headers)
    universal_step = {**body, "headers": headers}
    return await api.http.post(api.data("open"), json=[universal_step])


@pytest.mark.parametrize("route", ROUTES_TO_THE_SERVER_KEY)
async def test_the_server_key_needs_the_api_token_on_every_route(
    kapi: Api, upstream: FaultServer, route: str
) -> None:
    path, body = ROUTES_TO_THE_SERVER_KEY[route]
    for authorization in (None, "Bearer not-the-token", f"Bearer {SERVER_KEY}", TOKEN):
        refused = await call(kapi, path, body, authorization)
        assert refused.status_code == 401, (authorization, refused.text)
        assert refused.json()["errors"][0]["code"] == 10000
    assert upstream.requests == []  # the server's key was never sent
    allowed = await call(kapi, path, body, AUTH["authorization"])
    assert allowed.status_code == 200, allowed.text
    assert [r.headers["authorization"] for r in upstream.requests] == [f"Bearer {SERVER_KEY}"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("Workers-AI/chat/completions", chat("some/model")),
        ("compat/chat/completions", chat("WORKERS-AI/some/model")),
        ("", step("Workers-AI", "chat/completions", {"prompt": "a model named chat/..."})),
        ("", step("workers-AI", "some/model", {"prompt": "hi"})),
    ],
)
async def test_workers_ai_in_any_case_needs_the_api_token(kapi: Api, path: str, body: Any) -> None:
    """Without a server key at stake (the built-in model answers), Workers AI still takes the
    api token as its provider key, whatever the case of its name."""
    for authorization in (None, "Bearer not-the-token"):
        refused = await call(kapi, path, body, authorization)
        assert refused.status_code == 401, (authorization, refused.text)
    assert (await call(kapi, path, body, AUTH["authorization"])).status_code == 200


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("made-up/chat/completions", chat("own/model")),
        ("compat/chat/completions", chat("made-up/own/model")),
        ("", step("made-up", "chat/completions", chat("own/model"))),
    ],
)
async def test_a_route_without_a_key_forwards_the_callers_own(
    kapi: Api, upstream: FaultServer, path: str, body: Any
) -> None:
    response = await call(kapi, path, body, "Bearer callers-own-key")
    assert response.status_code == 200, response.text
    assert [r.headers["authorization"] for r in upstream.requests] == ["Bearer callers-own-key"]


# --- the server's keys never come back out ------------------------------------------------


async def assert_no_key_in_logs(api: Api, count: int) -> None:
    logs = await api.logs("open")
    assert len(logs) == count
    for log in logs:
        for part in ("", "/request", "/response"):
            stored = await api.http.get(api.control(f"/open/logs/{log['id']}{part}"), headers=AUTH)
            assert stored.status_code == 200
            assert SERVER_KEY not in stored.text


@pytest.mark.parametrize("shape", ["openai", "cloudflare", "text"])
@pytest.mark.parametrize("status", [401, 500])
@pytest.mark.parametrize("stream", [False, True])
async def test_an_upstream_error_quoting_the_key_is_redacted(
    kapi: Api, upstream: FaultServer, shape: str, status: int, stream: bool
) -> None:
    upstream.script(echo_error(status, shape), echo_error(status, shape))
    native = await call(
        kapi, f"workers-ai/{CF_MODEL}", {"prompt": "hi", "stream": stream}, AUTH["authorization"]
    )
    compat = await call(
        kapi,
        "compat/chat/completions",
        chat(f"workers-ai/{CF_MODEL}", stream=stream),
        AUTH["authorization"],
    )
    assert len(upstream.requests) == 2  # the upstream did get the key, and quoted it
    for response in (native, compat):
        assert response.status_code == status
        message = response.json()["errors"][0]["message"]
        assert message == "invalid api key: Bearer [REDACTED]"
        assert SERVER_KEY not in response.text
    await assert_no_key_in_logs(kapi, 2)


@pytest.mark.parametrize("stream", [False, True])
async def test_a_reply_quoting_the_key_is_redacted(kapi: Api, stream: bool) -> None:
    auth = AUTH["authorization"]
    replies = [
        await call(kapi, f"workers-ai/{CF_MODEL}", {"prompt": "hi", "stream": stream}, auth),
        await call(kapi, "workers-ai/v1/chat/completions", chat(CF_MODEL, stream=stream), auth),
        await call(
            kapi, "", step("workers-ai", CF_MODEL, {"prompt": "hi", "stream": stream}), auth
        ),
    ]
    for response in replies:
        assert response.status_code == 200, response.text
        assert SERVER_KEY not in response.text
        text = response.text if stream else str(response.json())
        if stream:  # the text arrives in pieces: put them back together
            text = "".join(
                str(piece)
                for line in response.text.splitlines()
                if line.startswith("data: {")
                for piece in _texts(_json.loads(line[6:]))
            )
        assert "upstream saw Bearer [REDACTED]." in text
    await assert_no_key_in_logs(kapi, 3)


def _texts(frame: dict[str, Any]) -> list[str]:
    if "response" in frame:
        return [frame["response"]]
    return [c["delta"].get("content") or "" for c in frame.get("choices", [])]


async def test_a_cached_reply_is_the_redacted_one(kapi: Api) -> None:
    headers = {**AUTH, "cf-aig-cache-ttl": "600"}
    url = kapi.data("open", f"workers-ai/{CF_MODEL}")
    first = await kapi.http.post(url, json={"prompt": "cache me"}, headers=headers)
    again = await kapi.http.post(url, json={"prompt": "cache me"}, headers=headers)
    assert again.headers["cf-aig-cache-status"] == "HIT"
    assert again.content == first.content
    assert SERVER_KEY not in again.text
    assert "Bearer [REDACTED]" in again.text


async def test_the_key_is_redacted_from_stored_request_bodies_and_metadata(kapi: Api) -> None:
    """Whoever reads the logs (any api token holder) does not learn the server's key, even
    when a caller who knows it put it in a request."""
    response = await kapi.http.post(
        kapi.data("open", "compat/chat/completions"),
        json=chat(f"workers-ai/{CF_MODEL}", user=SERVER_KEY),
        headers={
            **AUTH,
            "cf-aig-metadata": _json.dumps({"key": SERVER_KEY}).decode(),
            "cf-aig-event-id": f"event-{SERVER_KEY}",
        },
    )
    assert response.status_code == 200
    await assert_no_key_in_logs(kapi, 1)
    [log] = await kapi.logs("open")
    assert log["metadata"] == '{"key":"[REDACTED]"}'
    assert log["event_id"] == "event-[REDACTED]"


# --- the redactor itself ------------------------------------------------------------------


def test_redactor_forms_of_a_key() -> None:
    key = 'k/"q\\uote&=+'
    redactor = Redactor([key, None, ""])
    assert redactor.text(f"Authorization: Bearer {key}!") == "Authorization: Bearer [REDACTED]!"
    escaped = _json.dumps({"auth": key})
    assert redactor.data(escaped) == b'{"auth":"[REDACTED]"}'
    assert redactor.text("key=k%2F%22q%5Cuote%26%3D%2B") == "key=[REDACTED]"
    assert redactor.text("k/ and no key") == "k/ and no key"
    assert not Redactor([None, ""])
    assert Redactor([]).text(key) == key


def test_stream_redaction_holds_back_only_what_may_start_a_key() -> None:
    redactor = Redactor([SERVER_KEY])
    text = f"a{SERVER_KEY}b sk-server-held-2f9c41 sk-{SERVER_KEY}{SERVER_KEY} tail sk-ser"
    expected = redactor.text(text)
    assert SERVER_KEY not in expected
    assert expected.endswith("tail sk-ser")
    for first in range(len(text) + 1):
        for second in range(first, len(text) + 1, 7):
            stream = redactor.stream()
            pieces = [text[:first], text[first:second], text[second:]]
            sent = [stream.feed(piece) for piece in pieces]
            sent.append(stream.flush())
            assert "".join(sent) == expected, (first, second)
    stream = redactor.stream()
    assert stream.feed("no key here") == "no key here"  # nothing that could start a key
    assert stream.feed(" sk-se") == " "
    assert stream.feed("cond") == "sk-second"
