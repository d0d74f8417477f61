"""`aigateway routes plan|apply|list|get|delete` in-process: exit codes, `--json` on stdout
only, one-line errors on stderr.

Runs against the in-memory routes API (`routes_fake.py`) by swapping the command's admin
factory. Re-point to the local gateway once it serves routes: drop the `fake` fixture's
monkeypatch and set `AIGATEWAY_API_BASE_URL=gw.api_url`, `CLOUDFLARE_API_TOKEN=TOKEN` and a
fresh account as tests/control/test_cli.py's `env` fixture does (create the gateway first:
`aigateway gateways apply`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from aigateway_sdk.cli import routes as routes_cli
from aigateway_sdk.cli.main import main
from aigateway_sdk.control.admin import GatewayAdmin
from aigateway_sdk.transport.retry import RetryPolicy

from .routes_fake import BASE, FakeRoutes

LLAMA = "@cf/meta/llama-3.1-8b-instruct"


def elements(model: str = LLAMA) -> list[dict[str, Any]]:
    return [
        {"id": "start", "type": "start", "outputs": {"next": {"elementId": "m"}}},
        {
            "id": "m",
            "type": "model",
            "properties": {"provider": "workers-ai", "model": model, "retries": 1, "timeout": 3e4},
            "outputs": {"success": {"elementId": "end"}},
        },
        {"id": "end", "type": "end", "outputs": {}},
    ]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeRoutes:
    fake = FakeRoutes()
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "acct")
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "tok")
    monkeypatch.delenv("AIGATEWAY_GATEWAY_ID", raising=False)

    def make_admin(args: argparse.Namespace) -> GatewayAdmin:
        account = args.account_id or "acct"
        token = args.api_token or "tok"
        retry = RetryPolicy(max_retries=0)
        return GatewayAdmin(account, token, BASE, client=fake.client(), retry=retry)

    monkeypatch.setattr(routes_cli, "make_admin", make_admin)
    return fake


def write_spec(path: Path, model: str = LLAMA, name: str = "support") -> Path:
    path.write_text(
        '[gateways.Prod]\nid = "prod"\n\n'
        f'[[route]]\ngateway = "Prod"\nname = "{name}"\n'
        f"elements = '''{json.dumps(elements(model))}'''\n"
    )
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    assert err == ""
    return json.loads(out)


def assert_one_line_error(err: str, *words: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("aigateway: error: ")
    for word in words:
        assert word in lines[0]


def test_plan_apply_replan_cycle(
    fake: FakeRoutes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(tmp_path / "gateway.toml")
    plans = run_json(capsys, "routes", "plan", str(spec))
    assert [(p["action"], p["name"], p["gateway_id"]) for p in plans] == [
        ("create", "support", "prod")
    ]
    assert run(capsys, "routes", "plan", str(spec), "--detailed-exitcode")[0] == 2

    applied = run_json(capsys, "routes", "apply", str(spec))
    assert applied[0]["result"] == "created"
    assert applied[0]["route"]["elements"][1]["properties"]["model"] == LLAMA

    code, out, _ = run(capsys, "routes", "plan", str(spec), "--detailed-exitcode")
    assert code == 0
    assert "is up to date" in out
    assert "0 to create, 0 to version and deploy, 1 unchanged" in out

    write_spec(spec, model="@cf/other")
    code, out, _ = run(capsys, "routes", "plan", str(spec))
    assert code == 0
    assert "~ update route 'support' of gateway 'prod': a new version, deployed" in out
    assert "~ element 'm' changed" in out
    code, out, _ = run(capsys, "routes", "apply", str(spec))
    assert code == 0
    assert out.startswith("~ route 'support' of gateway 'prod': version v")
    code, out, _ = run(capsys, "routes", "apply", str(spec))
    assert out.startswith("= route 'support' of gateway 'prod' unchanged")
    (route_id,) = fake.routes
    assert len(fake.versions_of(route_id)) == 2


def test_default_source_is_gateway_toml(
    fake: FakeRoutes, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    write_spec(tmp_path / "gateway.toml")
    monkeypatch.chdir(tmp_path)
    assert run_json(capsys, "routes", "plan")[0]["action"] == "create"


def test_list_get_delete(
    fake: FakeRoutes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_json(capsys, "routes", "apply", str(write_spec(tmp_path / "a.toml", name="a")))
    run_json(capsys, "routes", "apply", str(write_spec(tmp_path / "b.toml", name="b")))

    listed = run_json(capsys, "routes", "list", "--gateway", "prod")
    assert [r["name"] for r in listed] == ["a", "b"]
    code, out, _ = run(capsys, "routes", "list", "-g", "prod")
    assert code == 0
    assert out.splitlines()[0].split() == ["id", "name", "elements", "version", "modified_at"]

    shown = run_json(capsys, "routes", "get", "a", "--gateway", "prod")
    assert shown["name"] == "a"
    assert [v["active"] for v in shown["versions"]] == [True]
    by_id = run_json(capsys, "routes", "get", shown["id"], "--gateway", "prod")
    assert by_id["name"] == "a"
    code, out, _ = run(capsys, "routes", "get", "a", "--gateway", "prod")
    assert f"m: model workers-ai {LLAMA} -> success=end" in out

    deleted = run_json(capsys, "routes", "delete", "a", "--gateway", "prod")
    assert deleted == [{"route": "a", "id": shown["id"], "deleted": True}]
    code, _, err = run(capsys, "routes", "delete", "a", "--gateway", "prod")
    assert code == 1
    assert_one_line_error(err, "no route named 'a'", "'prod'")
    gone = run_json(capsys, "routes", "delete", "a", "b", "--gateway", "prod", "--missing-ok")
    assert [d["deleted"] for d in gone] == [False, True]
    assert fake.routes == {}


def test_get_unknown_is_one_line(fake: FakeRoutes, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "routes", "get", "nope", "--gateway", "prod")
    assert code == 1
    assert_one_line_error(err, "no route named 'nope'")
    code, _, err = run(capsys, "routes", "get", "nope", "--gateway", "prod", "--json")
    assert code == 1
    assert json.loads(err)["error"]["type"] == "NotFound"


def test_an_invalid_spec_names_the_element(
    fake: FakeRoutes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(tmp_path / "gateway.toml")
    spec.write_text(spec.read_text().replace('"end"}}', '"nowhere"}}'))
    code, out, err = run(capsys, "routes", "plan", str(spec))
    assert (code, out) == (1, "")
    assert_one_line_error(err, "route.0.elements.m.outputs.success", "'nowhere'")
    code, _, err = run(capsys, "routes", "plan", str(spec), "--json")
    failure = json.loads(err)["error"]
    assert failure["type"] == "ValidationError"
    assert failure["fields"] == ["route.0.elements.m.outputs.success"]
    assert fake.requests == []


def test_a_file_without_routes(
    fake: FakeRoutes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "gateway.toml"
    spec.write_text('[gateway]\nid = "prod"\n')
    code, _, err = run(capsys, "routes", "apply", str(spec))
    assert code == 1
    assert_one_line_error(err, "declares no route")


def test_a_rejected_token_is_one_line(fake: FakeRoutes, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "routes", "list", "-g", "prod", "--api-token", "wrong")
    assert code == 1
    assert_one_line_error(err)


def test_missing_credentials(capsys: pytest.CaptureFixture[str], monkeypatch: Any) -> None:
    monkeypatch.delenv("CLOUDFLARE_ACCOUNT_ID", raising=False)
    code, _, err = run(capsys, "routes", "list", "-g", "prod")
    assert code == 1
    assert_one_line_error(err, "--account-id")


def test_help_lists_the_actions(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["routes", "--help"])
    out = capsys.readouterr().out
    for action in ("plan", "apply", "list", "get", "delete"):
        assert action in out
