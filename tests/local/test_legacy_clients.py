"""Cloudflare's own Python client (`cloudflare`, installed in the dev extra) against the local
control plane, with strict response validation: every credential style it offers (api token,
the legacy `api_email` + `api_key` pair, `user_service_key`), on a gateway started with and
without an api token, and the gateway fields older clients (4.x) require (`account_id`,
`account_tag`, `internal_id`)."""

from __future__ import annotations

from typing import Any

import pytest

from aigateway_sdk.local import LocalGateway
from tests.local.helpers import TOKEN, async_client

cloudflare = pytest.importorskip("cloudflare")

pytestmark = pytest.mark.anyio

CREDENTIAL_ENV = (
    "CLOUDFLARE_API_TOKEN",
    "CLOUDFLARE_API_KEY",
    "CLOUDFLARE_EMAIL",
    "CLOUDFLARE_API_USER_SERVICE_KEY",
)
EMAIL = "dev@example.com"
GATEWAY: dict[str, Any] = {
    "cache_invalidate_on_update": False,
    "cache_ttl": 0,
    "collect_logs": True,
    "rate_limiting_interval": 0,
    "rate_limiting_limit": 0,
    "rate_limiting_technique": "fixed",  # required by the 4.x client
}
STYLES = {
    "api_token": {"api_token": TOKEN},
    "legacy_key": {"api_email": EMAIL, "api_key": TOKEN},
    "user_service_key": {"user_service_key": TOKEN},
}


@pytest.fixture(autouse=True)
def no_ambient_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The client reads credentials from the environment when not given: keep them out."""
    for name in CREDENTIAL_ENV:
        monkeypatch.delenv(name, raising=False)


def client(gateway: LocalGateway, **credentials: str) -> Any:
    return cloudflare.AsyncCloudflare(
        base_url=gateway.api_url,
        max_retries=0,
        _strict_response_validation=True,
        **credentials,
    )


async def lifecycle(cf: Any, account: str) -> None:
    """Create, list, get, update and delete one gateway, checking the fields 4.x requires."""
    created = await cf.ai_gateway.create(account_id=account, id="legacy", **GATEWAY)
    raw = created.model_dump()
    assert created.id == "legacy"
    assert raw.get("account_id") == account
    assert raw.get("account_tag") == account
    internal_id = raw.get("internal_id")
    assert isinstance(internal_id, str)
    assert len(internal_id) == 36  # a UUID, as Cloudflare returns

    page = await cf.ai_gateway.list(account_id=account)
    assert [g.id for g in page.result] == ["legacy"]
    assert page.result[0].model_dump().get("internal_id") == internal_id

    got = await cf.ai_gateway.get("legacy", account_id=account)
    assert got.model_dump().get("internal_id") == internal_id

    updated = await cf.ai_gateway.update(
        "legacy", account_id=account, **{**GATEWAY, "cache_ttl": 60}
    )
    assert updated.cache_ttl == 60
    assert updated.model_dump().get("internal_id") == internal_id
    assert updated.model_dump().get("account_tag") == account

    deleted = await cf.ai_gateway.delete("legacy", account_id=account)
    assert deleted.id == "legacy"
    assert (await cf.ai_gateway.list(account_id=account)).result == []


@pytest.mark.parametrize("style", sorted(STYLES))
async def test_every_credential_style_with_an_api_token(
    gw: LocalGateway, account: str, style: str
) -> None:
    async with client(gw, **STYLES[style]) as cf:
        await lifecycle(cf, account)


@pytest.mark.parametrize("style", sorted(STYLES))
async def test_every_credential_style_without_an_api_token_values_unchecked(
    shared_open_gw: LocalGateway, account: str, style: str
) -> None:
    credentials = {name: "anything-at-all" for name in STYLES[style]}
    async with client(shared_open_gw, **credentials) as cf:
        await lifecycle(cf, account)


async def test_email_alone_is_accepted_without_an_api_token(
    shared_open_gw: LocalGateway, account: str
) -> None:
    """Some generated Cloudflare clients send `X-Auth-Email` alone."""
    async with client(shared_open_gw, api_email=EMAIL) as cf:
        await lifecycle(cf, account)


@pytest.mark.parametrize(
    "credentials",
    [
        {"api_email": EMAIL, "api_key": "wrong-key"},
        {"api_email": EMAIL, "api_key": TOKEN + "x"},
        {"user_service_key": "wrong-key"},
        {"api_token": "wrong-token"},
    ],
    ids=["legacy-key", "legacy-key-prefix", "service-key", "token"],
)
async def test_a_wrong_credential_is_the_clients_authentication_error(
    gw: LocalGateway, account: str, credentials: dict[str, str]
) -> None:
    async with client(gw, **credentials) as cf:
        with pytest.raises(cloudflare.AuthenticationError) as caught:
            await cf.ai_gateway.list(account_id=account)
    assert caught.value.status_code == 401
    # The secret sent is never echoed back.
    for value in credentials.values():
        assert value not in caught.value.response.text


async def test_email_alone_is_refused_when_an_api_token_is_set(
    gw: LocalGateway, account: str
) -> None:
    async with client(gw, api_email=EMAIL) as cf:
        with pytest.raises(cloudflare.AuthenticationError):
            await cf.ai_gateway.list(account_id=account)


@pytest.mark.parametrize(
    "headers",
    [
        {"x-auth-email": TOKEN},
        {"x-auth-key": ""},
        {"x-auth-user-service-key": ""},
        {"x-auth-key": "wrong", "x-auth-user-service-key": "wrong"},
    ],
    ids=["token-as-email", "empty-key", "empty-service-key", "both-wrong"],
)
async def test_raw_legacy_headers_that_do_not_carry_the_token_are_refused(
    gw: LocalGateway, account: str, headers: dict[str, str]
) -> None:
    async with async_client() as http:
        reply = await http.get(
            f"{gw.api_url}/accounts/{account}/ai-gateway/gateways", headers=headers
        )
    assert reply.status_code == 401
    assert reply.json()["success"] is False


async def test_no_credential_header_at_all_is_refused_without_an_api_token(
    shared_open_gw: LocalGateway, account: str
) -> None:
    async with async_client() as http:
        url = f"{shared_open_gw.api_url}/accounts/{account}/ai-gateway/gateways"
        reply = await http.get(url)
    assert reply.status_code == 401


async def test_internal_id_survives_a_restart_and_changes_on_recreate(
    config: Any, account: str
) -> None:
    url = f"/client/v4/accounts/{account}/ai-gateway/gateways"
    headers = {"x-auth-email": EMAIL, "x-auth-key": TOKEN}
    body = {"id": "kept", **GATEWAY}
    with LocalGateway(config) as first:
        async with async_client(base_url=first.url, headers=headers) as http:
            created = (await http.post(url, json=body)).json()["result"]
    with LocalGateway(config) as second:
        async with async_client(base_url=second.url, headers=headers) as http:
            again = (await http.get(f"{url}/kept")).json()["result"]
            assert again["internal_id"] == created["internal_id"]
            assert (await http.delete(f"{url}/kept")).status_code == 200
            config.clock.advance(1)
            recreated = (await http.post(url, json=body)).json()["result"]
    assert recreated["internal_id"] != created["internal_id"]
