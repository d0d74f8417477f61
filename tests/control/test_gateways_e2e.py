"""Gateways as code against the local gateway over real HTTP: the whole lifecycle, listing,
typed errors and concurrent applies."""

from __future__ import annotations

import anyio
import attrs
import pytest

from aigateway_sdk.control import (
    AiGateway,
    Create,
    FieldChange,
    GatewayAdmin,
    NoChange,
    Update,
    ensure_gateway,
)
from aigateway_sdk.errors import AiError, AuthenticationFailed, Conflict, NotFound
from aigateway_sdk.local import LocalGateway
from aigateway_sdk.transport.retry import NO_RETRY

from .conftest import TOKEN

pytestmark = pytest.mark.anyio


def admin_for(gw: LocalGateway, account: str, token: str = TOKEN) -> GatewayAdmin:
    return GatewayAdmin(account, token, gw.api_url)


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_lifecycle_create_change_plan_apply_reapply_destroy(
    gw: LocalGateway, account: str, gateway_id: str
) -> None:
    spec = AiGateway(
        "Gateway",
        id=gateway_id,
        cache_ttl=300,
        rate_limiting_limit=100,
        rate_limiting_interval=60,
        rate_limiting_technique="sliding",
    )
    async with admin_for(gw, account) as admin:
        first_plan = await admin.plan(spec)
        assert isinstance(first_plan, Create)

        created = await admin.apply(spec)
        assert created.action == "created"
        assert created.gateway.cache_ttl == 300
        assert created.gateway.rate_limiting_technique == "sliding"

        changed = attrs.evolve(spec, cache_ttl=60, authentication=True, retry_backoff="linear")
        plan = await admin.plan(changed)
        assert isinstance(plan, Update)
        assert plan.changes == (
            FieldChange("cache_ttl", 300, 60),
            FieldChange("authentication", False, True),
            FieldChange("retry_backoff", None, "linear"),
        )

        updated = await admin.apply(changed)
        assert updated.action == "updated"
        assert updated.gateway.created_at == created.gateway.created_at  # in place
        assert updated.gateway.modified_at >= created.gateway.modified_at
        fetched = await admin.get(gateway_id)
        assert fetched.settings() == changed.settings()
        assert fetched.created_at == created.gateway.created_at

        again = await admin.apply(changed)
        assert again.action == "unchanged"
        assert isinstance(again.plan, NoChange)
        assert again.gateway.modified_at == fetched.modified_at  # nothing was written

        assert await admin.destroy(changed) is True
        with pytest.raises(AiError) as error:
            await admin.get(gateway_id)
        assert isinstance(error.value.reason, NotFound)
        assert error.value.status == 404
        assert await admin.destroy(changed) is False


async def test_update_puts_back_defaults_for_fields_left_out(
    gw: LocalGateway, account: str, gateway_id: str
) -> None:
    async with admin_for(gw, account) as admin:
        await admin.apply(AiGateway("G", id=gateway_id, log_management=20_000, retry_delay=100))
        result = await admin.apply(AiGateway("G", id=gateway_id))
        assert [c.field for c in result.plan.changes] == ["log_management", "retry_delay"]
        assert result.gateway.log_management is None
        assert result.gateway.retry_delay is None


async def test_create_of_an_existing_id_is_a_conflict(
    gw: LocalGateway, account: str, gateway_id: str
) -> None:
    spec = AiGateway("G", id=gateway_id)
    async with admin_for(gw, account) as admin:
        await admin.create(spec)
        with pytest.raises(AiError) as error:
            await admin.create(spec)
        assert isinstance(error.value.reason, Conflict)


async def test_update_of_a_missing_gateway_is_not_found(
    gw: LocalGateway, account: str, gateway_id: str
) -> None:
    async with admin_for(gw, account) as admin:
        with pytest.raises(AiError) as error:
            await admin.update(AiGateway("G", id=gateway_id))
    assert isinstance(error.value.reason, NotFound)


async def test_wrong_token_is_authentication_failed(gw: LocalGateway, account: str) -> None:
    async with GatewayAdmin(account, "wrong", gw.api_url, retry=NO_RETRY) as admin:
        with pytest.raises(AiError) as error:
            await admin.get("default")
    assert isinstance(error.value.reason, AuthenticationFailed)
    assert error.value.status == 401


async def test_list_pages_through_every_gateway(
    gw: LocalGateway, account: str, gateway_id: str
) -> None:
    ids = [f"{gateway_id}-list-{i}" for i in range(7)]
    async with admin_for(gw, account) as admin:
        for one in ids:
            await admin.create(AiGateway("G", id=one))
        listed = [g.id async for g in admin.list(per_page=2)]
        searched = [g.id async for g in admin.list(per_page=3, search=f"{gateway_id}-list-")]
    assert set(ids) <= set(listed)
    assert len(listed) == len(set(listed))  # no page read twice
    assert sorted(searched) == sorted(ids)


async def test_concurrent_applies_of_one_spec_create_it_once(
    gw: LocalGateway, account: str, gateway_id: str
) -> None:
    spec = AiGateway("G", id=gateway_id, cache_ttl=120, collect_logs=True)
    actions: list[str] = []
    async with admin_for(gw, account) as admin:

        async def apply_once() -> None:
            result = await admin.apply(spec)
            assert result.gateway.settings() == spec.settings()
            actions.append(result.action)

        async with anyio.create_task_group() as group:
            for _ in range(8):
                group.start_soon(apply_once)

        assert actions.count("created") == 1
        assert actions.count("unchanged") == 7
        matching = [g async for g in admin.list(search=gateway_id) if g.id == gateway_id]
        assert len(matching) == 1


async def test_concurrent_applies_of_a_change_converge(
    gw: LocalGateway, account: str, gateway_id: str
) -> None:
    async with admin_for(gw, account) as admin:
        created = await admin.apply(AiGateway("G", id=gateway_id))
        target = AiGateway("G", id=gateway_id, cache_ttl=30, authentication=True)
        results = []

        async def apply_once() -> None:
            results.append(await admin.apply(target))

        async with anyio.create_task_group() as group:
            for _ in range(6):
                group.start_soon(apply_once)

        assert all(r.gateway.settings() == target.settings() for r in results)
        assert {r.action for r in results} <= {"updated", "unchanged"}
        final = await admin.get(gateway_id)
        assert final.created_at == created.gateway.created_at
        assert isinstance(await admin.plan(target), NoChange)


async def test_ensure_gateway_returns_the_applied_gateway(
    gw: LocalGateway, account: str, gateway_id: str
) -> None:
    spec = AiGateway("G", id=gateway_id, cache_ttl=42)
    async with admin_for(gw, account) as admin:
        first = await ensure_gateway(admin, spec)
        second = await ensure_gateway(admin, spec)
    assert first.id == gateway_id
    assert first.cache_ttl == 42
    assert second.modified_at == first.modified_at
