"""The local gateway's control plane, fuzzed with schemathesis against a minimal OpenAPI
description (tests/reliability/openapi.yaml): valid and invalid requests alike get a reply that
is not a 5xx and is a Cloudflare envelope. Plus the extreme values the fuzzer found, pinned."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode

from aigateway_sdk.local import LocalGateway, LocalGatewayConfig

from .gateway import AUTH, MODEL, SETTINGS, TOKEN

schema = schemathesis.openapi.from_path(Path(__file__).with_name("openapi.yaml"))
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=12
)


@pytest.fixture(scope="module")
def fuzz_gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalGateway]:
    db = tmp_path_factory.mktemp("fuzz") / "gw.db"
    with LocalGateway(LocalGatewayConfig(db_path=db, api_token=TOKEN)) as gateway:
        control = f"{gateway.api_url}/accounts/fuzz/ai-gateway/gateways"
        with httpx.Client(timeout=10) as http:
            created = http.post(control, json={"id": "fuzz", **SETTINGS}, headers=AUTH)
            assert created.status_code == 200, created.text
            for i in range(5):
                ran = http.post(
                    f"{gateway.data_url}/fuzz/fuzz/workers-ai/{MODEL}",
                    json={"prompt": f"p{i}"},
                    headers={**AUTH, "cf-aig-metadata": f'{{"i": {i}}}'},
                )
                assert ran.status_code == 200, ran.text
        yield gateway


def assert_envelope(status: int, body: Any, text: str) -> None:
    assert status < 500, f"{status}: {text[:300]}"
    assert isinstance(body, dict), text[:300]
    assert isinstance(body.get("success"), bool), text[:300]
    if body["success"]:
        assert "result" in body
    else:
        errors = body.get("errors") or body.get("error")
        assert isinstance(errors, list)
        assert errors
        assert all(
            isinstance(e.get("code"), int) and isinstance(e.get("message"), str) for e in errors
        )


@schema.parametrize()
@settings(
    deadline=None,
    max_examples=12,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_control_plane_fuzz(case: schemathesis.Case[Any], fuzz_gw: LocalGateway) -> None:
    response = case.call(base_url=fuzz_gw.url, headers=AUTH, timeout=10)
    try:
        body = response.json()
    except ValueError:
        body = None
    assert_envelope(response.status_code, body, response.text)


# Found by the fuzzer (and by hand, following its lead): numbers too large for SQLite's 64-bit
# integers reached the database or the JSON encoder and came back as HTTP 500; now each is a
# 400 naming the parameter (or an answer).
BIG = 10**30
EXTREMES = [
    pytest.param("GET", "/fuzz/logs", {"page": BIG}, id="logs-page-1e30"),
    pytest.param("GET", "/fuzz/logs", {"page": 2**62}, id="logs-page-2^62"),
    pytest.param("GET", "", {"page": BIG}, id="gateways-page-1e30"),
    pytest.param(
        "GET",
        "/fuzz/logs",
        {"filters": f'[{{"key":"created_at","operator":"gt","value":[{BIG}]}}]'},
        id="logs-created_at-1e30",
    ),
    pytest.param(
        "GET",
        "/fuzz/logs",
        {"filters": '[{"key":"created_at","operator":"lt","value":[-1e300]}]'},
        id="logs-created_at--1e300",
    ),
    pytest.param(
        "GET",
        "/fuzz/logs",
        {"filters": f'[{{"key":"tokens_in","operator":"gt","value":[{BIG}]}}]'},
        id="logs-tokens_in-1e30",
    ),
    pytest.param(
        "GET",
        "/fuzz/logs",
        {"filters": f'[{{"key":"duration","operator":"lt","value":[-{BIG}]}}]'},
        id="logs-duration--1e30",
    ),
    pytest.param("DELETE", "/fuzz/logs", {"limit": 2**63}, id="delete-limit-2^63"),
    pytest.param(
        "DELETE",
        "/fuzz/logs",
        {"filters": f'[{{"key":"created_at","operator":"gt","value":[{BIG}]}}]'},
        id="delete-created_at-1e30",
    ),
]


@pytest.mark.parametrize(("method", "path", "params"), EXTREMES)
def test_extreme_numbers_in_queries_get_a_4xx_or_an_answer(
    fuzz_gw: LocalGateway, method: str, path: str, params: dict[str, Any]
) -> None:
    url = f"{fuzz_gw.api_url}/accounts/fuzz/ai-gateway/gateways{path}"
    with httpx.Client(timeout=10) as http:
        response = http.request(method, url, params=params, headers=AUTH)
        assert_envelope(response.status_code, response.json(), response.text)
        # The gateway and its logs are still there (a DELETE with filters matching nothing
        # must not delete everything).
        listed = http.get(f"{fuzz_gw.api_url}/accounts/fuzz/ai-gateway/gateways/fuzz", headers=AUTH)
        assert listed.status_code == 200
