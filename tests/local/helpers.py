"""Constants and a small client over the local gateway's two planes, for the tests."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime
from typing import Any

import httpx

from aigateway_sdk.local import LocalGateway

TOKEN = "secret-token"
ACCOUNT = "acct1"
MODEL = "@cf/meta/llama-3.1-8b-instruct"
AUTH = {"authorization": f"Bearer {TOKEN}"}
GW_AUTH = {"cf-aig-authorization": f"Bearer {TOKEN}"}
START = datetime(2026, 1, 5, 12, 0, 0, tzinfo=UTC)

SSL = ssl.create_default_context()
"""One TLS context for every test client (building one per client costs ~0.1-0.3 s)."""


def async_client(**kwargs: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(verify=SSL, timeout=20, **kwargs)


def sync_client(**kwargs: Any) -> httpx.Client:
    return httpx.Client(verify=SSL, timeout=20, **kwargs)


GATEWAY_DEFAULTS: dict[str, Any] = {
    "cache_ttl": 0,
    "cache_invalidate_on_update": False,
    "collect_logs": True,
    "rate_limiting_interval": 0,
    "rate_limiting_limit": 0,
}


class Api:
    """Small helpers over the two planes of one gateway, for one account."""

    def __init__(self, gw: LocalGateway, http: httpx.AsyncClient, account: str = ACCOUNT) -> None:
        self.gw, self.http, self.account = gw, http, account

    def data(self, gateway_id: str, path: str = "") -> str:
        base = f"{self.gw.data_url}/{self.account}/{gateway_id}"
        return f"{base}/{path}" if path else base

    def control(self, path: str = "") -> str:
        return f"{self.gw.api_url}/accounts/{self.account}/ai-gateway/gateways{path}"

    async def create(self, gateway_id: str, **settings: Any) -> dict[str, Any]:
        body = {"id": gateway_id, **GATEWAY_DEFAULTS, **settings}
        response = await self.http.post(self.control(), json=body, headers=AUTH)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()["result"]
        return result

    async def update(self, gateway_id: str, **settings: Any) -> httpx.Response:
        return await self.http.put(self.control(f"/{gateway_id}"), json=settings, headers=AUTH)

    async def run(
        self,
        gateway_id: str = "default",
        prompt: str = "Hello there",
        *,
        model: str = MODEL,
        headers: dict[str, str] | None = None,
        **body: Any,
    ) -> httpx.Response:
        return await self.http.post(
            self.data(gateway_id, f"workers-ai/{model}"),
            json={"prompt": prompt, **body},
            headers={**AUTH, **GW_AUTH, **(headers or {})},
        )

    async def chat(
        self,
        gateway_id: str = "default",
        content: str = "Hello there",
        *,
        headers: dict[str, str] | None = None,
        **body: Any,
    ) -> httpx.Response:
        return await self.http.post(
            self.data(gateway_id, "compat/chat/completions"),
            json={
                "model": f"workers-ai/{MODEL}",
                "messages": [{"role": "user", "content": content}],
                **body,
            },
            headers={**AUTH, **GW_AUTH, **(headers or {})},
        )

    async def logs(self, gateway_id: str = "default", **params: Any) -> list[dict[str, Any]]:
        response = await self.http.get(
            self.control(f"/{gateway_id}/logs"), params={"per_page": 100, **params}, headers=AUTH
        )
        assert response.status_code == 200, response.text
        result: list[dict[str, Any]] = response.json()["result"]
        return result
