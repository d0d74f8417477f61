"""The `aigateway` command line in-process against the local gateway: exit codes, `--json`
on stdout only, one-line errors on stderr."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from aigateway_sdk.cli import gateways, serve
from aigateway_sdk.cli.main import main
from aigateway_sdk.local import LocalGateway

from .conftest import TOKEN, call_model


@pytest.fixture
def env(gw: LocalGateway, account: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", account)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
    monkeypatch.setenv("AIGATEWAY_API_BASE_URL", gw.api_url)
    monkeypatch.setenv("AIGATEWAY_BASE_URL", gw.data_url)
    monkeypatch.delenv("AIGATEWAY_GATEWAY_ID", raising=False)
    monkeypatch.delenv("CLOUDFLARE_GATEWAY_TOKEN", raising=False)
    return account


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)  # stdout holds exactly one JSON document


def assert_one_line_error(err: str, *words: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("aigateway: error: ")
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0]


def write_spec(path: Path, gateway_id: str, **settings: Any) -> Path:
    lines = ["[gateways.Main]", f'id = "{gateway_id}"']
    lines += [f"{k} = {json.dumps(v)}" for k, v in settings.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_plan_apply_replan_cycle(
    env: str, gateway_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(tmp_path / "gateway.toml", gateway_id, cache_ttl=300, authentication=True)

    plans = run_json(capsys, "gateways", "plan", str(spec))
    assert plans[0]["action"] == "create"
    assert plans[0]["gateway_id"] == gateway_id
    assert run(capsys, "gateways", "plan", str(spec), "--detailed-exitcode")[0] == 2

    applied = run_json(capsys, "gateways", "apply", str(spec))
    assert applied[0]["result"] == "created"
    created_at = applied[0]["gateway"]["created_at"]
    assert applied[0]["gateway"]["cache_ttl"] == 300

    code, out, _ = run(capsys, "gateways", "plan", str(spec), "--detailed-exitcode")
    assert code == 0
    assert "up to date" in out

    write_spec(spec, gateway_id, cache_ttl=60, authentication=True)
    code, out, _ = run(capsys, "gateways", "plan", str(spec))
    assert code == 0
    assert "cache_ttl: 300 -> 60" in out
    assert "1 to update in place" in out
    plans = run_json(capsys, "gateways", "plan", str(spec))
    assert plans[0]["changes"] == [{"field": "cache_ttl", "old": 300, "new": 60}]

    applied = run_json(capsys, "gateways", "apply", str(spec))
    assert applied[0]["result"] == "updated"
    assert applied[0]["gateway"]["created_at"] == created_at
    assert run_json(capsys, "gateways", "apply", str(spec))[0]["result"] == "unchanged"


def test_get_shows_spend_limits_as_plans_do(
    env: str, gateway_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(tmp_path / "gateway.toml", gateway_id)
    with spec.open("a") as toml:
        toml.write(
            '[[gateways.Main.spend_limits.rules]]\nlimit = 5.0\nlimitType = "cost"\n'
            'window = 86400\nmetadata = { user_id = { mode = "partition" } }\n'
        )
    run_json(capsys, "gateways", "apply", str(spec))
    code, out, _ = run(capsys, "gateways", "get", gateway_id)
    assert code == 0
    (line,) = [line for line in out.splitlines() if line.startswith("spend_limits")]
    assert line.split(None, 1)[1] == "1 rule: $5 per 86400s fixed, by metadata user_id"
    shown = run_json(capsys, "gateways", "get", gateway_id)  # --json keeps Cloudflare's shape
    assert shown["spend_limits"]["rules"][0]["limitType"] == "cost"


def test_default_source_is_gateway_toml_in_the_current_directory(
    env: str,
    gateway_id: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_spec(tmp_path / "gateway.toml", gateway_id)
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "gateways", "apply")
    assert code == 0
    assert f"created gateway '{gateway_id}'" in out


def test_module_object_source(
    env: str,
    gateway_id: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    module = f"cli_spec_{gateway_id.replace('-', '_')}"
    (tmp_path / f"{module}.py").write_text(
        "from aigateway_sdk.control import AiGateway\n"
        f"Gateway = AiGateway('Gateway', id='{gateway_id}', rate_limiting_limit=5)\n"
    )
    monkeypatch.chdir(tmp_path)
    applied = run_json(capsys, "gateways", "apply", f"{module}:Gateway")
    assert applied[0]["gateway"]["rate_limiting_limit"] == 5


def test_list_get_delete(
    env: str, gateway_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_json(capsys, "gateways", "apply", str(write_spec(tmp_path / "g.toml", gateway_id)))

    listed = run_json(capsys, "gateways", "list", "--per-page", "1")
    assert gateway_id in [g["id"] for g in listed]
    code, out, _ = run(capsys, "gateways", "list")
    assert code == 0
    assert out.splitlines()[0].split()[0] == "id"  # a table with a header
    assert gateway_id in out

    assert run_json(capsys, "gateways", "get", gateway_id)["id"] == gateway_id

    assert run_json(capsys, "gateways", "delete", gateway_id) == [
        {"id": gateway_id, "deleted": True}
    ]
    code, _, err = run(capsys, "gateways", "get", gateway_id)
    assert code == 1
    assert_one_line_error(err, "NotFound", "404")
    code, _, err = run(capsys, "gateways", "delete", gateway_id)
    assert code == 1
    assert_one_line_error(err, "NotFound")
    assert run_json(capsys, "gateways", "delete", gateway_id, "--missing-ok") == [
        {"id": gateway_id, "deleted": False}
    ]


def test_invalid_spec_file_names_the_field(
    env: str, gateway_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(tmp_path / "bad.toml", gateway_id, cache_ttl=-5)
    code, out, err = run(capsys, "gateways", "apply", str(spec))
    assert code == 1
    assert out == ""
    assert_one_line_error(err, "gateways.Main.cache_ttl", "must be >= 0")
    code, out, err = run(capsys, "gateways", "apply", str(spec), "--json")
    assert (code, out) == (1, "")
    error = json.loads(err)["error"]
    assert (error["type"], error["fields"]) == ("ValidationError", ["gateways.Main.cache_ttl"])


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["gateways", "plan", "missing.toml"], ["missing.toml", "no such file"]),
        (["gateways", "plan", "nosuchmodule_xyz:Gateway"], ["no module named"]),
        (["logs", "list", "--filter", "success"], ["key=op:value"]),
        (["logs", "list", "--filter", "success=like:x"], ["operator"]),
        (["logs", "delete"], ["--all"]),
    ],
)
def test_bad_input_is_one_line(
    env: str, tmp_path: Path, argv: list[str], words: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 1
    assert out == ""
    assert_one_line_error(err, *words)


def test_broken_toml_is_one_line(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "broken.toml"
    bad.write_text("[gateway\n")
    code, _, err = run(capsys, "gateways", "plan", str(bad))
    assert code == 1
    assert_one_line_error(err, "invalid TOML")


def test_missing_credentials(
    env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN")
    code, _, err = run(capsys, "gateways", "list")
    assert code == 1
    assert_one_line_error(err, "--api-token", "CLOUDFLARE_API_TOKEN")
    monkeypatch.delenv("CLOUDFLARE_ACCOUNT_ID")
    code, _, err = run(capsys, "logs", "list", "--api-token", TOKEN)
    assert code == 1
    assert_one_line_error(err, "CLOUDFLARE_ACCOUNT_ID")


def test_wrong_token_is_one_line(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "gateways", "list", "--api-token", "wrong")
    assert code == 1
    assert_one_line_error(err, "AuthenticationFailed", "401")


def test_usage_error_exits_2(env: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["gateways", "frobnicate"])
    assert exit_info.value.code == 2


def test_logs_list_get_delete(
    gw: LocalGateway, env: str, gateway_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_json(capsys, "gateways", "apply", str(write_spec(tmp_path / "g.toml", gateway_id)))
    with httpx.Client() as client:
        for i in range(7):
            event = {"cf-aig-event-id": f"e{i}"}
            reply = call_model(
                gw, env, gateway_id, "hello " * (i + 1), headers=event, client=client
            )
            assert reply.status_code == 200

    listed = run_json(capsys, "logs", "list", "-g", gateway_id, "--per-page", "2", "--limit", "0")
    assert [e["event_id"] for e in listed] == [f"e{i}" for i in reversed(range(7))]
    limited = run_json(capsys, "logs", "list", "-g", gateway_id, "--limit", "3")
    assert len(limited) == 3
    filtered = run_json(
        capsys,
        "logs",
        "list",
        "-g",
        gateway_id,
        "--filter",
        "tokens_in=gt:2",
        "--filter",
        "event_id=neq:e6",
        "--order-by",
        "created_at",
        "--direction",
        "asc",
    )
    assert [e["event_id"] for e in filtered] == ["e2", "e3", "e4", "e5"]

    code, out, _ = run(capsys, "logs", "list", "-g", gateway_id, "--limit", "2")
    assert code == 0
    assert out.splitlines()[0].split()[:2] == ["id", "created_at"]
    assert len(out.splitlines()) == 3

    one = run_json(
        capsys, "logs", "get", listed[0]["id"], "-g", gateway_id, "--request", "--response"
    )
    assert one["event_id"] == "e6"
    assert one["request"] == {"prompt": "hello " * 7}
    assert "response" in one["response"]["result"]

    deleted = run_json(capsys, "logs", "delete", "-g", gateway_id, "--filter", "event_id=eq:e0")
    assert deleted["deleted"] == 1
    code, out, _ = run(capsys, "logs", "delete", "-g", gateway_id, "--all")
    assert code == 0
    assert "deleted 6 logs" in out
    assert run_json(capsys, "logs", "list", "-g", gateway_id) == []


def test_generate_and_stream(
    gw: LocalGateway, env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # the `default` gateway exists on first use and has authentication on
    generated = run_json(capsys, "generate", "Say hello.", "--gateway-token", TOKEN)
    assert generated["text"]
    assert generated["usage"]["output_tokens"] > 0
    assert generated["log_id"]

    code, out, err = run(capsys, "stream", "Say hello.", "--gateway-token", TOKEN)
    assert code == 0
    assert out.strip() == generated["text"].strip()  # the built-in model is deterministic
    assert "out" in err  # usage summary on stderr, not stdout

    code, out, _ = run(capsys, "stream", "Say hello.", "--gateway-token", TOKEN, "--json")
    parts = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert parts[-1]["type"] == "finish"
    deltas = [p["delta"] for p in parts if p["type"] == "text-delta"]
    assert "".join(deltas) == generated["text"]

    code, _, err = run(capsys, "generate", "Say hello.")  # no gateway token
    assert code == 1
    assert_one_line_error(
        err, "AuthenticationFailed", "'default'", "--gateway-token", "CLOUDFLARE_GATEWAY_TOKEN"
    )
    code, _, err = run(capsys, "stream", "Say hello.", "--gateway-token", "wrong")
    assert code == 1
    assert_one_line_error(err, "AuthenticationFailed", "refused the gateway token")

    # a typo'd model id points at the catalog
    for command in ("generate", "stream"):
        typo = ["-m", "@cf/meta/llama-3.1-8b-instrukt", "--gateway-token", TOKEN]
        code, _, err = run(capsys, command, "Say hello.", *typo)
        assert code == 1
        assert_one_line_error(err, "UnknownModel", "No such model", "aigateway models --search")


def test_the_installed_command_fails_without_a_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "aigateway_sdk.cli.main", "gateways", "plan", "absent.toml"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert_one_line_error(result.stderr, "absent.toml", "no such file")


def test_the_shipped_example_applies(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    example = Path(__file__).parents[2] / "examples" / "gateway.toml"
    applied = run_json(capsys, "gateways", "apply", str(example))
    assert [(a["gateway_id"], a["result"]) for a in applied] == [
        ("prod-gateway", "created"),
        ("staging", "created"),
    ]
    assert applied[0]["gateway"]["retry_backoff"] == "exponential"
    code, _, _ = run(capsys, "gateways", "plan", str(example), "--detailed-exitcode")
    assert code == 0


# -- the README's example on an authenticated gateway; `logs get` names where it looked ------


def test_readme_generate_example_on_an_authenticated_gateway(
    env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    example = Path(__file__).parents[2] / "examples" / "gateway.toml"
    run_json(capsys, "gateways", "apply", str(example))  # prod-gateway: authentication on
    code, _, err = run(capsys, "generate", "Say hello.", "-g", "prod-gateway")
    assert code == 1
    assert_one_line_error(err, "'prod-gateway'", "--gateway-token", "CLOUDFLARE_GATEWAY_TOKEN")
    monkeypatch.setenv("CLOUDFLARE_GATEWAY_TOKEN", TOKEN)  # what the README says to set
    code, out, _ = run(capsys, "generate", "Say hello.", "-g", "prod-gateway")
    assert code == 0
    assert out.strip()


def test_logs_get_not_found_names_the_account_and_gateway(
    env: str, gateway_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_json(capsys, "gateways", "apply", str(write_spec(tmp_path / "g.toml", gateway_id)))
    code, _, err = run(capsys, "logs", "get", "01NOSUCHLOG", "-g", gateway_id)
    assert code == 1
    assert_one_line_error(err, "'01NOSUCHLOG'", f"gateway '{gateway_id}'", f"account '{env}'")


# -- conventions every command shares ----------------------------------------------------------


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.split() == [
        "aigateway",
        importlib.metadata.version("cf-aigateway-sdk"),
    ]


def test_help_shows_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "port (0 picks a free one) (default: 8787)" in text
    assert "address to listen on (default: 127.0.0.1)" in text
    with pytest.raises(SystemExit):
        main(["logs", "list", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default 50)" in text
    assert "(default: 50)" not in text  # said once, by the help text itself
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    assert "(default: 0.0)" in capsys.readouterr().out  # a zero is a default too


@pytest.mark.parametrize(
    ("argv", "suggestion"),
    [
        (["gateways", "plan", "--detailed-exticode"], "--detailed-exitcode"),
        (["logs", "list", "--limt", "5"], "--limit"),
        (["generate", "hi", "--gateway-tokn=x"], "--gateway-token"),
        (["--verison"], "--version"),
        (["gateways", "lst"], "list"),
        (["gateway", "list"], "gateways"),
    ],
)
def test_a_mistyped_flag_gets_a_suggestion(
    argv: list[str], suggestion: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert f"(did you mean {suggestion}?)" in capsys.readouterr().err


SNAKE_CASE = re.compile(r"^[a-z][a-z0-9_]*$")
USER_DATA = {"metadata", "request", "response"}  # keys inside are the caller's own


def json_keys(value: Any) -> set[str]:
    if isinstance(value, list):
        return set().union(*(json_keys(v) for v in value))
    if isinstance(value, dict):
        keys = set(value)
        for key, item in value.items():
            if key not in USER_DATA:
                keys |= json_keys(item)
        return keys
    return set()


def test_json_keys_are_snake_case_in_every_command(
    gw: LocalGateway, env: str, gateway_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = str(write_spec(tmp_path / "g.toml", gateway_id))
    token = ["--gateway-token", TOKEN, "-g", gateway_id]
    outputs = [
        run_json(capsys, "gateways", "plan", spec),
        run_json(capsys, "gateways", "apply", spec),
        run_json(capsys, "gateways", "list"),
        run_json(capsys, "gateways", "get", gateway_id),
        run_json(capsys, "generate", "Say hello.", *token),
    ]
    code, out, _ = run(capsys, "stream", "Say hello.", *token, "--json")
    assert code == 0
    outputs += [json.loads(line) for line in out.splitlines()]
    listed = run_json(capsys, "logs", "list", "-g", gateway_id)
    outputs += [listed, run_json(capsys, "logs", "get", listed[0]["id"], "-g", gateway_id)]
    outputs.append(run_json(capsys, "logs", "delete", "-g", gateway_id, "--all"))
    outputs.append(run_json(capsys, "gateways", "delete", gateway_id))
    keys = json_keys(outputs)
    assert {"log_id", "cache_status", "response_id", "input_tokens", "finish_reason"} <= keys
    assert sorted(k for k in keys if not SNAKE_CASE.match(k)) == []


def test_errors_under_json_are_one_json_object_on_stderr(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "gateways", "get", "no-such-gateway", "--json")
    assert (code, out) == (1, "")
    [line] = err.splitlines()
    error = json.loads(line)["error"]
    assert (error["type"], error["status"]) == ("NotFound", 404)
    assert "no-such-gateway" in error["message"]

    code, out, err = run(capsys, "logs", "delete", "--json")
    assert (code, out) == (1, "")
    assert json.loads(err)["error"]["type"] == "UsageError"

    with pytest.raises(SystemExit) as exit_info:
        main(["gateways", "list", "--json", "--serach", "x"])
    assert exit_info.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    error = json.loads(err)["error"]
    assert error["type"] == "UsageError"
    assert "did you mean --search?" in error["message"]


def test_an_unexpected_failure_is_one_line_unless_debugging(
    env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(gateways, "_list", broken)
    monkeypatch.setattr(serve, "_listen", broken)
    for argv in (["gateways", "list"], ["serve", "--port", "0"]):
        code, _, err = run(capsys, *argv)
        assert code == 1
        assert_one_line_error(err, "unexpected RuntimeError: a bug", "AIGATEWAY_DEBUG=1")
    monkeypatch.setenv("AIGATEWAY_DEBUG", "1")
    with pytest.raises(RuntimeError, match="a bug"):
        main(["serve", "--port", "0"])


def cli(*argv: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """The installed command line in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "aigateway_sdk", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        **kwargs,
    )


@pytest.mark.parametrize(
    ("argv", "exit_codes"),
    [(["--help"], {0, 141}), (["gateways", "list", "--json"], {141})],
)
def test_a_closed_stdout_ends_quietly(env: str, argv: list[str], exit_codes: set[int]) -> None:
    """`aigateway ... | head`: the reader is gone before anything is written. A command's
    output ends with 141, as after SIGPIPE (argparse's help may already have ended with 0)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "aigateway_sdk", *argv],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert result.stderr == ""
    assert result.returncode in exit_codes


# -- serve: the banner only once the port is bound; a missing extra is one line ------------


def test_serve_announces_the_bound_port(tmp_path: Path) -> None:
    """`--port 0`: the banner comes after the bind, so it names the real port."""
    process = subprocess.Popen(
        [sys.executable, "-m", "aigateway_sdk", "serve", "--port", "0", "--db", "gw.db"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        url = first.split(" on ", 1)[1].strip()
        auth = {"authorization": "Bearer any"}  # no --api-token: any bearer token will do
        reply = httpx.get(f"{url}/client/v4/accounts/a/ai-gateway/gateways", headers=auth)
        assert reply.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_serve_on_a_port_in_use_is_one_line_without_a_banner(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = cli("serve", "--port", port, "--db", "gw.db", cwd=tmp_path)
    assert result.returncode == 1
    assert "AI Gateway (local)" not in result.stderr
    assert_one_line_error(result.stderr, f"cannot listen on 127.0.0.1:{port}")


def test_serve_with_a_bad_database_is_one_line(tmp_path: Path) -> None:
    result = cli("serve", "--port", "0", "--db", str(tmp_path), cwd=tmp_path)  # a directory
    assert result.returncode == 1
    assert "AI Gateway (local)" not in result.stderr
    assert_one_line_error(result.stderr, "did not start", "unable to open database file")


WITHOUT_LOCAL_EXTRA = (
    "import sys\n"
    "sys.modules['starlette'] = sys.modules['uvicorn'] = None  # as if not installed\n"
    "from aigateway_sdk.cli.main import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_without_the_local_extra_the_install_line_is_printed(command: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_LOCAL_EXTRA, command, "--db", "gw.db"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert_one_line_error(
        result.stderr, f"`aigateway {command}`", "pip install 'cf-aigateway-sdk[local]'"
    )
