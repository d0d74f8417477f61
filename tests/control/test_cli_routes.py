"""`aigateway routes plan|apply|list|get|delete` in-process against the local gateway: exit
codes, `--json` on stdout only, one-line errors on stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from aigateway_sdk.cli.main import main
from aigateway_sdk.local import LocalGateway

from .conftest import TOKEN

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
def env(gw: LocalGateway, account: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", account)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
    monkeypatch.setenv("AIGATEWAY_API_BASE_URL", gw.api_url)
    monkeypatch.setenv("AIGATEWAY_BASE_URL", gw.data_url)
    monkeypatch.delenv("AIGATEWAY_GATEWAY_ID", raising=False)
    monkeypatch.delenv("CLOUDFLARE_GATEWAY_TOKEN", raising=False)
    return account


def write_spec(path: Path, gateway_id: str, model: str = LLAMA, name: str = "support") -> Path:
    path.write_text(
        f'[gateways.Prod]\nid = "{gateway_id}"\n\n'
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


def gateway_with_route(
    capsys: pytest.CaptureFixture[str], path: Path, gateway_id: str, **kwargs: Any
) -> Path:
    """A gateway.toml with a gateway and a [[route]], the gateway applied."""
    spec = write_spec(path, gateway_id, **kwargs)
    assert run_json(capsys, "gateways", "apply", str(spec))[0]["result"] == "created"
    return spec


def test_plan_apply_replan_cycle(
    env: str, gateway_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = gateway_with_route(capsys, tmp_path / "gateway.toml", gateway_id)
    plans = run_json(capsys, "routes", "plan", str(spec))
    assert [(p["action"], p["name"], p["gateway_id"]) for p in plans] == [
        ("create", "support", gateway_id)
    ]
    assert run(capsys, "routes", "plan", str(spec), "--detailed-exitcode")[0] == 2

    applied = run_json(capsys, "routes", "apply", str(spec))
    assert applied[0]["result"] == "created"
    assert applied[0]["route"]["elements"][1]["properties"]["model"] == LLAMA

    code, out, _ = run(capsys, "routes", "plan", str(spec), "--detailed-exitcode")
    assert code == 0
    assert "is up to date" in out
    assert "0 to create, 0 to version and deploy, 1 unchanged" in out

    where = f"route 'support' of gateway '{gateway_id}'"
    write_spec(spec, gateway_id, model="@cf/other")
    code, out, _ = run(capsys, "routes", "plan", str(spec))
    assert code == 0
    assert f"~ update {where}: a new version, deployed" in out
    assert "~ element 'm' changed" in out
    code, out, _ = run(capsys, "routes", "apply", str(spec))
    assert code == 0
    assert out.startswith(f"~ {where}: version ")
    code, out, _ = run(capsys, "routes", "apply", str(spec))
    assert out.startswith(f"= {where} unchanged")
    shown = run_json(capsys, "routes", "get", "support", "-g", gateway_id)
    assert len(shown["versions"]) == 2
    assert shown["elements"][1]["properties"]["model"] == "@cf/other"


def test_apply_then_list_json(
    env: str, gateway_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = gateway_with_route(capsys, tmp_path / "gateway.toml", gateway_id)
    code, out, err = run(capsys, "routes", "apply", str(spec))
    assert (code, err) == (0, "")
    assert out.startswith(f"+ created route 'support' of gateway '{gateway_id}': version ")
    (listed,) = run_json(capsys, "routes", "list", "--gateway", gateway_id)
    assert (listed["name"], listed["gateway_id"]) == ("support", gateway_id)
    assert listed["elements"] == elements()
    assert listed["version"]["active"] is True
    assert listed["deployment"]["version_id"] == listed["version"]["version_id"]


def test_two_processes_applying_at_once(
    env: str, gateway_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two `aigateway routes apply` processes at once (no lock shared): both succeed, one
    route serves the spec; then both apply a change and the change is what serves."""
    spec = gateway_with_route(capsys, tmp_path / "gateway.toml", gateway_id)
    root = Path(__file__).resolve().parents[2]
    child_env = {**os.environ, "PYTHONPATH": str(root)}

    def both_apply() -> list[str]:
        argv = [sys.executable, "-m", "aigateway_sdk", "routes", "apply", str(spec), "--json"]
        children = [
            subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env)
            for _ in range(2)
        ]
        results = []
        for child in children:
            out, err = child.communicate(timeout=120)
            assert child.returncode == 0, err.decode()
            results.append(json.loads(out)[0]["result"])
        return sorted(results)

    assert both_apply() == ["created", "unchanged"]
    write_spec(spec, gateway_id, model="@cf/other")
    assert "new-version" in both_apply()
    (listed,) = run_json(capsys, "routes", "list", "-g", gateway_id)
    assert listed["elements"] == elements("@cf/other")
    shown = run_json(capsys, "routes", "get", "support", "-g", gateway_id)
    assert 2 <= len(shown["versions"]) <= 3
    assert run_json(capsys, "routes", "apply", str(spec))[0]["result"] == "unchanged"


def test_default_source_is_gateway_toml(
    env: str,
    gateway_id: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: Any,
) -> None:
    gateway_with_route(capsys, tmp_path / "gateway.toml", gateway_id)
    monkeypatch.chdir(tmp_path)
    assert run_json(capsys, "routes", "plan")[0]["action"] == "create"


def test_a_route_of_a_gateway_not_applied_is_one_line(
    env: str, gateway_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(tmp_path / "gateway.toml", gateway_id)
    for action in ("plan", "apply"):
        code, out, err = run(capsys, "routes", action, str(spec))
        assert (code, out) == (1, "")
        # says what to do: `routes apply` never creates the gateway
        assert_one_line_error(err, "NotFound", gateway_id, f"`aigateway gateways apply {spec}`")
    code, _, err = run(capsys, "routes", "apply", str(spec), "--json")
    assert code == 1
    assert json.loads(err)["error"]["status"] == 404
    code, _, err = run(capsys, "routes", "list", "-g", "no-such-gateway")
    assert code == 1
    assert_one_line_error(err, "NotFound", "'no-such-gateway'", "--gateway/-g")
    code, _, err = run(capsys, "routes", "get", "support", "-g", "no-such-gateway")
    assert code == 1
    assert_one_line_error(err, "NotFound", "'no-such-gateway'", "--gateway/-g")


def test_list_get_delete(
    env: str, gateway_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gateway_with_route(capsys, tmp_path / "g.toml", gateway_id)
    for name in ("a", "b"):
        spec = write_spec(tmp_path / f"{name}.toml", gateway_id, name=name)
        run_json(capsys, "routes", "apply", str(spec))

    listed = run_json(capsys, "routes", "list", "--gateway", gateway_id)
    assert [r["name"] for r in listed] == ["a", "b"]
    code, out, _ = run(capsys, "routes", "list", "-g", gateway_id, "--per-page", "1")
    assert code == 0
    assert out.splitlines()[0].split() == ["id", "name", "elements", "version", "modified_at"]
    assert len(out.splitlines()) == 3

    shown = run_json(capsys, "routes", "get", "a", "--gateway", gateway_id)
    assert shown["name"] == "a"
    assert [v["active"] for v in shown["versions"]] == [True]
    by_id = run_json(capsys, "routes", "get", shown["id"], "--gateway", gateway_id)
    assert by_id["name"] == "a"
    code, out, _ = run(capsys, "routes", "get", "a", "--gateway", gateway_id)
    assert f"m: model workers-ai {LLAMA} -> success=end" in out

    deleted = run_json(capsys, "routes", "delete", "a", "--gateway", gateway_id)
    assert deleted == [{"route": "a", "id": shown["id"], "deleted": True}]
    code, _, err = run(capsys, "routes", "delete", "a", "--gateway", gateway_id)
    assert code == 1
    assert_one_line_error(err, "no route named 'a'", f"'{gateway_id}'")
    gone = run_json(capsys, "routes", "delete", "a", "b", "--gateway", gateway_id, "--missing-ok")
    assert [d["deleted"] for d in gone] == [False, True]
    assert run_json(capsys, "routes", "list", "--gateway", gateway_id) == []


def test_get_unknown_is_one_line(
    env: str, gateway_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gateway_with_route(capsys, tmp_path / "g.toml", gateway_id)
    code, _, err = run(capsys, "routes", "get", "nope", "--gateway", gateway_id)
    assert code == 1
    assert_one_line_error(err, "no route named 'nope'")
    code, _, err = run(capsys, "routes", "get", "nope", "--gateway", gateway_id, "--json")
    assert code == 1
    assert json.loads(err)["error"]["type"] == "NotFound"


def test_an_invalid_spec_names_the_element(
    env: str, gateway_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(tmp_path / "gateway.toml", gateway_id)
    spec.write_text(spec.read_text().replace('"end"}}', '"nowhere"}}'))
    code, out, err = run(capsys, "routes", "plan", str(spec))
    assert (code, out) == (1, "")
    assert_one_line_error(err, "route.0.elements.m.outputs.success", "'nowhere'")
    code, _, err = run(capsys, "routes", "plan", str(spec), "--json")
    failure = json.loads(err)["error"]
    assert failure["type"] == "ValidationError"
    assert failure["fields"] == ["route.0.elements.m.outputs.success"]


def test_a_file_without_routes(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "gateway.toml"
    spec.write_text('[gateway]\nid = "prod"\n')
    code, _, err = run(capsys, "routes", "apply", str(spec))
    assert code == 1
    assert_one_line_error(err, "declares no route")


def test_a_rejected_token_is_one_line(
    env: str, gateway_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "routes", "list", "-g", gateway_id, "--api-token", "wrong")
    assert code == 1
    assert_one_line_error(err, "AuthenticationFailed")


def test_missing_credentials(
    env: str, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
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
