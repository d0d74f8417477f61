"""Cassettes end to end: recorded against the local gateway, replayed with the network refused,
on both routes, streams (cut too), embeddings, tool calls, failures and the control plane."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest

from aigateway_sdk import (
    NO_RETRY,
    AiError,
    AuthenticationFailed,
    GatewayBinding,
    Message,
    ModelParameters,
    NotFound,
    RateLimited,
)
from aigateway_sdk.cassettes import Cassette, CassetteError, CassetteMissError
from aigateway_sdk.control import AiGateway, GatewayAdmin, LogFilter
from aigateway_sdk.local import LocalGateway, LocalGatewayConfig
from aigateway_sdk.parts import TextDelta
from aigateway_sdk.request import ToolDefinition, ToolsRequest

pytestmark = pytest.mark.anyio

ACCOUNT = "acct-cassettes"
MODEL = "@cf/meta/llama-3.1-8b-instruct"
EMBEDDER = "@cf/baai/bge-base-en-v1.5"
BOTH = pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
ROUTES = pytest.mark.parametrize("model", [MODEL, f"workers-ai/{MODEL}"], ids=["native", "compat"])
OFFLINE_URL = "http://127.0.0.1:9/v1"  # nothing listens there; replay must not try
SETTINGS = {
    "cache_ttl": 0,
    "cache_invalidate_on_update": False,
    "collect_logs": True,
    "rate_limiting_interval": 0,
    "rate_limiting_limit": 0,
}
# One value per credential kind, each distinct, so a grep of the file tells them apart.
API_TOKEN = "api-token-5e1f0a77c0ffee"
GATEWAY_TOKEN = "gateway-token-9b2d4e6f8a"
PROVIDER_KEY = "provider-key-7c3e5a9d1b"
LEGACY_KEY = "legacy-key-3f8e2c1a9d7b"
LEGACY_EMAIL = "owner-4d2a@example.com"


class Offline(httpx.AsyncBaseTransport):
    """The real transport during a replay: any use of it fails the test."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"the network was used during a replay: {request.url}")


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalGateway]:
    db = tmp_path_factory.mktemp("cassettes") / "gw.db"
    with LocalGateway(LocalGatewayConfig(db_path=db)) as gw:
        for gateway_id, extra in (
            ("open", {}),
            ("locked", {"authentication": True}),
            ("limited", {"rate_limiting_interval": 60, "rate_limiting_limit": 1}),
        ):
            reply = httpx.post(
                f"{gw.api_url}/accounts/{ACCOUNT}/ai-gateway/gateways",
                json={"id": gateway_id, **SETTINGS, **extra},
                headers={"authorization": f"Bearer {API_TOKEN}"},
            )
            assert reply.status_code == 200, reply.text
        yield gw


def binding(base_url: str, transport: httpx.AsyncBaseTransport, **kwargs: Any) -> GatewayBinding:
    kwargs.setdefault("gateway_id", "open")
    kwargs.setdefault("api_token", API_TOKEN)
    return GatewayBinding(
        account_id=ACCOUNT, base_url=base_url, transport=transport, retry=NO_RETRY, **kwargs
    )


def recorder(path: Path, mode: str = "record", **kwargs: Any) -> Cassette:
    return Cassette.open(path, mode, **kwargs)  # type: ignore[arg-type]


def replayer(path: Path, **kwargs: Any) -> Cassette:
    return Cassette.open(path, "replay", inner=Offline(), **kwargs)


def stream_texts(parts: list[Any]) -> list[str]:
    return [p.delta for p in parts if isinstance(p, TextDelta)]


# -- the data plane -----------------------------------------------------------------------


@BOTH
@ROUTES
async def test_generate_and_stream_replay_what_was_recorded(
    gateway: LocalGateway, tmp_path: Path, model: str
) -> None:
    path = tmp_path / "talk.json"

    async def talk(base_url: str, cassette: Cassette) -> tuple[Any, ...]:
        async with binding(base_url, cassette.transport) as b:
            lm = b.model(model, ModelParameters(max_tokens=24))
            whole = await lm.generate_text(prompt="Tell me about rivers.")
            parts = [part async for part in lm.stream_text(prompt="And mountains?")]
        return whole.text, whole.finish_reason, whole.usage, stream_texts(parts)

    with recorder(path) as cassette:
        recorded = await talk(gateway.data_url, cassette)
    with replayer(path) as cassette:
        replayed = await talk(OFFLINE_URL, cassette)
        assert cassette.unplayed == []
    assert replayed == recorded
    assert len(recorded[3]) > 3  # a real stream of several parts


async def test_embeddings_and_tool_calls_replay(gateway: LocalGateway, tmp_path: Path) -> None:
    weather = ToolDefinition(
        "get_weather",
        "The weather in a city",
        {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    )
    ask = (Message.user("Use get_weather for city=Paris, please."),)
    path = tmp_path / "tools.json"

    async def work(base_url: str, cassette: Cassette) -> tuple[Any, ...]:
        async with binding(base_url, cassette.transport) as b:
            vectors = (await b.embedding_model(EMBEDDER).embed(["one", "two"])).vectors
            lm = b.model(MODEL)
            step = await lm.step(ask, tools=ToolsRequest((weather,)))
            streamed = [
                repr(part) async for part in lm.stream_step(ask, tools=ToolsRequest((weather,)))
            ]
        return vectors, [(c.id, c.name, c.arguments) for c in step.tool_calls], streamed

    with recorder(path) as cassette:
        recorded = await work(gateway.data_url, cassette)
    with replayer(path) as cassette:
        replayed = await work(OFFLINE_URL, cassette)
    assert replayed == recorded
    assert len(recorded[0]) == 2
    assert recorded[1], "the local model called the tool"


@pytest.mark.parametrize("cut_after", [1, 3])
async def test_a_stream_cut_at_an_event_replays_what_was_read(
    gateway: LocalGateway, tmp_path: Path, cut_after: int
) -> None:
    path = tmp_path / "cut.json"

    async def read(base_url: str, cassette: Cassette, parts_wanted: int) -> list[str]:
        texts: list[str] = []
        async with binding(base_url, cassette.transport) as b:
            stream = b.model(MODEL, ModelParameters(max_tokens=40)).stream_text(prompt="Count.")
            async for part in stream:
                if isinstance(part, TextDelta):
                    texts.append(part.delta)
                    if len(texts) == parts_wanted:
                        break
        return texts

    with recorder(path) as cassette:
        recorded = await read(gateway.data_url, cassette, cut_after)
    assert '"cut": true' in path.read_text()
    with replayer(path) as cassette:
        assert await read(OFFLINE_URL, cassette, cut_after) == recorded
    # Reading past the cut is not a silent end of stream: it names the cassette.
    with replayer(path) as cassette, pytest.raises(CassetteError, match="recorded cut") as caught:
        await read(OFFLINE_URL, cassette, 10_000)
    assert str(path) in str(caught.value)


@BOTH
async def test_a_stream_cut_at_any_event_or_cancelled_replays_the_same(
    gateway: LocalGateway, tmp_path: Path
) -> None:
    async def read(base_url: str, cassette: Cassette, stop_after: int | None) -> list[str]:
        """The stream's text parts; after `stop_after` of them the reading task is cancelled."""
        texts: list[str] = []
        async with binding(base_url, cassette.transport) as b:
            lm = b.model(MODEL, ModelParameters(max_tokens=6))
            with anyio.CancelScope() as scope:
                async for part in lm.stream_text(prompt="Five words, please."):
                    if isinstance(part, TextDelta):
                        texts.append(part.delta)
                        if len(texts) == stop_after:
                            scope.cancel()
                            await anyio.lowlevel.checkpoint()
        return texts

    with recorder(tmp_path / "whole.json") as cassette:
        whole = await read(gateway.data_url, cassette, None)
    assert len(whole) >= 3
    for stop_after in range(1, len(whole) + 1):
        path = tmp_path / f"cut-{stop_after}.json"
        with recorder(path) as cassette:
            recorded = await read(gateway.data_url, cassette, stop_after)
        assert recorded == whole[:stop_after]
        with replayer(path) as cassette:
            assert await read(OFFLINE_URL, cassette, stop_after) == recorded


async def test_a_stream_left_open_is_recorded_as_read_so_far(
    gateway: LocalGateway, tmp_path: Path
) -> None:
    path = tmp_path / "open.json"
    with recorder(path) as cassette:
        async with (
            binding(gateway.data_url, cassette.transport) as b,
            b.client.stream(
                "POST",
                f"{b.gateway_url}/workers-ai/{MODEL}",
                json={"prompt": "hi", "stream": True},
                headers={"authorization": f"Bearer {API_TOKEN}"},
            ) as response,
        ):
            first = await response.aiter_raw().__anext__()
            cassette.close()  # the test ends with the stream still open
    assert first
    assert '"cut": true' in path.read_text()


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ({"gateway_id": "locked"}, AuthenticationFailed),  # no gateway token: 401
        ({"gateway_id": "nowhere-to-be-found"}, NotFound),
    ],
)
async def test_a_failed_call_replays_as_the_same_reason(
    gateway: LocalGateway, tmp_path: Path, setup: dict[str, Any], reason: type[Any]
) -> None:
    path = tmp_path / "failed.json"

    async def fail(base_url: str, cassette: Cassette) -> AiError:
        async with binding(base_url, cassette.transport, **setup) as b:
            with pytest.raises(AiError) as caught:
                await b.model(MODEL).generate_text(prompt="hi")
        return caught.value

    with recorder(path) as cassette:
        recorded = await fail(gateway.data_url, cassette)
    with replayer(path) as cassette:
        replayed = await fail(OFFLINE_URL, cassette)
    assert isinstance(recorded.reason, reason)
    assert type(replayed.reason) is type(recorded.reason)
    assert (replayed.reason.status, replayed.reason.code, replayed.reason.message) == (
        recorded.reason.status,
        recorded.reason.code,
        recorded.reason.message,
    )


async def test_a_429_and_its_retry_replay_in_order(gateway: LocalGateway, tmp_path: Path) -> None:
    path = tmp_path / "limited.json"

    async def twice(base_url: str, cassette: Cassette) -> tuple[str, AiError]:
        async with binding(base_url, cassette.transport, gateway_id="limited") as b:
            lm = b.model(MODEL, ModelParameters(max_tokens=5))
            first = await lm.generate_text(prompt="same")
            with pytest.raises(AiError) as caught:
                await lm.generate_text(prompt="same")  # identical request, other reply
        return first.text, caught.value

    with recorder(path) as cassette:
        recorded = await twice(gateway.data_url, cassette)
    with replayer(path) as cassette:
        replayed = await twice(OFFLINE_URL, cassette)
    assert isinstance(recorded[1].reason, RateLimited)
    assert isinstance(replayed[1].reason, RateLimited)
    assert replayed[1].reason.retry_after == recorded[1].reason.retry_after
    assert replayed[0] == recorded[0]


async def test_a_connection_error_is_not_recorded(tmp_path: Path) -> None:
    path = tmp_path / "refused.json"
    with recorder(path) as cassette:
        async with binding(OFFLINE_URL, cassette.wrap(httpx.AsyncHTTPTransport())) as b:
            with pytest.raises(AiError):
                await b.model(MODEL).generate_text(prompt="hi")
    assert '"interactions": []' in path.read_text()


# -- credentials ----------------------------------------------------------------------------


async def use_every_credential(
    urls: tuple[str, str], cassette: Cassette, secrets: tuple[str, ...]
) -> list[Any]:
    """A call with each kind of credential: API token, gateway token, provider key, legacy
    key and e-mail (in headers and a query string)."""
    data_url, api_url = urls
    api_token, gateway_token, provider_key, legacy_key, legacy_email = secrets
    replies: list[Any] = []
    async with binding(
        data_url,
        cassette.transport,
        api_token=api_token,
        gateway_id="locked",
        gateway_token=gateway_token,
    ) as b:
        lm = b.model(MODEL, ModelParameters(max_tokens=5))
        # A credential echoed in a body is scrubbed too (and still matches on replay).
        replies.append((await lm.generate_text(prompt=f"echo {api_token}")).text)
    async with binding(
        data_url, cassette.transport, provider_api_keys={"workers-ai": provider_key}
    ) as b:  # a `workers-ai` key replaces the API token on the compat route
        lm = b.model(f"workers-ai/{MODEL}", ModelParameters(max_tokens=5))
        replies.append((await lm.generate_text(prompt="hi")).text)
    async with httpx.AsyncClient(transport=cassette.transport) as client:
        reply = await client.get(
            f"{api_url}/accounts/{ACCOUNT}/ai-gateway/gateways?api_key={legacy_key}",
            headers={"X-Auth-Key": legacy_key, "X-Auth-Email": legacy_email},
        )
        assert reply.status_code == 200, reply.text
        replies.append([g["id"] for g in reply.json()["result"]])
    return replies


async def test_no_credential_of_any_kind_is_written(gateway: LocalGateway, tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    real = (API_TOKEN, GATEWAY_TOKEN, PROVIDER_KEY, LEGACY_KEY, LEGACY_EMAIL)
    with recorder(path) as cassette:
        recorded = await use_every_credential((gateway.data_url, gateway.api_url), cassette, real)
    text = path.read_text()
    for secret in real:
        assert secret not in text
    assert text.count("<scrubbed>") >= 7
    assert '"cf-aig-authorization": "<scrubbed>"' in text
    assert '"x-auth-key": "<scrubbed>"' in text
    assert "api_key=<scrubbed>" in text
    # CI replays with credentials of its own (here, dummies): the cassette still matches.
    dummies = ("ci-api-token", "ci-gateway-token", "ci-provider-key", "ci-key", "ci@example.com")
    with replayer(path) as cassette:
        replayed = await use_every_credential(
            (OFFLINE_URL, "http://127.0.0.1:9/client/v4"), cassette, dummies
        )
    assert replayed == recorded


async def test_configured_fields_headers_and_secrets_are_scrubbed(
    gateway: LocalGateway, tmp_path: Path
) -> None:
    path = tmp_path / "configured.json"
    options: dict[str, Any] = {
        "scrub_headers": ["x-team"],
        "scrub_fields": ["user"],
        "secrets": {ACCOUNT: "ACCOUNT_ID"},
    }

    async def call(base_url: str, cassette: Cassette, account: str) -> str:
        b = GatewayBinding(
            account_id=account,
            gateway_id="open",
            api_token=API_TOKEN,
            base_url=base_url,
            transport=cassette.transport,
        )
        async with b:
            lm = b.model(MODEL, extra_body={"user": "alice"}, extra_headers={"x-team": "blue"})
            return (await lm.generate_text(prompt="hi")).text

    with recorder(path, **options) as cassette:
        recorded = await call(gateway.data_url, cassette, ACCOUNT)
    text = path.read_text()
    for gone in (ACCOUNT, "alice", "blue"):
        assert gone not in text
    assert "/v1/ACCOUNT_ID/open/" in text
    # Replayed with the placeholder as the account: a cassette without the real account id.
    with replayer(path, **options) as cassette:
        assert await call(OFFLINE_URL, cassette, "ACCOUNT_ID") == recorded


# -- matching -------------------------------------------------------------------------------


async def test_an_unmatched_request_names_itself_and_the_file(
    gateway: LocalGateway, tmp_path: Path
) -> None:
    path = tmp_path / "miss.json"
    with recorder(path) as cassette:
        async with binding(gateway.data_url, cassette.transport) as b:
            await b.model(MODEL).generate_text(prompt="recorded")
    with replayer(path) as cassette:
        async with binding(OFFLINE_URL, cassette.transport) as b:
            lm = b.model(MODEL)
            with pytest.raises(CassetteMissError) as caught:
                await lm.generate_text(prompt="never recorded")
            await lm.generate_text(prompt="recorded")
            with pytest.raises(CassetteMissError, match="recorded reply was used"):
                await lm.generate_text(prompt="recorded")  # each reply plays once
    message = str(caught.value)
    assert f"POST /v1/{ACCOUNT}/open/workers-ai/{MODEL}" in message
    assert "(body " in message
    assert str(path) in message
    assert "nothing recorded matches it" in message
    assert "--cassette-mode=record" in message


def plain_reply(counter: list[int]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        counter.append(1)
        return httpx.Response(200, json={"n": len(counter), "seen": request.url.query.decode()})

    return httpx.MockTransport(answer)


async def test_matching_is_configurable(tmp_path: Path) -> None:
    path = tmp_path / "match.json"
    calls: list[int] = []
    with Cassette.open(path, "record", inner=plain_reply(calls)) as cassette:
        async with httpx.AsyncClient(transport=cassette.transport) as client:
            for page in (1, 2):
                await client.post(
                    f"http://api.test/items?page={page}",
                    json={"b": 1, "a": [page]},
                    headers={"cf-aig-metadata": f'{{"page":{page}}}'},
                )
    # Default (method, path, body): the body's key order does not matter.
    with Cassette.open(path, "replay", inner=Offline()) as cassette:
        async with httpx.AsyncClient(transport=cassette.transport) as client:
            second = await client.post("http://other.host/items?x=1", content=b'{"a":[2],"b":1}')
    assert second.json() == {"n": 2, "seen": "page=2"}
    # Query only: the bodies may differ; repeated keys replay in recorded order.
    with Cassette.open(path, "replay", inner=Offline(), match=("method", "query")) as cassette:
        async with httpx.AsyncClient(transport=cassette.transport) as client:
            reply = await client.post("http://api.test/elsewhere?page=1", json={})
    assert reply.json()["n"] == 1
    # A header as part of the key.
    match = ("path", "headers:cf-aig-metadata")
    with Cassette.open(path, "replay", inner=Offline(), match=match) as cassette:
        async with httpx.AsyncClient(transport=cassette.transport) as client:
            reply = await client.get(
                "http://api.test/items", headers={"cf-aig-metadata": '{"page":2}'}
            )
    assert reply.json()["n"] == 2
    # A callable: every request gets the replies in order.
    with Cassette.open(path, "replay", inner=Offline(), match=lambda r: "any") as cassette:
        async with httpx.AsyncClient(transport=cassette.transport) as client:
            replies = [(await client.get("http://x.test/")).json()["n"] for _ in range(2)]
    assert replies == [1, 2]


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    from aigateway_sdk import ValidationError

    with pytest.raises(ValidationError, match="unknown part 'bodyy'"):
        Cassette.open(tmp_path / "x.json", "record", match=("method", "bodyy"))
    with pytest.raises(ValidationError, match="mode"):
        Cassette.open(tmp_path / "x.json", "sometimes")  # type: ignore[arg-type]


# -- modes ----------------------------------------------------------------------------------


async def test_modes_once_replay_and_new_episodes(tmp_path: Path) -> None:
    path = tmp_path / "modes.json"
    calls: list[int] = []
    from aigateway_sdk.cassettes import CassetteNotFoundError

    with pytest.raises(CassetteNotFoundError, match="does not exist"):
        Cassette.open(path, "replay")

    async def get(cassette: Cassette, name: str) -> int:
        async with httpx.AsyncClient(transport=cassette.transport) as client:
            reply = await client.get(f"http://api.test/{name}")
            return int(reply.json()["n"])

    with Cassette.open(path, "once", inner=plain_reply(calls)) as cassette:
        assert cassette.recording
        assert await get(cassette, "a") == 1
    with Cassette.open(path, "once", inner=Offline()) as cassette:  # exists now: replays
        assert not cassette.recording
        assert await get(cassette, "a") == 1
    with Cassette.open(path, "new_episodes", inner=plain_reply(calls)) as cassette:
        assert await get(cassette, "a") == 1  # replayed
        assert await get(cassette, "b") == 2  # new: recorded and added
    with Cassette.open(path, "replay", inner=Offline()) as cassette:
        assert [await get(cassette, "a"), await get(cassette, "b")] == [1, 2]
    with Cassette.open(path, "record", inner=plain_reply(calls)) as cassette:
        assert await get(cassette, "c") == 3
    with Cassette.open(path, "replay", inner=Offline()) as cassette:
        assert [i.request.path for i in cassette.loaded] == ["/c"]  # record overwrote


async def test_bodies_are_readable_and_binary_is_base64(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "bodies.json"

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/gzip":
            data = gzip.compress(b'{"zipped": true}')
            return httpx.Response(
                200,
                content=data,
                headers={"content-encoding": "gzip", "content-type": "application/json"},
            )
        if request.url.path == "/binary":
            return httpx.Response(200, content=b"\xff\x00\x01")
        return httpx.Response(200, text="plain words")

    async def fetch(cassette: Cassette) -> list[bytes]:
        async with httpx.AsyncClient(transport=cassette.transport) as client:
            return [
                (await client.get(f"http://x.test/{p}")).content for p in ("gzip", "binary", "t")
            ]

    with Cassette.open(path, "record", inner=httpx.MockTransport(answer)) as cassette:
        recorded = await fetch(cassette)
    text = path.read_text()
    assert '"zipped": true' in text
    assert '"text": "plain words"' in text
    assert '"base64": "/wAB"' in text
    with Cassette.open(path, "replay", inner=Offline()) as cassette:
        replayed = await fetch(cassette)
    # JSON replays as the same value (written compact); text and bytes as they were.
    assert json.loads(replayed[0]) == json.loads(recorded[0]) == {"zipped": True}
    assert replayed[1:] == recorded[1:] == [b"\xff\x00\x01", b"plain words"]


# -- the control plane ---------------------------------------------------------------------


async def test_control_plane_clients_record_and_replay(
    gateway: LocalGateway, tmp_path: Path
) -> None:
    path = tmp_path / "control.json"
    spec = AiGateway("cassette-spec", cache_ttl=120, collect_logs=True)

    async def manage(api_url: str, cassette: Cassette) -> tuple[Any, ...]:
        async with GatewayAdmin(ACCOUNT, API_TOKEN, api_url, transport=cassette.transport) as admin:
            applied = await admin.apply(spec)
            fetched = await admin.get("cassette-spec")
            missing = await admin.find("not-there")
            logs = [
                e.id
                async for e in admin.logs("open").list(
                    filters=[LogFilter("success", "eq", True)], limit=3
                )
            ]
        return applied.action, fetched.cache_ttl, missing, logs

    with recorder(path) as cassette:
        recorded = await manage(gateway.api_url, cassette)
    with replayer(path) as cassette:
        replayed = await manage("http://127.0.0.1:9/client/v4", cassette)
    assert replayed == recorded
    assert recorded[1] == 120
    assert recorded[2] is None
    assert API_TOKEN not in path.read_text()
