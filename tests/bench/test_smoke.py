"""The benchmark must not rot: run it in `--quick` mode and check that every section produced
rows and ratios. Nothing here asserts on timings."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from benchmarks import server as canned
from benchmarks.run import SECTIONS

ROOT = Path(__file__).resolve().parents[2]


def test_quick_run_fills_every_section(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "results.json").read_text())
    assert result["mode"] == "quick"
    sections = result["sections"]
    assert set(sections) == set(SECTIONS)
    for name, section in sections.items():
        assert section["rows"], f"section {name} has no rows"
    for name in ("call", "stream"):
        clients = {row["client"] for row in sections[name]["rows"]}
        assert {"sdk", "bare-httpx", "sdk+aiohttp", "openai"} <= clients
        for row in sections[name]["rows"]:
            assert row["ratio"] > 0, row
            assert row["value"] > 0, row
    agent = sections["agent"]
    tasks = {(row["task"], row["client"]) for row in agent["rows"]}
    for task in ("tool round trip", "generate_object"):
        assert {(task, "sdk"), (task, "openai"), (task, "bare-httpx+pool")} <= tasks
    assert ("generate_object", "sdk, no validation") in tasks
    for row in agent["rows"]:
        for field in ("value", "client_cpu", "ratio", "cpu_ratio", "cpu_vs_bare"):
            assert row[field] > 0, (field, row)
    assert {"cpu"} <= set(agent["validation_paired"])
    assert all(v["cpu_us"] > 0 for v in agent["validators"])
    agent_targets = [t["target"] for t in result["targets"] if "generate_object" in t["target"]]
    assert len(agent_targets) == 2
    assert any(t["target"].startswith("tool round trip") for t in result["targets"])
    for row in sections["throughput"]["rows"]:
        assert row["ratio"], row
        assert all(v > 0 for v in row["calls_per_s"].values()), row
    assert all(row["peak_rss_delta_mb"] is not None for row in sections["memory"]["rows"])
    scenarios = {(row["scenario"], row["logs"]) for row in sections["local"]["rows"]}
    assert {("hit", True), ("hit", False), ("miss", True), ("stream", False)} <= scenarios
    assert {row["client"] for row in sections["import"]["rows"]} >= {
        "aigateway_sdk",
        "openai",
        "aigateway_sdk ready",
        "openai ready",
    }
    assert result["targets"]
    assert all(
        t["measured"] is not None or t["measured_cpu"] is not None for t in result["targets"]
    )
    report = (tmp_path / "RESULTS.md").read_text()
    for heading in (
        "## Targets",
        "## Per call",
        "## Per stream part",
        "## Agent",
        "### tool round trip",
        "### generate_object",
        "## Throughput",
        "## Memory",
        "## Local gateway",
        "## Import time",
    ):
        assert heading in report


def test_canned_server_answers_pipelined_requests() -> None:
    async def exchange() -> bytes:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[int] = loop.create_future()
        task = asyncio.create_task(canned.serve("127.0.0.1", 0, 3, ready))
        port = await ready
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        stream_body = b'{"messages":[],"stream": true}'
        writer.write(
            b"POST /v1/a/g/workers-ai/@cf/m HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
            + b"POST /v1/a/g/compat/chat/completions HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s"
            % (len(stream_body), stream_body)
        )
        await writer.drain()
        data = b""
        while not data.endswith(b"0\r\n\r\n"):
            data += await reader.read(65536)
        writer.close()
        task.cancel()
        return data

    data = asyncio.run(exchange())
    assert data.startswith(b"HTTP/1.1 200 OK")
    assert data.count(b"HTTP/1.1 200 OK") == 2
    assert b'"response":"Hello!' in data
    assert data.count(b'"content":" tok"') == 3
    assert b"data: [DONE]" in data
