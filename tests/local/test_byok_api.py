"""The local control plane's provider keys (BYOK): `provider_configs` create / list / rotate /
delete in Cloudflare's shapes, checked with Cloudflare's own client (strict validation), bad
input answered with a 4xx envelope, and the stored secret never in a reply; the database file
is owner-only."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest

from aigateway_sdk.contract.provider_keys import LIST_MAX_PER_PAGE, secret_preview
from aigateway_sdk.local import LocalGateway, LocalGatewayConfig
from tests.local.helpers import AUTH, TOKEN, Api

pytestmark = pytest.mark.anyio

SECRET = "sk-proj-byok-api-7f3a9c2e51d84b06"


def keys_url(api: Api, gateway: str = "g", key_id: str = "") -> str:
    url = api.control(f"/{gateway}/provider_configs")
    return f"{url}/{key_id}" if key_id else url


async def create(api: Api, gateway: str = "g", **fields: Any) -> httpx.Response:
    body = {"provider_slug": "openai", "alias": "default", "default_config": True}
    body.update(fields)
    return await api.http.post(keys_url(api, gateway), json=body, headers=AUTH)


@pytest.fixture
async def kapi(api: Api) -> Api:
    await api.create("g", authentication=True)
    return api


async def test_create_list_delete_in_cloudflares_shape(kapi: Api) -> None:
    reply = await create(kapi, secret=SECRET, rate_limit=10, rate_limit_period=60)
    assert reply.status_code == 200, reply.text
    config = reply.json()["result"]
    assert config["provider_slug"] == "openai"
    assert config["alias"] == "default"
    assert config["default_config"] is True
    assert config["gateway_id"] == "g"
    assert config["rate_limit"] == 10
    assert config["rate_limit_period"] == 60
    assert config["secret_preview"] == secret_preview(SECRET)
    assert config["secret_id"]
    assert SECRET not in reply.text

    listed = await kapi.http.get(keys_url(kapi), headers=AUTH)
    assert listed.status_code == 200
    assert [c["id"] for c in listed.json()["result"]] == [config["id"]]
    assert listed.json()["result_info"]["total_count"] == 1
    assert SECRET not in listed.text

    deleted = await kapi.http.delete(keys_url(kapi, key_id=config["id"]), headers=AUTH)
    assert deleted.status_code == 200
    assert deleted.json()["result"]["id"] == config["id"]
    assert SECRET not in deleted.text
    assert (await kapi.http.get(keys_url(kapi), headers=AUTH)).json()["result"] == []
    again = await kapi.http.delete(keys_url(kapi, key_id=config["id"]), headers=AUTH)
    assert again.status_code == 404


async def test_the_preview_never_shows_most_of_a_secret() -> None:
    for secret in ("short", "twelve-chars", SECRET, "x" * 5000):
        preview = secret_preview(secret)
        shown = len(preview.replace("...", ""))
        assert shown * 3 <= len(secret)
        assert secret not in preview


async def test_rotate_changes_the_secret_in_place_and_only_the_secret(kapi: Api) -> None:
    config = (await create(kapi, secret=SECRET)).json()["result"]
    url = keys_url(kapi, key_id=config["id"])
    new_secret = "sk-proj-rotated-0c1d2e3f4a5b6c7d"
    rotated = await kapi.http.put(url, json={"secret": new_secret}, headers=AUTH)
    assert rotated.status_code == 200, rotated.text
    body = rotated.json()["result"]
    assert body["id"] == config["id"]
    assert body["secret_preview"] == secret_preview(new_secret)
    assert body["secret_id"] != config["secret_id"]
    assert new_secret not in rotated.text

    refused = await kapi.http.put(
        url, json={"secret": new_secret, "default_config": False}, headers=AUTH
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["path"] == ["default_config"]
    assert new_secret not in refused.text
    missing = await kapi.http.put(url, json={}, headers=AUTH)
    assert missing.status_code == 400
    unknown = await kapi.http.put(keys_url(kapi, key_id="nope"), json={"secret": "x" * 20})
    assert unknown.status_code == 401  # no credentials
    unknown = await kapi.http.put(
        keys_url(kapi, key_id="nope"), json={"secret": "x" * 20}, headers=AUTH
    )
    assert unknown.status_code == 404


async def test_an_alias_is_unique_per_provider_and_a_provider_has_one_default(kapi: Api) -> None:
    assert (await create(kapi, secret=SECRET)).status_code == 200
    taken = await create(kapi, secret=SECRET, default_config=False)
    assert taken.status_code == 409
    assert taken.json()["errors"][0]["path"] == ["alias"]
    second_default = await create(kapi, secret=SECRET, alias="other")
    assert second_default.status_code == 409
    assert second_default.json()["errors"][0]["path"] == ["default_config"]
    assert "'default'" in second_default.json()["errors"][0]["message"]
    assert SECRET not in second_default.text
    other = await create(kapi, secret=SECRET, alias="other", default_config=False)
    assert other.status_code == 200
    anthropic = await create(kapi, secret=SECRET, provider_slug="anthropic")
    assert anthropic.status_code == 200


async def test_secret_id_reuses_a_stored_secret_of_the_account(kapi: Api) -> None:
    first = (await create(kapi, secret=SECRET)).json()["result"]
    reused = await create(kapi, alias="copy", default_config=False, secret_id=first["secret_id"])
    assert reused.status_code == 200, reused.text
    assert reused.json()["result"]["secret_preview"] == first["secret_preview"]
    unknown = await create(kapi, alias="none", default_config=False, secret_id="f" * 32)
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["path"] == ["secret_id"]


BAD_BODIES: dict[str, tuple[Any, str]] = {
    "not an object": ([1, 2], "body"),
    "no provider": ({"alias": "a", "default_config": True, "secret": SECRET}, "provider_slug"),
    "no alias": ({"provider_slug": "openai", "default_config": True}, "alias"),
    "no secret": ({"provider_slug": "openai", "alias": "a", "default_config": True}, "secret"),
    "provider type": (
        {"provider_slug": 7, "alias": "a", "default_config": True, "secret": SECRET},
        "provider_slug",
    ),
    "provider upper": (
        {"provider_slug": "OpenAI", "alias": "a", "default_config": True, "secret": SECRET},
        "provider_slug",
    ),
    "alias chars": (
        {"provider_slug": "openai", "alias": "a b", "default_config": True, "secret": SECRET},
        "alias",
    ),
    "alias long": (
        {"provider_slug": "openai", "alias": "a" * 65, "default_config": True, "secret": SECRET},
        "alias",
    ),
    "default type": (
        {"provider_slug": "openai", "alias": "a", "default_config": "yes", "secret": SECRET},
        "default_config",
    ),
    "secret type": (
        {"provider_slug": "openai", "alias": "a", "default_config": True, "secret": 12},
        "secret",
    ),
    "secret empty": (
        {"provider_slug": "openai", "alias": "a", "default_config": True, "secret": "  "},
        "secret",
    ),
    "secret newline": (
        {"provider_slug": "openai", "alias": "a", "default_config": True, "secret": "a\nb"},
        "secret",
    ),
    "secret huge": (
        {"provider_slug": "openai", "alias": "a", "default_config": True, "secret": "s" * 20000},
        "secret",
    ),
    "rate limit huge": (
        {
            "provider_slug": "openai",
            "alias": "a",
            "default_config": True,
            "secret": SECRET,
            "rate_limit": 10**30,
            "rate_limit_period": 60,
        },
        "rate_limit",
    ),
    "rate limit negative": (
        {
            "provider_slug": "openai",
            "alias": "a",
            "default_config": True,
            "secret": SECRET,
            "rate_limit": -1,
            "rate_limit_period": 60,
        },
        "rate_limit",
    ),
    "rate limit bool": (
        {
            "provider_slug": "openai",
            "alias": "a",
            "default_config": True,
            "secret": SECRET,
            "rate_limit": True,
            "rate_limit_period": 60,
        },
        "rate_limit",
    ),
    "period alone": (
        {
            "provider_slug": "openai",
            "alias": "a",
            "default_config": True,
            "secret": SECRET,
            "rate_limit_period": 60,
        },
        "rate_limit_period",
    ),
}


@pytest.mark.parametrize("case", BAD_BODIES)
async def test_bad_bodies_are_400s_naming_the_field_never_quoting_the_secret(
    kapi: Api, case: str
) -> None:
    body, field = BAD_BODIES[case]
    reply = await kapi.http.post(keys_url(kapi), json=body, headers=AUTH)
    assert reply.status_code == 400, reply.text
    envelope = reply.json()
    assert envelope["success"] is False
    assert field in {e["path"][0] for e in envelope["errors"] if e.get("path")}
    assert SECRET not in reply.text
    assert (await kapi.http.get(keys_url(kapi), headers=AUTH)).json()["result"] == []


async def test_malformed_json_unknown_gateway_wrong_account_no_token(kapi: Api) -> None:
    bad = await kapi.http.post(
        keys_url(kapi), content=b"{nope", headers={**AUTH, "content-type": "application/json"}
    )
    assert bad.status_code == 400
    assert (await create(kapi, gateway="nope", secret=SECRET)).status_code == 404
    other = Api(kapi.gw, kapi.http, kapi.account + "-other")
    assert (await create(other, secret=SECRET)).status_code == 404
    assert (await kapi.http.get(keys_url(kapi))).status_code == 401
    page = await kapi.http.get(
        keys_url(kapi), params={"per_page": LIST_MAX_PER_PAGE + 1}, headers=AUTH
    )
    assert page.status_code == 400


async def test_deleting_the_gateway_deletes_its_keys(kapi: Api) -> None:
    assert (await create(kapi, secret=SECRET)).status_code == 200
    assert (await kapi.http.delete(kapi.control("/g"), headers=AUTH)).status_code == 200
    await kapi.create("g", authentication=True)
    assert (await kapi.http.get(keys_url(kapi), headers=AUTH)).json()["result"] == []


async def test_keys_survive_a_restart_in_an_owner_only_file(
    config: LocalGatewayConfig, account: str, http: httpx.AsyncClient
) -> None:
    with LocalGateway(config) as first:
        api = Api(first, http, account)
        await api.create("g", authentication=True)
        created = (await create(api, secret=SECRET)).json()["result"]
    db = str(config.db_path)
    assert mode(db) == 0o600
    with LocalGateway(config) as second:
        api = Api(second, http, account)
        listed = (await http.get(keys_url(api), headers=AUTH)).json()["result"]
        assert [c["id"] for c in listed] == [created["id"]]
        assert side_modes(db) == [0o600, 0o600]  # WAL mode: both exist while it runs


def mode(path: str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def side_modes(db: str) -> list[int]:
    """The modes of the database's `-wal` and `-shm` files, those that exist."""
    return [mode(db + s) for s in ("-wal", "-shm") if os.path.exists(db + s)]


def test_an_existing_world_readable_database_is_narrowed(config: LocalGatewayConfig) -> None:
    db = Path(str(config.db_path))
    db.parent.mkdir(parents=True, exist_ok=True)
    db.touch()
    os.chmod(db, 0o644)
    with LocalGateway(config):
        assert mode(str(db)) == 0o600


# -- Cloudflare's own client, strict ---------------------------------------------------------


async def test_cloudflares_client_creates_and_lists_strictly(
    kapi: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    cloudflare = pytest.importorskip("cloudflare")
    for name in ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_API_KEY", "CLOUDFLARE_EMAIL"):
        monkeypatch.delenv(name, raising=False)
    async with cloudflare.AsyncCloudflare(
        base_url=kapi.gw.api_url, api_token=TOKEN, max_retries=0, _strict_response_validation=True
    ) as cf:
        created = await cf.ai_gateway.provider_configs.create(
            "g",
            account_id=kapi.account,
            alias="default",
            default_config=True,
            provider_slug="openai",
            secret=SECRET,
            rate_limit=5,
            rate_limit_period=60,
        )
        assert created.provider_slug == "openai"
        assert created.secret_preview == secret_preview(SECRET)
        assert created.rate_limit == 5
        for index in range(3):
            await cf.ai_gateway.provider_configs.create(
                "g",
                account_id=kapi.account,
                alias=f"extra-{index}",
                default_config=False,
                provider_slug="openai",
                secret=SECRET,
            )
        seen = [
            config.alias
            async for config in cf.ai_gateway.provider_configs.list(
                "g", account_id=kapi.account, per_page=2
            )
        ]
        assert seen == ["default", "extra-0", "extra-1", "extra-2"]
        assert all(SECRET not in repr(c) for c in seen)
        with pytest.raises(cloudflare.BadRequestError) as caught:
            await cf.ai_gateway.provider_configs.create(
                "g",
                account_id=kapi.account,
                alias="bad alias",
                default_config=False,
                provider_slug="openai",
                secret=SECRET,
            )
        assert SECRET not in caught.value.response.text
        assert SECRET not in str(caught.value)
