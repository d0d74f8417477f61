"""The local gateway under load: `aigateway serve` in its own process, a bare aiohttp load
generator in this one.

Two gateways are created through the control plane, one with `collect_logs` on and one with it
off; for each scenario the two are measured in alternating rounds:

- `hit`: the same request every time (primed once): a cache hit;
- `miss`: a new prompt every time: the built-in model answers, the reply is cached;
- `stream`: a new prompt with `"stream": true`: the built-in model's event stream, read to the end.

Reported per row: requests/s, client-side latency p50/p99 (send to last byte) at the given
concurrency, and the server process's CPU time per request ("server time"). The server runs
with the default `--log-durability commit`, and once more with `background` (logs on only).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import psutil  # type: ignore[import-untyped]

from benchmarks.harness import ROOT, percentile, stop

TOKEN = "bench-token"
ACCOUNT = "local"
MODEL = "@cf/meta/llama-3.1-8b-instruct"
GATEWAYS = {True: "bench-logs", False: "bench-nologs"}
SCENARIOS = ("hit", "miss", "stream")
ROUNDS = 2


@dataclass
class LocalServer:
    url: str
    pid: int

    @property
    def api_url(self) -> str:
        return f"{self.url}/client/v4"

    def cpu_seconds(self) -> float:
        times = psutil.Process(self.pid).cpu_times()
        return float(times.user + times.system)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def local_gateway(directory: Path, durability: str) -> Iterator[LocalServer]:
    port = _free_port()
    command = [sys.executable, "-m", "aigateway_sdk", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--db", str(directory / f"{durability}.db")]
    command += ["--api-token", TOKEN, "--log-durability", durability]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        yield LocalServer(f"http://127.0.0.1:{port}", process.pid)
    finally:
        stop(process)


def _auth() -> dict[str, str]:
    return {"authorization": f"Bearer {TOKEN}", "content-type": "application/json"}


async def _wait_ready(session: aiohttp.ClientSession, server: LocalServer) -> None:
    url = f"{server.api_url}/accounts/{ACCOUNT}/ai-gateway/gateways"
    deadline = time.monotonic() + 30
    while True:
        try:
            async with session.get(url, headers=_auth()) as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the local gateway did not start within 30 s")
        await asyncio.sleep(0.1)


async def _create_gateways(session: aiohttp.ClientSession, server: LocalServer) -> None:
    url = f"{server.api_url}/accounts/{ACCOUNT}/ai-gateway/gateways"
    for logs, gateway_id in GATEWAYS.items():
        spec = {
            "id": gateway_id,
            "cache_ttl": 300,
            "cache_invalidate_on_update": False,
            "collect_logs": logs,
            "rate_limiting_interval": 0,
            "rate_limiting_limit": 0,
        }
        async with session.post(url, data=orjson.dumps(spec), headers=_auth()) as response:
            if response.status not in (200, 201):
                raise RuntimeError(
                    f"creating {gateway_id}: {response.status} {await response.text()}"
                )


class Load:
    """Requests for one scenario on one gateway, as fast as `concurrency` workers can go."""

    counter = 0

    def __init__(self, session: aiohttp.ClientSession, server: LocalServer, logs: bool):
        self._session = session
        self._url = f"{server.url}/v1/{ACCOUNT}/{GATEWAYS[logs]}/workers-ai/{MODEL}"

    def _body(self, scenario: str) -> bytes:
        if scenario == "hit":
            return orjson.dumps({"messages": [{"role": "user", "content": "A cached question."}]})
        Load.counter += 1
        body: dict[str, Any] = {
            "messages": [{"role": "user", "content": f"Question number {Load.counter}."}]
        }
        if scenario == "stream":
            body["stream"] = True
        return orjson.dumps(body)

    async def one(self, scenario: str, check: bool = True) -> float:
        body = self._body(scenario)
        start = time.perf_counter()
        async with self._session.post(self._url, data=body, headers=_auth()) as response:
            if response.status != 200:
                raise RuntimeError(f"{scenario}: {response.status} {await response.text()}")
            if scenario == "stream":
                async for _chunk in response.content.iter_any():
                    pass
            else:
                await response.read()
            if check and scenario == "hit" and response.headers.get("cf-aig-cache-status") != "HIT":
                raise RuntimeError("expected a cache hit")
        return time.perf_counter() - start

    async def run(self, scenario: str, seconds: float, concurrency: int) -> list[float]:
        latencies: list[float] = []
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            while time.perf_counter() < deadline:
                latencies.append(await self.one(scenario))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return latencies


async def _measure(
    server: LocalServer, durability: str, seconds: float, concurrency: int
) -> list[dict[str, Any]]:
    connector = aiohttp.TCPConnector(limit=concurrency * 2)
    async with aiohttp.ClientSession(connector=connector) as session:
        await _wait_ready(session, server)
        await _create_gateways(session, server)
        loads = {logs: Load(session, server, logs) for logs in (True, False)}
        for load in loads.values():
            for scenario in SCENARIOS:  # prime the cache, warm up both paths
                for _ in range(3):
                    await load.one(scenario, check=False)
        rows = []
        for scenario in SCENARIOS:
            collected: dict[bool, dict[str, Any]] = {
                logs: {"latencies": [], "wall": 0.0, "server_cpu": 0.0, "client_cpu": 0.0}
                for logs in loads
            }
            for number in range(ROUNDS):
                order = list(loads) if number % 2 == 0 else list(reversed(loads))
                for logs in order:
                    cpu, client_cpu = server.cpu_seconds(), time.process_time()
                    start = time.perf_counter()
                    latencies = await loads[logs].run(scenario, seconds / ROUNDS, concurrency)
                    entry = collected[logs]
                    entry["wall"] += time.perf_counter() - start
                    entry["server_cpu"] += server.cpu_seconds() - cpu
                    entry["client_cpu"] += time.process_time() - client_cpu
                    entry["latencies"].extend(latencies)
            for logs, entry in collected.items():
                latencies = entry["latencies"]
                rows.append(
                    {
                        "scenario": scenario,
                        "logs": logs,
                        "durability": durability,
                        "requests": len(latencies),
                        "req_per_s": len(latencies) / entry["wall"],
                        "p50_ms": percentile(latencies, 50) * 1e3,
                        "p99_ms": percentile(latencies, 99) * 1e3,
                        "server_cpu_us": entry["server_cpu"] / max(1, len(latencies)) * 1e6,
                        "server_cpu_share": entry["server_cpu"] / entry["wall"],
                        "client_cpu_share": entry["client_cpu"] / entry["wall"],
                        # what one fully busy server core would serve at this CPU cost
                        "per_core_req_per_s": len(latencies) / max(1e-9, entry["server_cpu"]),
                    }
                )
        return rows


def section(
    seconds: float, concurrency: int, durabilities: tuple[str, ...] = ("commit", "background")
) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="aigw-bench-") as tmp:
        for durability in durabilities:
            with local_gateway(Path(tmp), durability) as server:
                rows += asyncio.run(_measure(server, durability, seconds, concurrency))
    by_key = {(r["durability"], r["scenario"], r["logs"]): r for r in rows}
    for row in rows:
        off = by_key.get((row["durability"], row["scenario"], False))
        row["vs_logs_off"] = row["req_per_s"] / off["req_per_s"] if off else None
        row["capacity_vs_logs_off"] = (
            row["per_core_req_per_s"] / off["per_core_req_per_s"] if off else None
        )
    return {
        "title": "Local gateway: `aigateway serve` in its own process, aiohttp load generator",
        "unit": "req/s",
        "concurrency": concurrency,
        "seconds_per_row": seconds,
        "rows": rows,
    }


def _row(section: dict[str, Any], durability: str, scenario: str, logs: bool) -> dict[str, Any]:
    for row in section.get("rows", []):
        if (row["durability"], row["scenario"], row["logs"]) == (durability, scenario, logs):
            return dict(row)
    return {}


def targets(section: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    hit = _row(section, "commit", "hit", True)
    if hit:
        found.append(
            {
                "target": "local: cache hit, server CPU per request (ms, logs on)",
                "measured": hit["server_cpu_us"] / 1e3,
                "limit": "< 1 ms",
                "met": hit["server_cpu_us"] < 1000,
            }
        )
        found.append(
            {
                "target": "local: cache hits/s per server core, 1 / CPU per hit (logs on)",
                "measured": hit["per_core_req_per_s"],
                "limit": ">= 2,000",
                "met": hit["per_core_req_per_s"] >= 2000,
            }
        )
    for durability in ("commit", "background"):
        for scenario in SCENARIOS:
            row = _row(section, durability, scenario, True)
            if row and row.get("capacity_vs_logs_off") is not None:
                found.append(
                    {
                        "target": f"local: {scenario} req/s per server core, logs on "
                        f"({durability}) / off",
                        "measured": row["capacity_vs_logs_off"],
                        "limit": ">= 0.67",
                        "met": row["capacity_vs_logs_off"] >= 2 / 3,
                    }
                )
    return found


def render_section(section: dict[str, Any]) -> list[str]:
    out = [
        f"## {section['title']}",
        "",
        f"{section['concurrency']} concurrent requests, {section['seconds_per_row']:g} s per "
        "row in alternating rounds. Server CPU is the server process's CPU time per request; "
        "req/s per core is 1 / that (what one busy core would serve); the CPU shares tell "
        "who was the bottleneck (server vs this load generator). Latency is measured by the "
        "client, send to last byte.",
        "",
        "| scenario | logs | log durability | per-core ratio vs logs off | req/s ratio vs logs off "
        "| req/s | req/s per server core | p50 ms | p99 ms | server CPU µs/req "
        "| server CPU share | client CPU share |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in section["rows"]:
        ratio = "-" if r.get("vs_logs_off") is None else f"{r['vs_logs_off']:.2f}x"
        capacity = r.get("capacity_vs_logs_off")
        per_core = "-" if capacity is None else f"**{capacity:.2f}x**"
        out.append(
            f"| {r['scenario']} | {'on' if r['logs'] else 'off'} | {r['durability']} "
            f"| {per_core} | {ratio} "
            f"| {r['req_per_s']:,.0f} | {r['per_core_req_per_s']:,.0f} "
            f"| {r['p50_ms']:.2f} | {r['p99_ms']:.2f} "
            f"| {r['server_cpu_us']:,.0f} | {r['server_cpu_share']:.0%} "
            f"| {r['client_cpu_share']:.0%} |"
        )
    return out
