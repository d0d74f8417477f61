"""Helpers for the tests that drive a real local gateway over loopback HTTP."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import Any

import httpx

TOKEN = "reliability-secret-token"
AUTH = {"authorization": f"Bearer {TOKEN}"}
MODEL = "@cf/meta/llama-3.1-8b-instruct"
SETTINGS: dict[str, Any] = {
    "cache_ttl": 0,
    "cache_invalidate_on_update": False,
    "collect_logs": True,
    "rate_limiting_interval": 0,
    "rate_limiting_limit": 0,
}


class Planes:
    """URLs and calls on both planes of a local gateway at `url`, for one account."""

    def __init__(self, url: str, http: httpx.AsyncClient, account: str = "acct") -> None:
        self.url, self.http, self.account = url.rstrip("/"), http, account

    def data(self, gateway_id: str, path: str = f"workers-ai/{MODEL}") -> str:
        return f"{self.url}/v1/{self.account}/{gateway_id}/{path}"

    def control(self, path: str = "") -> str:
        return f"{self.url}/client/v4/accounts/{self.account}/ai-gateway/gateways{path}"

    async def create(self, gateway_id: str, **settings: Any) -> httpx.Response:
        body = {"id": gateway_id, **SETTINGS, **settings}
        response = await self.http.post(self.control(), json=body, headers=AUTH)
        assert response.status_code == 200, response.text
        return response

    async def run(
        self, gateway_id: str, prompt: str = "hello", headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self.http.post(
            self.data(gateway_id),
            json={"prompt": prompt},
            headers={**AUTH, **(headers or {})},
        )

    async def log_total(self, gateway_id: str) -> int:
        response = await self.http.get(
            self.control(f"/{gateway_id}/logs"), params={"per_page": 1}, headers=AUTH
        )
        assert response.status_code == 200, response.text
        total: int = response.json()["result_info"]["total_count"]
        return total


@asynccontextmanager
async def client(connections: int = 100, timeout: float = 30.0) -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(timeout=timeout, limits=limits) as http:
        yield http


def db_log_ids(db: Path, account: str, gateway_id: str) -> list[str]:
    """Log ids stored for a gateway, oldest first, read straight from SQLite."""
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        rows = conn.execute(
            "SELECT id FROM logs WHERE account_id = ? AND gateway_id = ? ORDER BY seq",
            (account, gateway_id),
        ).fetchall()
    return [row[0] for row in rows]


def integrity(db: Path) -> str:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        result: str = conn.execute("PRAGMA integrity_check").fetchone()[0]
    return result


def cloudflare_error(response: httpx.Response) -> list[dict[str, Any]]:
    """The error list of a Cloudflare-shaped error envelope (asserting its shape)."""
    assert response.headers.get("content-type", "").startswith("application/json"), response.text
    body = response.json()
    assert body["success"] is False
    errors = body.get("errors") or body.get("error")
    assert isinstance(errors, list)
    assert errors
    for item in errors:
        assert isinstance(item["code"], int)
        assert isinstance(item["message"], str)
    return errors
