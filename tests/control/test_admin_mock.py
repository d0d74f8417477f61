"""GatewayAdmin and LogsClient against httpx.MockTransport: the wire requests they send and
how they read replies and failures (no server; the end-to-end tests use the local gateway)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from aigateway_sdk.control.admin import GatewayAdmin
from aigateway_sdk.control.logs import LogFilter
from aigateway_sdk.control.plan import NoChange
from aigateway_sdk.control.spec import AiGateway
from aigateway_sdk.errors import (
    AiError,
    AuthenticationFailed,
    Conflict,
    InvalidRequest,
    MalformedOutput,
    NotFound,
    UnexpectedStatus,
)
from aigateway_sdk.transport.retry import RetryPolicy
from aigateway_sdk.validation import ValidationError

pytestmark = pytest.mark.anyio

BASE = "https://api.test/client/v4"
ROOT = f"{BASE}/accounts/acct/ai-gateway"
FAST = RetryPolicy(max_retries=2, initial_delay=0.0, jitter=0.0)
STAMP = "2026-01-01T00:00:00Z"


def gateway_json(gateway_id: str, **settings: Any) -> dict[str, Any]:
    return {
        "id": gateway_id,
        **AiGateway("G", id=gateway_id, **settings).settings_json(),
        "created_at": STAMP,
        "modified_at": STAMP,
    }


def ok(result: Any, **info: Any) -> httpx.Response:
    body: dict[str, Any] = {"success": True, "errors": [], "messages": [], "result": result}
    if info:
        body["result_info"] = info
    return httpx.Response(200, json=body)


def fail(status: int, code: int, message: str, **extra: Any) -> httpx.Response:
    error = {"code": code, "message": message, **extra}
    return httpx.Response(status, json={"success": False, "errors": [error], "result": None})


Handler = Callable[[httpx.Request], httpx.Response]


def admin_with(handler: Handler) -> tuple[GatewayAdmin, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(record))
    return GatewayAdmin("acct", "tok", BASE, client=client, retry=FAST), seen


async def test_construction_does_no_io_and_close_is_idempotent() -> None:
    admin = GatewayAdmin("acct", "tok")  # no client yet: nothing to connect or close
    await admin.aclose()
    await admin.aclose()


@pytest.mark.parametrize(("account", "token"), [("", "tok"), ("acct", "a\nb"), ("acct", " ")])
def test_bad_credentials_are_refused_when_built(account: str, token: str) -> None:
    with pytest.raises(ValidationError):
        GatewayAdmin(account, token)


async def test_owned_client_is_closed_and_reopened_on_next_call() -> None:
    admin = GatewayAdmin("acct", "tok", "http://127.0.0.1:9")
    first = admin._api.client
    await admin.aclose()
    assert first.is_closed
    assert admin._api.client is not first
    await admin.aclose()


async def test_get_sends_token_and_reads_a_typed_gateway() -> None:
    admin, seen = admin_with(lambda r: ok(gateway_json("g", cache_ttl=60)))
    async with admin:
        gateway = await admin.get("g")
    assert seen[0].url == f"{ROOT}/gateways/g"
    assert seen[0].headers["authorization"] == "Bearer tok"
    assert gateway.id == "g"
    assert gateway.cache_ttl == 60
    assert gateway.created_at.year == 2026


async def test_passed_in_client_is_left_open() -> None:
    client = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: ok([])))
    async with GatewayAdmin("acct", "tok", BASE, client=client) as admin:
        assert [g async for g in admin.list()] == []
    assert not client.is_closed
    await client.aclose()


async def test_update_puts_every_setting_without_the_id() -> None:
    admin, seen = admin_with(lambda r: ok(gateway_json("g", cache_ttl=5)))
    async with admin:
        await admin.update(AiGateway("G", id="g", cache_ttl=5))
    request = seen[0]
    assert (request.method, str(request.url)) == ("PUT", f"{ROOT}/gateways/g")
    body = json.loads(request.content)
    assert "id" not in body
    assert body["cache_ttl"] == 5
    assert body["rate_limiting_technique"] == "fixed"


async def test_create_posts_id_and_settings() -> None:
    admin, seen = admin_with(lambda r: ok(gateway_json("g")))
    async with admin:
        await admin.create(AiGateway("G", id="g"))
    assert seen[0].method == "POST"
    assert json.loads(seen[0].content)["id"] == "g"


async def test_create_does_not_repeat_after_conflict_but_retries_a_5xx() -> None:
    replies = iter([httpx.Response(503), fail(409, 1000, "exists"), ok(gateway_json("g"))])
    admin, seen = admin_with(lambda r: next(replies))
    async with admin:
        with pytest.raises(AiError) as error:
            await admin.create(AiGateway("G", id="g"))
    assert isinstance(error.value.reason, Conflict)
    assert len(seen) == 2  # the 503 was retried, the 409 was not


async def test_duplicate_reported_as_400_is_a_conflict() -> None:
    admin, _ = admin_with(lambda r: fail(400, 7001, "Gateway g already exists"))
    async with admin:
        with pytest.raises(AiError) as error:
            await admin.create(AiGateway("G", id="g"))
    assert isinstance(error.value.reason, Conflict)
    assert error.value.reason.code == 7001


async def test_apply_after_losing_a_create_race_plans_again() -> None:
    state: dict[str, Any] = {"gets": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            state["gets"] += 1
            if state["gets"] == 1:
                return fail(404, 7002, "not found")
            return ok(gateway_json("g", cache_ttl=5))
        assert request.method == "POST"
        return fail(409, 1000, "already exists")

    admin, seen = admin_with(handler)
    async with admin:
        result = await admin.apply(AiGateway("G", id="g", cache_ttl=5))
    assert isinstance(result.plan, NoChange)
    assert result.action == "unchanged"
    assert [r.method for r in seen] == ["GET", "POST", "GET"]


async def test_validation_error_carries_cloudflare_details() -> None:
    admin, _ = admin_with(lambda r: fail(400, 7003, "cache_ttl must be >= 0", path=["cache_ttl"]))
    async with admin:
        with pytest.raises(AiError) as error:
            await admin.update(AiGateway("G", id="g"))
    reason = error.value.reason
    assert isinstance(reason, InvalidRequest)
    assert reason.status == 400
    assert reason.code == 7003
    assert reason.details[0].path == ("cache_ttl",)


async def test_bad_token_is_authentication_failed() -> None:
    admin, _ = admin_with(lambda r: fail(401, 10000, "Authentication error"))
    async with admin:
        with pytest.raises(AiError) as error:
            await admin.get("g")
    assert isinstance(error.value.reason, AuthenticationFailed)


async def test_destroy_of_an_absent_gateway_is_fine() -> None:
    admin, _ = admin_with(lambda r: fail(404, 7002, "not found"))
    async with admin:
        assert await admin.destroy("g") is False
        with pytest.raises(AiError) as error:
            await admin.delete("g")
    assert isinstance(error.value.reason, NotFound)


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(200, json=["not", "an", "envelope"]),
        httpx.Response(200, json={"success": True, "result": {"id": 5}}),
        httpx.Response(
            200, json={"success": True, "result": {**gateway_json("g"), "cache_ttl": -3}}
        ),
        httpx.Response(
            200, json={"success": True, "result": {**gateway_json("g"), "created_at": "x"}}
        ),
    ],
)
async def test_malformed_replies_are_typed(reply: httpx.Response) -> None:
    admin, _ = admin_with(lambda r: reply)
    async with admin:
        with pytest.raises(AiError) as error:
            await admin.get("g")
    assert isinstance(error.value.reason, MalformedOutput)


async def test_list_walks_pages_until_a_short_one() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        per_page = int(request.url.params["per_page"])
        ids = [f"g{i}" for i in range(5)][(page - 1) * per_page : page * per_page]
        return ok([gateway_json(i) for i in ids])

    admin, seen = admin_with(handler)
    async with admin:
        ids = [g.id async for g in admin.list(per_page=2)]
    assert ids == ["g0", "g1", "g2", "g3", "g4"]
    assert len(seen) == 3


async def test_list_stops_at_total_count() -> None:
    admin, seen = admin_with(lambda r: ok([gateway_json("a"), gateway_json("b")], total_count=2))
    async with admin:
        assert [g.id async for g in admin.list(per_page=2)] == ["a", "b"]
    assert len(seen) == 1


def log_json(log_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": log_id,
        "created_at": STAMP,
        "provider": "workers-ai",
        "model": "@cf/meta/llama-3.1-8b-instruct",
        "path": "workers-ai/@cf/meta/llama-3.1-8b-instruct",
        "success": True,
        "cached": False,
        "duration": 12,
        "tokens_in": 3,
        "tokens_out": 7,
        "metadata": '{"user": "u1", "n": 2}',
        **extra,
    }


async def test_logs_list_sends_filters_order_and_paging() -> None:
    admin, seen = admin_with(lambda r: ok([log_json("l1")]))
    filters = [LogFilter("success", "eq", True), LogFilter("tokens_out", "gt", 5)]
    async with admin:
        entries = [
            e
            async for e in admin.logs("gw").list(
                filters=filters, order_by="duration", direction="asc", per_page=10
            )
        ]
    params = seen[0].url.params
    assert seen[0].url.path.endswith("/accounts/acct/ai-gateway/gateways/gw/logs")
    assert params.get_list("filters.key") == ["success", "tokens_out"]
    assert params.get_list("filters.operator") == ["eq", "gt"]
    assert params.get_list("filters.value") == ["true", "5"]
    assert params["order_by"] == "duration"
    assert params["order_by_direction"] == "asc"
    assert params["per_page"] == "10"
    assert entries[0].metadata == {"user": "u1", "n": 2}
    assert entries[0].tokens_out == 7


async def test_logs_limit_stops_fetching() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        per_page = int(request.url.params["per_page"])
        page = int(request.url.params["page"])
        return ok([log_json(f"l{page}-{i}") for i in range(per_page)])

    admin, seen = admin_with(handler)
    async with admin:
        ids = [e.id async for e in admin.logs("gw").list(limit=3, per_page=2)]
    assert ids == ["l1-0", "l1-1", "l2-0"]
    assert len(seen) == 2


async def test_logs_patch_sends_only_given_fields() -> None:
    admin, seen = admin_with(lambda r: ok({}))
    async with admin:
        await admin.logs("gw").patch("l1", feedback=1, metadata={"k": "v"})
    assert seen[0].method == "PATCH"
    assert json.loads(seen[0].content) == {"feedback": 1, "metadata": {"k": "v"}}


async def test_logs_delete_sends_filters_and_limit() -> None:
    admin, seen = admin_with(lambda r: ok(None))
    async with admin:
        await admin.logs("gw").delete(filters=[LogFilter("cached", "eq", False)], limit=5)
    assert seen[0].method == "DELETE"
    assert seen[0].url.params.get_list("filters.key") == ["cached"]
    assert seen[0].url.params["limit"] == "5"


def test_log_filter_parse() -> None:
    assert LogFilter.parse("success=eq:false") == LogFilter("success", "eq", False)
    assert LogFilter.parse("model=contains:llama:3") == LogFilter("model", "contains", "llama:3")
    assert str(LogFilter("tokens_out", "gt", 10)) == "tokens_out=gt:10"


async def test_apply_recreates_a_gateway_deleted_while_updating() -> None:
    state = {"gets": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            state["gets"] += 1
            if state["gets"] == 1:
                return ok(gateway_json("g", cache_ttl=1))  # exists with other settings
            return fail(404, 7002, "not found")  # ... then someone deletes it
        if request.method == "PUT":
            return fail(404, 7002, "not found")
        return ok(gateway_json("g", cache_ttl=5))

    admin, seen = admin_with(handler)
    async with admin:
        result = await admin.apply(AiGateway("G", id="g", cache_ttl=5))
    assert result.action == "created"
    assert [r.method for r in seen] == ["GET", "PUT", "GET", "POST"]


async def test_apply_gives_up_after_repeated_races() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return fail(404, 7002, "not found")
        return fail(409, 1000, "already exists")  # never visible, always taken

    admin, seen = admin_with(handler)
    async with admin:
        with pytest.raises(AiError) as error:
            await admin.apply(AiGateway("G", id="g"))
    assert isinstance(error.value.reason, Conflict)
    assert [r.method for r in seen].count("POST") == 3


async def test_create_retries_stop_at_max_total_delay() -> None:
    """The create's retries go through the shared loop: waits of 0.01 s in a budget of
    0.015 s allow one retry, where max_retries allows five (the old loop ignored the budget)."""
    policy = RetryPolicy(
        max_retries=5, initial_delay=0.01, multiplier=1, jitter=0, max_total_delay=0.015
    )
    client = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(503)))
    seen = 0

    async def count(request: httpx.Request) -> None:
        nonlocal seen
        seen += 1

    client.event_hooks["request"].append(count)
    async with client, GatewayAdmin("acct", "tok", BASE, client=client, retry=policy) as admin:
        with pytest.raises(AiError) as error:
            await admin.create(AiGateway("G", id="g"))
    assert error.value.status == 503
    assert seen == 2


async def test_success_false_on_a_2xx_is_read_by_the_shared_error_map() -> None:
    body = {
        "success": False,
        "errors": [{"code": 7010, "message": "not today", "path": ["id"]}],
        "result": None,
    }
    admin, _ = admin_with(
        lambda r: httpx.Response(200, json=body, headers={"cf-aig-log-id": "01L"})
    )
    async with admin:
        with pytest.raises(AiError) as error:
            await admin.get("g")
    reason = error.value.reason
    assert isinstance(reason, UnexpectedStatus)
    assert (reason.message, reason.status, reason.code) == ("not today", 200, 7010)
    assert reason.details[0].path == ("id",)
    assert reason.log_id == "01L"


async def test_a_taken_id_reported_as_400_is_a_conflict_with_the_log_id() -> None:
    reply = fail(400, 7001, "Gateway g already exists")
    reply.headers["cf-aig-log-id"] = "01L"
    admin, seen = admin_with(lambda r: reply)
    async with admin:
        with pytest.raises(AiError) as error:
            await admin.create(AiGateway("G", id="g"))
    assert isinstance(error.value.reason, Conflict)
    assert error.value.log_id == "01L"
    assert len(seen) == 1
