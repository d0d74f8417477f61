"""The request log against the local gateway: every filter operator, ordering, paging across
pages, one entry and its bodies, feedback and deletion."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from aigateway_sdk.control import AiGateway, GatewayAdmin, LogEntry, LogFilter, LogsClient
from aigateway_sdk.errors import AiError, InvalidRequest, NotFound
from aigateway_sdk.local import LocalGateway

from .conftest import TOKEN, call_model

pytestmark = pytest.mark.anyio

COUNT = 12
FAILED = 5  # the entry whose request is invalid (logged with success false)
_fresh = itertools.count()


def prompt_for(i: int) -> str:
    return " ".join(["word"] * (i % 4 + 1))  # the built-in model counts one token a word


def event_for(i: int) -> str:
    return f"{'a' if i < 6 else 'b'}-{i}"


def make_logs(gw: LocalGateway, account: str, gateway_id: str) -> list[str]:
    """COUNT logged calls, oldest first; returns their log ids."""

    with httpx.Client() as client:
        created = client.post(
            f"{gw.api_url}/accounts/{account}/ai-gateway/gateways",
            json=AiGateway("G", id=gateway_id, collect_logs=True).create_json(),
            headers={"authorization": f"Bearer {TOKEN}"},
        )
        assert created.status_code == 200
        ids = [_logged_call(gw, account, gateway_id, i, client) for i in range(COUNT)]
    return ids


def _logged_call(
    gw: LocalGateway, account: str, gateway_id: str, i: int, client: httpx.Client
) -> str:
    reply = call_model(
        gw,
        account,
        gateway_id,
        prompt_for(i),
        body={"prompt": 5} if i == FAILED else None,
        headers={
            "cf-aig-event-id": event_for(i),
            "cf-aig-metadata": json.dumps({"batch": event_for(i)[0], "i": i}),
        },
        client=client,
    )
    assert reply.status_code == (400 if i == FAILED else 200)
    return str(reply.headers["cf-aig-log-id"])


@pytest.fixture(scope="module")
def shared(gw: LocalGateway) -> tuple[str, str, list[str]]:
    """One gateway with COUNT entries, read (never changed) by the listing tests."""
    account, gateway_id = "logs-acct", "logs-gw"
    return account, gateway_id, make_logs(gw, account, gateway_id)


@pytest.fixture
def fresh(gw: LocalGateway) -> tuple[str, str, list[str]]:
    """A gateway of its own with COUNT entries, for tests that change or delete logs."""
    n = next(_fresh)
    account, gateway_id = f"logs-fresh-{n}", "gw"
    return account, gateway_id, make_logs(gw, account, gateway_id)


@pytest.fixture
async def logs_of(gw: LocalGateway) -> AsyncIterator[Any]:
    admins: list[GatewayAdmin] = []

    def open_logs(
        account: str, gateway_id: str, client: httpx.AsyncClient | None = None
    ) -> LogsClient:
        admin = GatewayAdmin(account, TOKEN, gw.api_url, client=client)
        admins.append(admin)
        return admin.logs(gateway_id)

    yield open_logs
    for admin in admins:
        await admin.aclose()


async def collect(entries: AsyncIterator[LogEntry]) -> list[LogEntry]:
    return [entry async for entry in entries]


def events(entries: list[LogEntry]) -> list[str | None]:
    return [entry.event_id for entry in entries]


async def test_pages_through_every_entry_newest_first(
    logs_of: Any, shared: tuple[str, str, list[str]]
) -> None:
    account, gateway_id, ids = shared
    pages: list[httpx.Request] = []

    async def count(request: httpx.Request) -> None:
        if request.url.path.endswith("/logs"):
            pages.append(request)

    async with httpx.AsyncClient(event_hooks={"request": [count]}) as client:
        logs = logs_of(account, gateway_id, client)
        newest_first = await collect(logs.list(per_page=5))
        oldest_first = await collect(logs.list(per_page=5, direction="asc"))
    assert [e.id for e in newest_first] == list(reversed(ids))
    assert [e.id for e in oldest_first] == ids
    assert len(pages) == 6  # 5 + 5 + 2, twice
    assert [r.url.params["page"] for r in pages[:3]] == ["1", "2", "3"]


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_limit_stops_early(logs_of: Any, shared: tuple[str, str, list[str]]) -> None:
    account, gateway_id, ids = shared
    entries = await collect(logs_of(account, gateway_id).list(per_page=5, limit=7))
    assert [e.id for e in entries] == list(reversed(ids))[:7]


@pytest.mark.parametrize(
    ("log_filter", "expected"),
    [
        (LogFilter("event_id", "eq", "a-3"), {3}),
        (LogFilter("event_id", "neq", "a-3"), set(range(COUNT)) - {3}),
        (LogFilter("event_id", "contains", "b-"), set(range(6, COUNT))),
        (LogFilter("success", "eq", False), {FAILED}),
        (LogFilter("success", "neq", False), set(range(COUNT)) - {FAILED}),
        (LogFilter("tokens_in", "gt", 3), {i for i in range(COUNT) if i % 4 == 3 and i != FAILED}),
        (LogFilter("tokens_in", "lt", 2), {i for i in range(COUNT) if i % 4 == 0}),
        (LogFilter("status_code", "eq", 400), {FAILED}),
        (LogFilter("metadata.value", "eq", "b"), set(range(6, COUNT))),
        (LogFilter("model", "contains", "llama"), set(range(COUNT))),
    ],
    ids=str,
)
async def test_each_filter_operator(
    logs_of: Any, shared: tuple[str, str, list[str]], log_filter: LogFilter, expected: set[int]
) -> None:
    account, gateway_id, _ = shared
    entries = await collect(logs_of(account, gateway_id).list(filters=[log_filter], per_page=4))
    assert {int(str(e.event_id).split("-")[1]) for e in entries} == expected
    assert len(entries) == len(expected)


async def test_filters_combine_with_and(logs_of: Any, shared: tuple[str, str, list[str]]) -> None:
    account, gateway_id, _ = shared
    entries = await collect(
        logs_of(account, gateway_id).list(
            filters=[LogFilter("event_id", "contains", "a-"), LogFilter("tokens_in", "gt", 1)],
            order_by="created_at",
            direction="asc",
        )
    )
    assert events(entries) == ["a-1", "a-2", "a-3"]


async def test_created_at_range(logs_of: Any, shared: tuple[str, str, list[str]]) -> None:
    account, gateway_id, _ = shared
    logs = logs_of(account, gateway_id)
    everything = await collect(logs.list(direction="asc"))
    pivot = everything[0].created_at.isoformat()
    later = await collect(logs.list(filters=[LogFilter("created_at", "gt", pivot)]))
    assert all(e.created_at > everything[0].created_at for e in later)
    assert everything[0].id not in {e.id for e in later}


async def test_entry_fields_and_stored_bodies(
    logs_of: Any, shared: tuple[str, str, list[str]]
) -> None:
    account, gateway_id, ids = shared
    logs = logs_of(account, gateway_id)
    entry = await logs.get(ids[2])
    assert entry.id == ids[2]
    assert entry.event_id == "a-2"
    assert entry.metadata == {"batch": "a", "i": 2}
    assert entry.success is True
    assert entry.status_code == 200
    assert entry.tokens_in == 3
    assert entry.provider == "workers-ai"
    assert entry.request_size == len(json.dumps({"prompt": prompt_for(2)}, separators=(",", ":")))
    request = await logs.request_body(ids[2])
    assert request.json() == {"prompt": prompt_for(2)}
    response = await logs.response_body(ids[2])
    assert isinstance(response.json()["result"]["response"], str)
    assert not response.truncated


async def test_missing_log_is_not_found(logs_of: Any, shared: tuple[str, str, list[str]]) -> None:
    account, gateway_id, _ = shared
    with pytest.raises(AiError) as error:
        await logs_of(account, gateway_id).get("01ZZZZZZZZZZZZZZZZZZZZZZZZ")
    assert isinstance(error.value.reason, NotFound)


async def test_unknown_filter_key_is_invalid_request(
    logs_of: Any, shared: tuple[str, str, list[str]]
) -> None:
    account, gateway_id, _ = shared
    with pytest.raises(AiError) as error:
        await collect(logs_of(account, gateway_id).list(filters=[LogFilter("nope", "eq", 1)]))
    assert isinstance(error.value.reason, InvalidRequest)
    assert error.value.status == 400


async def test_patch_feedback_score_and_metadata(
    logs_of: Any, fresh: tuple[str, str, list[str]]
) -> None:
    account, gateway_id, ids = fresh
    logs = logs_of(account, gateway_id)
    await logs.patch(ids[0], feedback=1, score=87.5, metadata={"reviewed": True})
    entry = await logs.get(ids[0])
    assert entry.feedback == 1
    assert entry.score == 87.5
    assert entry.metadata == {"reviewed": True}
    liked = await collect(logs.list(filters=[LogFilter("feedback", "eq", 1)]))
    assert [e.id for e in liked] == [ids[0]]


async def test_delete_by_filter(logs_of: Any, fresh: tuple[str, str, list[str]]) -> None:
    account, gateway_id, ids = fresh
    logs = logs_of(account, gateway_id)
    deleted = await logs.delete(filters=[LogFilter("event_id", "contains", "b-")])
    assert deleted == COUNT - 6
    remaining = await collect(logs.list(direction="asc"))
    assert [e.id for e in remaining] == ids[:6]
    assert await logs.delete(filters=[LogFilter("success", "eq", False)]) == 1
    assert len(await collect(logs.list())) == 5
