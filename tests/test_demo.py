"""The README's main job: `aigateway demo` runs end to end and shows what it promises."""

from __future__ import annotations

import pytest

from aigateway_sdk.cli.main import main


def test_demo_runs_end_to_end(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "+ create gateway 'demo-gateway'" in out
    assert "rate_limiting_limit: 100 -> 6" in out
    assert "created_at kept: True" in out
    assert "is up to date" in out
    assert "cache: MISS" in out
    assert "cache: HIT; same text: True" in out
    assert "AiError RateLimited (status 429" in out
    assert "the same failure is a Defect" in out
    assert "requests logged" in out
