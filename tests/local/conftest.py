"""Real local gateways on loopback.

Most tests share one gateway per session and get isolation from a fresh account id each (state
is per account on the gateway, as at Cloudflare); the manual clock is reset for every test.
Tests that need their own configuration or a restart start their own gateway from `config`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from aigateway_sdk.local import LocalGateway, LocalGatewayConfig, ManualClock
from tests.local.helpers import START, TOKEN, Api, async_client


@pytest.fixture(scope="session")
def shared_clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture(scope="session")
def shared_gw(
    tmp_path_factory: pytest.TempPathFactory, shared_clock: ManualClock
) -> Iterator[LocalGateway]:
    db = tmp_path_factory.mktemp("shared") / "gw.db"
    with LocalGateway(LocalGatewayConfig(db_path=db, api_token=TOKEN, clock=shared_clock)) as gw:
        yield gw


@pytest.fixture(scope="session")
def shared_open_gw(
    tmp_path_factory: pytest.TempPathFactory, shared_clock: ManualClock
) -> Iterator[LocalGateway]:
    """A gateway without an api token: any bearer token is accepted."""
    db = tmp_path_factory.mktemp("open") / "gw.db"
    with LocalGateway(LocalGatewayConfig(db_path=db, api_token=None, clock=shared_clock)) as gw:
        yield gw


@pytest.fixture
def clock(shared_clock: ManualClock) -> ManualClock:
    shared_clock.set(START)
    return shared_clock


@pytest.fixture
def account() -> str:
    return f"acct-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def gw(shared_gw: LocalGateway, clock: ManualClock) -> LocalGateway:
    return shared_gw


@pytest.fixture
def config(tmp_path: Path, clock: ManualClock) -> LocalGatewayConfig:
    """For tests that start their own gateway."""
    return LocalGatewayConfig(db_path=tmp_path / "gw.db", api_token=TOKEN, clock=clock)


@pytest.fixture
def fresh_gw(config: LocalGatewayConfig) -> Iterator[LocalGateway]:
    with LocalGateway(config) as gateway:
        yield gateway


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with async_client() as client:
        yield client


@pytest.fixture
def api(gw: LocalGateway, http: httpx.AsyncClient, account: str) -> Api:
    return Api(gw, http, account)


@pytest.fixture
def gw_open(
    shared_open_gw: LocalGateway, clock: ManualClock, http: httpx.AsyncClient, account: str
) -> Api:
    return Api(shared_open_gw, http, account)
