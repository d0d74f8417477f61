"""A local gateway on loopback for the control-plane tests (one per module: fast), and
helpers that make log entries by calling its data plane."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from aigateway_sdk.local import LocalGateway, LocalGatewayConfig

TOKEN = "secret"
MODEL = "@cf/meta/llama-3.1-8b-instruct"
_ids = itertools.count()


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalGateway]:
    db: Path = tmp_path_factory.mktemp("gw") / "gw.db"
    with LocalGateway(LocalGatewayConfig(db_path=db, api_token=TOKEN)) as gateway:
        yield gateway


@pytest.fixture
def gateway_id() -> str:
    """A fresh gateway id for each test (the server is shared by a module)."""
    return f"gw-{next(_ids)}"


@pytest.fixture
def account() -> str:
    """A fresh account for each test: an account holds at most 10 gateways, as at Cloudflare."""
    return f"acct-{next(_ids)}"


def call_model(
    gw: LocalGateway,
    account: str,
    gateway_id: str,
    prompt: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: Mapping[str, Any] | None = None,
    model: str = MODEL,
    client: httpx.Client | None = None,
) -> httpx.Response:
    """One data-plane request (Workers AI route), logged by the gateway."""
    url = f"{gw.data_url}/{account}/{gateway_id}/workers-ai/{model}"
    all_headers = {"authorization": f"Bearer {TOKEN}", **(headers or {})}
    payload = body if body is not None else {"prompt": prompt}
    if client is None:
        return httpx.post(url, json=payload, headers=all_headers)
    return client.post(url, json=payload, headers=all_headers)
