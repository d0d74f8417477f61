"""Provider keys as code against the local gateway over real HTTP: plan / apply / rotate /
replace / destroy, typed errors, concurrent applies, and the `aigateway keys` commands, none of
which ever shows the secret."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import anyio
import pytest

from aigateway_sdk.cli.main import main
from aigateway_sdk.control import AiGateway, GatewayAdmin
from aigateway_sdk.control.provider_keys import ProviderKey, from_env
from aigateway_sdk.control.provider_keys_client import (
    CreateKey,
    KeyUpToDate,
    ReplaceKey,
    RotateKey,
)
from aigateway_sdk.errors import AiError, Conflict
from aigateway_sdk.local import LocalGateway
from aigateway_sdk.validation import ValidationError

from .conftest import TOKEN

SECRET = "sk-proj-control-e2e-3b7d0e1f5a9c"
ROTATED = "sk-proj-control-rotated-77aa55cc"


async def keys_admin(gw: LocalGateway, account: str, gateway_id: str) -> GatewayAdmin:
    admin = GatewayAdmin(account, TOKEN, gw.api_url)
    await admin.apply(AiGateway(gateway_id, id=gateway_id, authentication=True))
    return admin


@pytest.mark.anyio
async def test_plan_apply_rotate_replace_destroy(
    gw: LocalGateway, account: str, gateway_id: str
) -> None:
    secrets = iter([SECRET, ROTATED, ROTATED])
    reads: list[str] = []

    def source() -> str:
        reads.append("read")
        return next(secrets)

    key = ProviderKey("openai", secret=source, gateway=gateway_id)
    async with await keys_admin(gw, account, gateway_id) as admin:
        keys = admin.provider_keys(gateway_id)
        assert isinstance(await keys.plan(key), CreateKey)
        assert reads == []  # planning reads no secret
        created = await keys.apply(key)
        assert created.changed
        assert created.config.default_config is True
        assert reads == ["read"]

        again = await keys.apply(key)
        assert isinstance(again.plan, KeyUpToDate)
        assert not again.changed
        assert reads == ["read"]  # the secret is not compared: no read

        rotated = await keys.apply(key, rotate=True)
        assert isinstance(rotated.plan, RotateKey)
        assert rotated.config.id == created.config.id
        assert rotated.config.secret_preview != created.config.secret_preview

        limited = ProviderKey(
            "openai", secret=source, gateway=gateway_id, rate_limit=10, rate_limit_period=60
        )
        plan = await keys.plan(limited)
        assert isinstance(plan, ReplaceKey)
        assert [c.field for c in plan.changes] == ["rate_limit", "rate_limit_period"]
        replaced = await keys.apply(limited)
        assert replaced.config.rate_limit == 10
        assert replaced.config.id != created.config.id
        assert [c.id async for c in keys.list()] == [replaced.config.id]

        assert await keys.destroy(limited) is True
        assert await keys.destroy(limited) is False
        assert [c async for c in keys.list()] == []
    assert len(reads) == 3


@pytest.mark.anyio
async def test_a_second_default_is_a_conflict_without_the_secret(
    gw: LocalGateway, account: str, gateway_id: str
) -> None:
    async with await keys_admin(gw, account, gateway_id) as admin:
        keys = admin.provider_keys(gateway_id)
        await keys.apply(ProviderKey("openai", secret=lambda: SECRET))
        with pytest.raises(AiError) as caught:
            await keys.apply(ProviderKey("openai", "other", default=True, secret=lambda: SECRET))
        assert isinstance(caught.value.reason, Conflict)
        assert SECRET not in str(caught.value)
        assert SECRET not in repr(caught.value)
        with pytest.raises(ValidationError):
            await keys.plan(ProviderKey("openai", secret=lambda: SECRET, gateway="elsewhere"))


@pytest.mark.anyio
async def test_concurrent_applies_store_one_key(
    gw: LocalGateway, account: str, gateway_id: str
) -> None:
    key = ProviderKey("anthropic", secret=lambda: SECRET)
    async with await keys_admin(gw, account, gateway_id) as admin:
        keys = admin.provider_keys(gateway_id)
        async with anyio.create_task_group() as group:
            for _ in range(5):
                group.start_soon(keys.apply, key)
        assert len([c async for c in keys.list()]) == 1


# -- the command line -----------------------------------------------------------------------


@pytest.fixture
def env(gw: LocalGateway, account: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", account)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
    monkeypatch.setenv("AIGATEWAY_API_BASE_URL", gw.api_url)
    monkeypatch.delenv("AIGATEWAY_GATEWAY_ID", raising=False)
    monkeypatch.setenv("BYOK_CLI_OPENAI_KEY", SECRET)
    return account


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert SECRET not in out
    assert SECRET not in err
    return code, out, err


def write_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gateway_id: str) -> str:
    name = f"byok_keys_{gateway_id.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(
        "from aigateway_sdk.control.provider_keys import ProviderKey, from_env\n"
        f"KEYS = [ProviderKey('openai', secret=from_env('BYOK_CLI_OPENAI_KEY'), "
        f"gateway={gateway_id!r}),\n"
        f"        ProviderKey('openai', 'prod', secret=lambda: 'sk-other-{gateway_id}-xxxx')]\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop(name, None)
    return f"{name}:KEYS"


def test_keys_commands_never_print_the_secret(
    env: str,
    gw: LocalGateway,
    gateway_id: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    anyio.run(keys_admin, gw, env, gateway_id)
    source = write_keys(tmp_path, monkeypatch, gateway_id)
    flags = ("-g", gateway_id)

    code, out, _ = run(capsys, "keys", "plan", source, *flags, "--detailed-exitcode")
    assert code == 2
    assert out.count("+ create provider key") == 2

    code, out, _ = run(capsys, "keys", "apply", source, *flags, "--json")
    assert code == 0
    applied = json.loads(out)
    assert [a["action"] for a in applied] == ["create", "create"]
    assert applied[0]["config"]["secret_preview"]

    code, out, _ = run(capsys, "keys", "plan", source, *flags, "--detailed-exitcode")
    assert code == 0
    assert "up to date" in out

    code, out, _ = run(capsys, "keys", "apply", source, *flags, "--rotate")
    assert code == 0
    assert out.count("~ rotated") == 2

    code, out, _ = run(capsys, "keys", "list", *flags)
    assert code == 0
    assert "openai" in out
    assert "prod" in out
    code, out, _ = run(capsys, "keys", "list", *flags, "--json")
    assert {c["alias"] for c in json.loads(out)} == {"default", "prod"}

    code, _, err = run(capsys, "keys", "delete", "openai", "nope", *flags)
    assert code == 1
    assert err.startswith("aigateway: error: ")

    code, out, _ = run(capsys, "keys", "delete", "openai", "prod", *flags)
    assert code == 0
    assert "deleted" in out
    code, out, _ = run(capsys, "keys", "delete", "openai", "prod", *flags, "--missing-ok")
    assert code == 0
    assert "absent" in out


def test_keys_apply_failures_are_one_line_without_the_secret(
    env: str,
    gw: LocalGateway,
    gateway_id: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = write_keys(tmp_path, monkeypatch, gateway_id)
    code, _, err = run(capsys, "keys", "apply", source, "-g", gateway_id)  # no such gateway
    assert code == 1
    assert len(err.strip().splitlines()) == 1
    anyio.run(keys_admin, gw, env, gateway_id)
    monkeypatch.delenv("BYOK_CLI_OPENAI_KEY")
    code, _, err = run(capsys, "keys", "apply", source, "-g", gateway_id, "--json")
    assert code == 1
    assert "BYOK_CLI_OPENAI_KEY" in json.loads(err)["error"]["message"]
    code, _, err = run(capsys, "keys", "apply", "nowhere:KEYS", "-g", gateway_id)
    assert code == 1
    assert "nowhere" in err


def test_from_env_is_shown_by_name() -> None:
    assert repr(from_env("X")) == "from_env('X')"


def test_keys_apply_reads_every_secret_before_changing_anything(
    env: str,
    gw: LocalGateway,
    gateway_id: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    anyio.run(keys_admin, gw, env, gateway_id)
    name = f"byok_half_{gateway_id.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(
        "from aigateway_sdk.control.provider_keys import ProviderKey, from_env\n"
        "KEYS = [ProviderKey('openai', 'prod', secret=lambda: 'sk-first-key-xxxxxxxx'),\n"
        "        ProviderKey('anthropic', secret=from_env('BYOK_CLI_MISSING_KEY'))]\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("BYOK_CLI_MISSING_KEY", raising=False)
    code, _, err = run(capsys, "keys", "apply", f"{name}:KEYS", "-g", gateway_id)
    assert code == 1
    assert "'anthropic/default'" in err  # names the key whose secret is missing
    assert "BYOK_CLI_MISSING_KEY" in err
    assert "nothing was applied" in err
    code, out, _ = run(capsys, "keys", "list", "-g", gateway_id, "--json")
    assert json.loads(out) == []  # the first key was not created either
