"""A real local gateway on loopback per test (fresh SQLite file, manual clock)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from aigateway_sdk.local import LocalGateway, LocalGatewayConfig, ManualClock
from tests.local.helpers import START, TOKEN, Api


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def config(tmp_path: Path, clock: ManualClock) -> LocalGatewayConfig:
    return LocalGatewayConfig(db_path=tmp_path / "gw.db", api_token=TOKEN, clock=clock)


@pytest.fixture
def gw(config: LocalGatewayConfig) -> Iterator[LocalGateway]:
    with LocalGateway(config) as gateway:
        yield gateway


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=20) as client:
        yield client


@pytest.fixture
def api(gw: LocalGateway, http: httpx.AsyncClient) -> Api:
    return Api(gw, http)


@pytest.fixture
def open_gw(tmp_path: Path, clock: ManualClock) -> Iterator[LocalGateway]:
    """A gateway without an api token: any bearer token is accepted."""
    config = LocalGatewayConfig(db_path=tmp_path / "open.db", api_token=None, clock=clock)
    with LocalGateway(config) as gateway:
        yield gateway


@pytest.fixture
def gw_open(open_gw: LocalGateway, http: httpx.AsyncClient) -> Api:
    return Api(open_gw, http)
