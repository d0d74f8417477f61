"""The console-exporter example of docs/observability.md runs and prints the spans it names."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("opentelemetry.sdk")

ROOT = Path(__file__).resolve().parents[2]


def test_the_console_exporter_example_runs() -> None:
    page = (ROOT / "docs" / "observability.md").read_text()
    (example,) = [b for b in re.findall(r"```python\n(.*?)```", page, re.S) if "instrument()" in b]
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AIGATEWAY_LOG")}
    done = subprocess.run(
        [sys.executable, "-c", example],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    names = re.findall(r'^    "name": "(.*)",$', done.stdout, re.M)
    model = "@cf/meta/llama-3.1-8b-instruct"
    assert names == [
        f"chat {model}",
        f"chat {model}",
        f"chat {model}",
        "execute_tool get_weather",
        f"chat {model}",
        "embeddings @cf/baai/bge-small-en-v1.5",
    ]
    assert "gen_ai.client.operation.duration" in done.stdout
    assert "gen_ai.client.token.usage" in done.stdout
    assert json.dumps("cloudflare.ai_gateway.log_id") in done.stdout
