"""A stored provider key never comes back out: not in a reply (success, error, stream), not in
a log row (every column of every table but the key's own, read straight from the SQLite
file), not in the logs API, not in the server's Python log, not in a repr or an error message.

The upstream echoes the `Authorization` it received in its replies and in its errors."""

from __future__ import annotations

import logging
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aigateway_sdk import _json
from aigateway_sdk.contract.gateway import GatewaySettings
from aigateway_sdk.contract.provider_keys import ProviderKeySettings
from aigateway_sdk.local import LocalGateway, LocalGatewayConfig, ManualClock, UpstreamRoute
from aigateway_sdk.local.dataplane.headers import RequestOptions
from aigateway_sdk.local.policies.auth import TokenCheck
from aigateway_sdk.local.policies.provider_keys import StoredKeys
from aigateway_sdk.local.storage.gateways import GatewayRegistry
from aigateway_sdk.local.upstreams.base import ChatRequest, EmbedRequest
from aigateway_sdk.local.web.errors import ApiError
from tests.local.helpers import AUTH, GW_AUTH, START, TOKEN, Api
from tests.reliability.faultserver import Conn, FaultServer, reply, sse

pytestmark = pytest.mark.anyio

SECRET = "sk-proj-never-seen-again-6d1f0b93a7e2"


def _seen(conn: Conn) -> str:
    return conn.request.headers.get("authorization", "<none>")


async def echo(conn: Conn) -> bool:
    """Echo the key back; `fail` in the prompt makes it an error quoting the key."""
    payload = _json.loads(conn.request.body)
    said = str(payload.get("messages", [{}])[-1].get("content", ""))
    text = f"upstream saw {_seen(conn)} and {said}"
    if "fail" in said:
        return await reply(401, {"error": {"message": f"invalid api key {_seen(conn)}"}})(conn)
    if payload.get("stream"):
        frames = [
            b"data: " + _json.dumps({"choices": [{"delta": {"content": text[i : i + 5]}}]})
            for i in range(0, len(text), 5)
        ]
        frames.append(b"data: [DONE]")
        return await sse([frame + b"\n\n" for frame in frames])(conn)
    body = {"choices": [{"message": {"content": text}, "finish_reason": "stop"}]}
    return await reply(200, body)(conn)


@pytest.fixture(scope="module")
def upstream() -> Iterator[FaultServer]:
    with FaultServer(echo) as server:
        yield server


async def test_the_key_is_nowhere_in_replies_logs_or_the_database(
    tmp_path: Path,
    upstream: FaultServer,
    http: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    db = tmp_path / "gw.db"
    route = UpstreamRoute("openai/*", kind="openai", base_url=f"{upstream.url}/v1")
    config = LocalGatewayConfig(
        db_path=db, api_token=TOKEN, upstreams=(route,), clock=ManualClock(START)
    )
    texts: list[str] = []
    account = f"acct-{uuid.uuid4().hex[:8]}"
    with LocalGateway(config) as gateway:
        api = Api(gateway, http, account)
        await api.create("g", authentication=True)
        keys = api.control("/g/provider_configs")
        body = {"provider_slug": "openai", "alias": "default", "default_config": True}
        created = await http.post(keys, json={**body, "secret": SECRET}, headers=AUTH)
        assert created.status_code == 200
        texts.append(created.text)
        # every way the key could leak back: a plain reply, a stream, an upstream error that
        # quotes it, the key itself in the prompt and in the metadata, a bad create, a rotate
        chat = api.data("g", "compat/chat/completions")
        for prompt, stream in (("hi", False), ("hi", True), ("fail", False), (SECRET, False)):
            reply_ = await http.post(
                chat,
                json={
                    "model": "openai/gpt-4o-mini",
                    "messages": [{"role": "user", "content": prompt}],
                    "stream": stream,
                },
                headers={**GW_AUTH, "cf-aig-metadata": _json.dumps({"k": SECRET}).decode()},
            )
            texts.append(reply_.text)
            texts.append(str(reply_.headers))
        assert upstream.requests
        assert all(r.headers["authorization"] == f"Bearer {SECRET}" for r in upstream.requests)
        taken = await http.post(keys, json={**body, "secret": SECRET}, headers=AUTH)
        assert taken.status_code == 409
        texts.append(taken.text)
        key_id = created.json()["result"]["id"]
        same = await http.put(f"{keys}/{key_id}", json={"secret": SECRET}, headers=AUTH)
        texts.append(same.text)
        texts.append((await http.get(keys, headers=AUTH)).text)
        for entry in await api.logs("g"):
            texts.append(_json.dumps(entry).decode())
            for part in ("", "/request", "/response"):
                got = await http.get(api.control(f"/g/logs/{entry['id']}{part}"), headers=AUTH)
                texts.append(got.text)
    assert len(texts) > 10
    for text in texts:
        assert SECRET not in text
    for record in caplog.records:
        assert SECRET not in record.getMessage()
    with sqlite3.connect(db) as conn:
        found = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        tables = [row[0] for row in found]
        assert "logs" in tables
        for table in tables:
            if table == "provider_keys":
                continue
            for row in conn.execute(f"SELECT * FROM {table}"):
                for value in row:
                    raw = value if isinstance(value, bytes) else str(value).encode()
                    assert SECRET.encode() not in raw, table
        stored = conn.execute("SELECT secret FROM provider_keys").fetchall()
    assert stored == [(SECRET,)]  # the one place it is: the owner-only file


def test_no_repr_or_error_holds_it() -> None:
    stored = StoredKeys(TokenCheck(TOKEN), ManualClock(START))
    settings = GatewaySettings(authentication=True)
    registry = GatewayRegistry([], max_per_account=10, cap_override=None)
    live = registry.create("a", "g", settings, 0.0)
    stored.load([])
    record = stored.registry.create(
        live.scope, ProviderKeySettings(provider_slug="openai"), SECRET, None, 0.0
    )
    chat = stored.inject(ChatRequest("openai", "m", ()), live, RequestOptions())
    embed = stored.inject(EmbedRequest("openai", "m", ("x",)), live, RequestOptions())
    assert chat.authorization == f"Bearer {SECRET}"
    objects: list[Any] = [record, chat, embed, stored.registry.list(live.scope)]
    for value in objects:
        assert SECRET not in repr(value)
        assert SECRET not in str(value)
    with pytest.raises(ApiError) as caught:
        stored.registry.create(
            live.scope, ProviderKeySettings(provider_slug="openai"), SECRET, None, 0.0
        )
    assert SECRET not in str(caught.value)
    assert SECRET.encode() not in caught.value.body()
