"""Attacks on issue 11's surfaces (provider keys, spend limits, the model catalog) that once
broke something: each test failed before its fix."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aigateway_sdk import _json
from aigateway_sdk.local import LocalGateway, LocalGatewayConfig, ManualClock, UpstreamRoute
from aigateway_sdk.local.state import AppState
from tests.local.helpers import AUTH, GW_AUTH, START, TOKEN, Api
from tests.reliability.faultserver import Conn, FaultServer, reply

pytestmark = pytest.mark.anyio

SECRET = "sk-proj-trust-issue11-4d2c9a7e1b"


async def echo_authorization(conn: Conn) -> bool:
    """An OpenAI-compatible upstream that says which `Authorization` it received."""
    seen = conn.request.headers.get("authorization", "<none>")
    body = {"choices": [{"message": {"content": f"saw {seen}"}, "finish_reason": "stop"}]}
    return await reply(200, body)(conn)


@pytest.fixture(scope="module")
def upstream() -> Iterator[FaultServer]:
    with FaultServer(echo_authorization) as server:
        yield server


@pytest.fixture
def byok_gw(tmp_path: Path, upstream: FaultServer) -> Iterator[LocalGateway]:
    route = UpstreamRoute("openai/*", kind="openai", base_url=f"{upstream.url}/v1")
    config = LocalGatewayConfig(
        db_path=tmp_path / "gw.db", api_token=TOKEN, upstreams=(route,), clock=ManualClock(START)
    )
    with LocalGateway(config) as gateway:
        yield gateway


def _state(gateway: LocalGateway) -> AppState:
    """The running server's state (to check what it holds in memory)."""
    state: AppState = gateway._server.config.app.state.gateway  # type: ignore[union-attr]
    return state


def _key(alias: str, secret: str, **more: Any) -> dict[str, Any]:
    return {
        "provider_slug": "openai",
        "alias": alias,
        "default_config": alias == "default",
        "secret": secret,
        **more,
    }


async def _openai_chat(api: Api, gateway: str, headers: dict[str, str]) -> httpx.Response:
    return await api.http.post(
        api.data(gateway, "compat/chat/completions"),
        json={"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
        headers=headers,
    )


@pytest.mark.parametrize(
    "secret",
    ["sk-\u00e9t\u00e9-0123456789abcdef", "sk-\u2028-0123456789abcdef", "sk-\x85-0123456789ab"],
)
async def test_a_non_ascii_secret_is_refused_not_a_crash_on_the_data_plane(
    byok_gw: LocalGateway, http: httpx.AsyncClient, secret: str
) -> None:
    """It travels as `Authorization: Bearer <secret>`, which HTTP carries as ASCII: stored, it
    made every request of the gateway's provider a dropped connection (a 500)."""
    api = Api(byok_gw, http, "acct-ascii")
    await api.create("g", authentication=True)
    created = await http.post(
        api.control("/g/provider_configs"), json=_key("default", secret), headers=AUTH
    )
    assert created.status_code == 400, created.text
    assert created.json()["errors"][0]["path"] == ["secret"]
    assert secret not in created.text
    served = await _openai_chat(api, "g", GW_AUTH)
    assert served.status_code == 200, served.text


@pytest.mark.parametrize("secret", ['"', "e", "{", "sk-shrt"])
async def test_a_short_secret_is_refused(
    byok_gw: LocalGateway, http: httpx.AsyncClient, secret: str
) -> None:
    """Each stored secret is redacted out of every reply and log body of every account: a
    one-character secret (`"`) turned another account's logged bodies into
    `[REDACTED][REDACTED]model...` and its replies into `saw B[REDACTED]ar[REDACTED]r`."""
    owner = Api(byok_gw, http, "acct-owner")
    await owner.create("g", authentication=True)
    created = await http.post(
        owner.control("/g/provider_configs"), json=_key("k", secret), headers=AUTH
    )
    assert created.status_code == 400, created.text
    assert created.json()["errors"][0]["path"] == ["secret"]

    other = Api(byok_gw, http, "acct-other")
    await other.create("g")
    own_key = {**GW_AUTH, "authorization": "Bearer sk-callers-own-key-0123456789"}
    served = await _openai_chat(other, "g", own_key)
    assert served.json()["choices"][0]["message"]["content"] == (
        "saw Bearer sk-callers-own-key-0123456789"
    )
    (entry,) = await other.logs("g")
    logged = await http.get(other.control(f"/g/logs/{entry['id']}/request"), headers=AUTH)
    assert _json.loads(logged.content)["model"] == "openai/gpt-4o-mini"


async def test_rotated_and_deleted_secrets_do_not_pile_up_in_the_redactor(
    byok_gw: LocalGateway, http: httpx.AsyncClient
) -> None:
    """Every rotation added the new secret to the server-wide redactor and none ever left it:
    memory and the per-event cost of redacting streams grew with each rotation (a 16 KB
    secret rotated 10,000 times held ~0.5 GB). Now it holds the stored secrets only."""
    api = Api(byok_gw, http, "acct-rotate")
    await api.create("g", authentication=True)
    keys = api.control("/g/provider_configs")
    created = await http.post(keys, json=_key("default", SECRET), headers=AUTH)
    key_id = created.json()["result"]["id"]
    baseline = len(_state(byok_gw).router.redactor._forms)
    for turn in range(30):
        secret = f"{SECRET}-rotation-{turn:04d}"
        rotated = await http.put(f"{keys}/{key_id}", json={"secret": secret}, headers=AUTH)
        assert rotated.status_code == 200, rotated.text
    assert len(_state(byok_gw).router.redactor._forms) == baseline
    # the current secret is still redacted from what the upstream echoes
    served = await _openai_chat(api, "g", GW_AUTH)
    assert served.json()["choices"][0]["message"]["content"] == "saw Bearer [REDACTED]"
    deleted = await http.delete(f"{keys}/{key_id}", headers=AUTH)
    assert deleted.status_code == 200
    assert not _state(byok_gw).router.redactor
    second = await http.post(keys, json=_key("default", SECRET), headers=AUTH)
    assert second.status_code == 200
    gone = await http.delete(api.control("/g"), headers=AUTH)
    assert gone.status_code == 200
    assert not _state(byok_gw).router.redactor


async def _stored_default(api: Api) -> None:
    await api.create("g", authentication=True)
    created = await api.http.post(
        api.control("/g/provider_configs"), json=_key("default", SECRET), headers=AUTH
    )
    assert created.status_code == 200, created.text


@pytest.mark.parametrize(
    "authorization", [b"Bearer sk-\xc3\xa9t\xc3\xa9", b"Bearer sk-\xe9", b"Bearer \x7f"]
)
async def test_a_non_ascii_provider_authorization_is_a_400_not_a_500(
    byok_gw: LocalGateway, http: httpx.AsyncClient, upstream: FaultServer, authorization: bytes
) -> None:
    """A caller's own `Authorization` is forwarded as is; bytes past 0x7F made the forwarder
    fail building its request: a 500, or the connection dropped."""
    api = Api(byok_gw, http, "acct-raw-auth")
    await _stored_default(api)
    upstream.clear()
    refused = await http.post(
        api.data("g", "compat/chat/completions"),
        json={"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
        headers={**GW_AUTH, "authorization": authorization},  # type: ignore[dict-item]
    )
    assert refused.status_code == 400, refused.text
    assert refused.json()["errors"][0]["path"] == ["authorization"]
    assert not upstream.requests


@pytest.mark.parametrize("value", ["Bearer sk-\u00e9", "Bearer x\r\nx-injected: 1"])
async def test_a_universal_steps_bad_authorization_is_a_400(
    byok_gw: LocalGateway, http: httpx.AsyncClient, upstream: FaultServer, value: str
) -> None:
    api = Api(byok_gw, http, "acct-step-auth")
    await _stored_default(api)
    upstream.clear()
    step = {
        "provider": "openai",
        "endpoint": "chat/completions",
        "headers": {"authorization": value},
        "query": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
    }
    refused = await http.post(api.data("g"), json=[step], headers=GW_AUTH)
    assert refused.status_code == 400, refused.text
    assert "x-injected" not in refused.text.lower()
    assert not upstream.requests


@pytest.mark.parametrize(
    "authorization", [f"bearer {TOKEN}", f"Bearer   {TOKEN}", TOKEN, f"BEARER {TOKEN}"]
)
async def test_the_gateway_token_however_spelt_is_never_forwarded_to_a_provider(
    byok_gw: LocalGateway, http: httpx.AsyncClient, upstream: FaultServer, authorization: str
) -> None:
    """Only `Authorization` byte-equal to `cf-aig-authorization` counted as the gateway token:
    `bearer <token>` (the gateway accepts any case) went to OpenAI as the caller's own key."""
    api = Api(byok_gw, http, "acct-gw-token")
    await _stored_default(api)
    upstream.clear()
    served = await _openai_chat(api, "g", {**GW_AUTH, "authorization": authorization})
    assert served.status_code == 200, served.text
    assert [r.headers["authorization"] for r in upstream.requests] == [f"Bearer {SECRET}"]


def test_a_sliding_budget_keeps_bounded_memory_under_steady_traffic() -> None:
    """A sliding rule kept one entry per charge for its whole window and summed them all on
    every check: a day's window under steady traffic grew without bound (and each check slowed
    with it, 1.4 ms at 50,000 charges). Now it keeps about `SLIDING_SLOTS` slots, and the
    budget still frees up as charges age, never before they leave the window."""
    from aigateway_sdk.contract.spend import SpendLimits, SpendRule
    from aigateway_sdk.local.policies.spend import SLIDING_SLOTS, SpendLedger, Usage

    window = 86_400
    limits = SpendLimits(rules=[SpendRule(limit=1e6, window=window, technique="sliding")])
    ledger, usage, scope = SpendLedger(), Usage("workers-ai", "m", {}), ("a", "g")
    start, step, count = 1_000_000.0, 10.0, 20_000  # two windows and more of 0.1 every 10 s
    for i in range(count):
        ledger.charge(scope, limits, usage, 0.1, start + i * step)
    bucket = next(iter(ledger._gateways[scope].values()))
    assert len(bucket.charges) <= SLIDING_SLOTS + 1  # type: ignore[union-attr]
    rule, last, slot = limits.rules[0], start + (count - 1) * step, window / SLIDING_SLOTS

    def in_window(seconds: float) -> float:
        """What the charges of the trailing `seconds` (of those made) add up to."""
        return 0.1 * math.ceil(seconds / step)

    # what is counted: every charge still inside the window, and at most one slot more
    for at in (last, last + window / 2, last + window - 1):
        spent = ledger.spent(scope, rule, usage, at)
        inside = window - (at - last)
        assert in_window(inside) - 1e-9 <= spent <= in_window(inside + slot) + 1e-9
    assert ledger.spent(scope, rule, usage, last + window) == 0


def test_a_flood_of_new_partition_values_does_not_rescan_every_budget_per_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A full gateway searched all its 10,000 budgets for empty ones on every request with a
    new partition value (11 ms a request with a sliding rule, times each partitioned rule):
    anyone with the gateway token could stall the event loop by sending distinct values. Now a
    search runs at most once every `PRUNE_EVERY` seconds; memory stays bounded as before."""
    from aigateway_sdk.contract.spend import SpendLimits, SpendPartition, SpendRule
    from aigateway_sdk.local.policies import spend

    rule = SpendRule(limit=1e6, window=3600, metadata={"u": SpendPartition()})
    limits, ledger, scope = SpendLimits(rules=[rule]), spend.SpendLedger(), ("a", "g")
    for user in range(spend.MAX_BUCKETS_PER_GATEWAY):
        ledger.charge(scope, limits, spend.Usage("workers-ai", "m", {"u": user}), 0.01, 10.0)
    reads = 0
    real_spent = spend._Fixed.spent

    def counting(self: spend._Fixed, now: float) -> float:
        nonlocal reads
        reads += 1
        return real_spent(self, now)

    monkeypatch.setattr(spend._Fixed, "spent", counting)
    for user in range(200):  # a flood of new values within one second
        usage = spend.Usage("workers-ai", "m", {"u": f"new-{user}"})
        ledger.check(scope, limits, usage, 10.5)
        ledger.charge(scope, limits, usage, 0.01, 10.5)
    assert reads < 2 * spend.MAX_BUCKETS_PER_GATEWAY
    assert len(ledger._gateways[scope]) <= spend.MAX_BUCKETS_PER_GATEWAY + 1
    # once the old window has passed, a later newcomer still frees the empty budgets
    ledger.charge(scope, limits, spend.Usage("workers-ai", "m", {"u": "late"}), 0.01, 7300.0)
    assert len(ledger._gateways[scope]) <= 2


async def test_an_unknown_model_error_quotes_a_long_id_bounded_on_every_route(
    api: Api, http: httpx.AsyncClient
) -> None:
    """A 5,000-character `@cf/...` id came back whole in the 5007 message (the id is the
    caller's, up to the 1 MB body): now its first `MODEL_ECHO_MAX` characters, then `...`."""
    from aigateway_sdk.contract.catalog import MODEL_ECHO_MAX

    await api.create("g")
    model = "@cf/acme/" + "x" * 5000
    headers = {**AUTH, **GW_AUTH}
    chat = {"messages": [{"role": "user", "content": "hi"}]}
    step = {
        "provider": "workers-ai",
        "endpoint": model,
        "headers": AUTH,
        "query": {"prompt": "hi"},
    }
    replies = [
        await http.post(
            api.data("g", f"workers-ai/{model}"), json={"prompt": "hi"}, headers=headers
        ),
        await http.post(
            api.data("g", "compat/chat/completions"),
            json={"model": f"workers-ai/{model}", **chat},
            headers=headers,
        ),
        await http.post(
            api.data("g", "workers-ai/v1/chat/completions"),
            json={"model": model, **chat},
            headers=headers,
        ),
        await http.post(api.data("g"), json=[step], headers=headers),
    ]
    for served in replies:
        assert served.status_code == 400, served.text
        (error,) = served.json()["errors"]
        assert error["code"] == 5007
        assert error["message"].startswith(f"No such model {model[:MODEL_ECHO_MAX]}...")
        assert len(served.content) < 1_000


async def test_an_unknown_provider_config_or_gateway_id_is_quoted_bounded(
    api: Api, http: httpx.AsyncClient
) -> None:
    """The 404 quoted the id from the URL whole (60,000 characters came back)."""
    await api.create("g", authentication=True)
    long_key = await http.delete(api.control("/g/provider_configs/" + "k" * 60_000), headers=AUTH)
    long_gateway = await http.get(
        api.control("/" + "g" * 5_000 + "/provider_configs"), headers=AUTH
    )
    for missing in (long_key, long_gateway):
        assert missing.status_code == 404
        (error,) = missing.json()["errors"]
        assert error["message"].endswith("... not found")
        assert len(missing.content) < 1_000


async def test_a_world_readable_wal_left_by_an_earlier_run_is_narrowed_to_the_owner(
    tmp_path: Path, http: httpx.AsyncClient
) -> None:
    """SQLite reuses an existing `-wal` / `-shm` with the permissions it finds: left 0644 by an
    earlier run (or a copy), the WAL took every key stored from then on, world-readable."""
    import os
    import shutil
    import sqlite3
    import stat

    # what a crash leaves: the database with its WAL and shared memory, world-readable
    running = tmp_path / "running.db"
    conn = sqlite3.connect(running, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE kept (x)")
    conn.execute("INSERT INTO kept VALUES (1)")
    db = tmp_path / "gw.db"
    for suffix in ("", "-wal", "-shm"):
        shutil.copyfile(f"{running}{suffix}", f"{db}{suffix}")
        os.chmod(f"{db}{suffix}", 0o644)
    conn.close()
    with LocalGateway(LocalGatewayConfig(db_path=db, api_token=TOKEN)) as gateway:
        api = Api(gateway, http, "acct-wal")
        await api.create("g", authentication=True)
        stored = await http.post(
            api.control("/g/provider_configs"), json=_key("default", SECRET), headers=AUTH
        )
        assert stored.status_code == 200
        for suffix in ("", "-wal", "-shm"):
            mode = stat.S_IMODE(os.stat(f"{db}{suffix}").st_mode)
            assert mode == 0o600, (suffix, oct(mode))
