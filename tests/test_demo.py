"""The README's main job: `aigateway demo` runs end to end and shows what it promises."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from aigateway_sdk.cli.main import main

ROOT = Path(__file__).parents[1]


def test_demo_runs_end_to_end(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "+ create gateway 'demo-gateway'" in out
    assert "rate_limiting_limit: 100 -> 10" in out
    assert "created_at kept: True" in out
    assert "is up to date" in out
    assert "cache: MISS" in out
    assert "cache: HIT; same text: True" in out
    assert 'step 1: called get_weather({"city":"Lisbon"})' in out
    assert "step 2: Tool results: get_weather returned" in out
    assert "value: Forecast(city='Lisbon'" in out
    assert "a Forecast in 1 call(s)" in out
    assert "+ create route 'assistant'" in out or "create route" in out
    assert "plan=pro: served by workers-ai/@cf/meta/llama-3.3-70b-instruct-fp8-fast" in out
    assert "plan=free: served by workers-ai/@cf/meta/llama-3.1-8b-instruct" in out
    assert "AiError RateLimited (status 429" in out
    assert "the same failure is a Defect" in out
    assert "requests logged" in out
    # the log table names the model that served each call, a dynamic route's included
    log_table = out.split("== 9. the request log", 1)[1]
    assert "completions" not in log_table
    assert any(
        "llama-3.3-70b-instruct-fp8-fast" in line and "plan=pro" in line
        for line in log_table.splitlines()
    )


def dry_run(target: str, tmp_path: Path) -> str:
    """The commands `make <target>` would run on a fresh clone (no venv yet)."""
    result = subprocess.run(
        ["make", "-n", target, f"VENV={tmp_path / 'venv'}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_demo_installs_only_the_local_extra(tmp_path: Path) -> None:
    demo = dry_run("demo", tmp_path)
    assert "-e '.[local]'" in demo
    assert "--group" not in demo
    assert "dev]" not in demo  # no `dev` extra either
    assert "--group dev" in dry_run("test", tmp_path)
