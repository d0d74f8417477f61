"""`python -m benchmarks.run`: the SDK side by side with bare clients and the `openai` client.

Every run starts its own canned server (`benchmarks.server`) in a separate process and measures
all clients in this process, interleaved round by round. Sections:

- `call`: time per `generate_text` vs a bare POST + JSON decode of the same request;
- `stream`: time per stream part, a stream of `--parts` parts;
- `agent`: a tool round trip (two model calls and a handler) and a `generate_object` call, the
  SDK vs the `openai` client and bare httpx doing the same by hand (`benchmarks.agent`);
- `throughput`: calls/s at 1, 16, 64 and 256 concurrent calls;
- `memory`: peak RSS over a 100,000-part stream (fresh process);
- `local`: the local gateway (separate process): req/s and latency, hits/misses/streams,
  logging on and off;
- `import`: `import aigateway_sdk` vs `import openai` (fresh interpreters);
- `cassette`: `generate_text` answered by a cassette replay vs the local gateway.
- `observe`: `generate_text` and a stream with tracing on (in-memory exporter) and a DEBUG log,
  vs both off (`benchmarks.observe`).

Writes `RESULTS.md` and `results.json` (into `--out`, default `benchmarks/`). `--only` runs some
sections and keeps the others from the existing `results.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import agent as bench_agent
from benchmarks import cassette as bench_cassette
from benchmarks import clients as bench_clients
from benchmarks import local as bench_local
from benchmarks import observe as bench_observe
from benchmarks.harness import (
    ROOT,
    Sample,
    ServerProcess,
    canned_server,
    interleaved,
    paired_ratio,
    per_unit,
    timed,
)
from benchmarks.report import machine_info, render

SECTIONS = (
    "call",
    "stream",
    "agent",
    "throughput",
    "memory",
    "local",
    "import",
    "cassette",
    "observe",
)
HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Sizes:
    rounds: int
    calls: int  # sequential calls per client per round
    streams: int  # streams per client per round
    parts: int  # text parts per stream
    agent_calls: int  # tool round trips / generate_object calls per client per round
    validator_calls: int  # calls per timing loop of each validator alone
    throughput_seconds: float  # per client, concurrency level and round (plus the drain)
    throughput_rounds: int
    concurrency: tuple[int, ...]
    memory_parts: tuple[int, ...]
    local_seconds: float  # per local-gateway scenario
    local_concurrency: int
    local_durabilities: tuple[str, ...]
    import_repeats: int
    import_top: bool  # also list the slowest imports (`-X importtime`)


FULL = Sizes(
    rounds=6,
    calls=200,
    streams=12,
    parts=200,
    agent_calls=100,
    validator_calls=20_000,
    throughput_seconds=0.6,
    throughput_rounds=4,
    concurrency=(1, 16, 64, 256),
    memory_parts=(10_000, 100_000),
    local_seconds=4.0,
    local_concurrency=16,
    local_durabilities=("commit", "background"),
    import_repeats=5,
    import_top=True,
)
QUICK = Sizes(
    rounds=2,
    calls=4,
    streams=1,
    parts=20,
    agent_calls=3,
    validator_calls=50,
    throughput_seconds=0.05,
    throughput_rounds=1,
    concurrency=(1, 16),
    memory_parts=(2_000,),
    local_seconds=0.3,
    local_concurrency=4,
    local_durabilities=("commit",),
    import_repeats=1,
    import_top=False,
)

# Which row each client is compared with: the bare client on the same transport, or the peer.
CALL_BASELINES = {
    "sdk": "bare-httpx+pool",
    "bare-httpx+pool": "bare-httpx",
    "sdk+httpcore": "bare-httpx",
    "bare-httpx": "bare-httpx",
    "sdk+aiohttp": "bare-httpx+aiohttp",
    "bare-httpx+aiohttp": "bare-httpx",
    "bare-aiohttp": "bare-httpx",
    "sdk-compat": "openai",
    "openai": "bare-httpx",
}
# The SDK on each transport, each compared with bare httpx on the same transport.
SDK_TRANSPORTS = (
    ("sdk", "default pool"),
    ("sdk+httpcore", "httpx's own transport"),
    ("sdk+aiohttp", "aiohttp transport"),
)
STREAM_CLIENTS = list(bench_clients.CLIENTS)
CALL_CLIENTS = list(bench_clients.CLIENTS)
THROUGHPUT_CLIENTS = list(bench_clients.CLIENTS)


def _row(
    name: str, samples: dict[str, list[Sample]], scale: float, baselines: dict[str, str]
) -> dict[str, Any]:
    client_samples = samples[name]
    vs = baselines[name]
    return {
        "client": name,
        "route": bench_clients.ROUTES[name],
        "transport": bench_clients.TRANSPORTS[name],
        "value": per_unit(client_samples) * scale,
        "client_cpu": per_unit(client_samples, "cpu") * scale,
        "server_cpu": per_unit(client_samples, "server_cpu") * scale,
        "vs": vs,
        "ratio": paired_ratio(client_samples, samples[vs]),
        "cpu_ratio": paired_ratio(client_samples, samples[vs], "cpu"),
        "rounds": [s.wall / max(1, s.units) * scale for s in client_samples],
    }


async def _with_clients(
    server: ServerProcess,
    names: list[str],
    body: Callable[[dict[str, bench_clients.Client]], Awaitable[dict[str, Any]]],
) -> dict[str, Any]:
    built = bench_clients.build(names, server.url)
    try:
        return await body(built)
    finally:
        for client in built.values():
            await client.aclose()


# -- sections ---------------------------------------------------------------------------------


async def section_call(server: ServerProcess, sizes: Sizes) -> dict[str, Any]:
    async def body(built: dict[str, bench_clients.Client]) -> dict[str, Any]:
        def run_for(client: bench_clients.Client) -> Callable[[], Awaitable[Sample]]:
            async def calls() -> int:
                for _ in range(sizes.calls):
                    if not await client.call():
                        raise RuntimeError(f"{client.name}: empty reply")
                return sizes.calls

            return lambda: timed(calls, server)

        for client in built.values():  # connect and warm up, untimed
            for _ in range(max(3, sizes.calls // 10)):
                await client.call()
        samples = await interleaved({n: run_for(c) for n, c in built.items()}, sizes.rounds)
        rows = [_row(name, samples, 1e6, CALL_BASELINES) for name in built]
        return {
            "title": "Per call: one non-streamed call, sequential",
            "unit": "µs/call",
            "rows": rows,
            "n": {"rounds": sizes.rounds, "calls_per_round": sizes.calls},
        }

    return await _with_clients(server, CALL_CLIENTS, body)


async def section_stream(server: ServerProcess, sizes: Sizes) -> dict[str, Any]:
    async def body(built: dict[str, bench_clients.Client]) -> dict[str, Any]:
        def run_for(client: bench_clients.Client) -> Callable[[], Awaitable[Sample]]:
            async def streams() -> int:
                total = 0
                for _ in range(sizes.streams):
                    got = await client.stream()
                    if got != sizes.parts:
                        raise RuntimeError(f"{client.name}: {got} parts, expected {sizes.parts}")
                    total += got
                return total

            return lambda: timed(streams, server)

        for client in built.values():
            await client.stream()
        samples = await interleaved({n: run_for(c) for n, c in built.items()}, sizes.rounds)
        rows = [_row(name, samples, 1e6, CALL_BASELINES) for name in built]
        return {
            "title": f"Per stream part: streams of {sizes.parts} parts, total time / parts",
            "unit": "µs/part",
            "rows": rows,
            "n": {"rounds": sizes.rounds, "streams_per_round": sizes.streams, "parts": sizes.parts},
        }

    return await _with_clients(server, STREAM_CLIENTS, body)


async def section_observe(server: ServerProcess, sizes: Sizes) -> dict[str, Any]:
    return await bench_observe.section(
        server, sizes.rounds, sizes.calls, sizes.streams, sizes.parts
    )


async def section_agent(server: ServerProcess, sizes: Sizes) -> dict[str, Any]:
    return await bench_agent.section(server, sizes.rounds, sizes.agent_calls, sizes.validator_calls)


async def _burst(client: bench_clients.Client, concurrency: int, total: int) -> int:
    remaining = total

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await client.call()

    await asyncio.gather(*(worker() for _ in range(min(concurrency, total))))
    return total


async def _for_duration(client: bench_clients.Client, concurrency: int, seconds: float) -> int:
    """`concurrency` workers calling until `seconds` are up; the calls done (the ones in flight
    at the deadline finish and count: the wall time includes them)."""
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await client.call()
            done += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done


async def section_throughput(server: ServerProcess, sizes: Sizes) -> dict[str, Any]:
    async def body(built: dict[str, bench_clients.Client]) -> dict[str, Any]:
        by_level: dict[int, dict[str, list[Sample]]] = {}
        for level in sizes.concurrency:

            def run_for(
                client: bench_clients.Client, level: int = level
            ) -> Callable[[], Awaitable[Sample]]:
                return lambda: timed(
                    lambda: _for_duration(client, level, sizes.throughput_seconds), server
                )

            for client in built.values():  # open `level` connections, untimed
                await _burst(client, level, level)
            by_level[level] = await interleaved(
                {n: run_for(c) for n, c in built.items()}, sizes.throughput_rounds
            )
        rows = []
        for name in built:
            vs = CALL_BASELINES[name]
            row: dict[str, Any] = {
                "client": name,
                "route": bench_clients.ROUTES[name],
                "transport": bench_clients.TRANSPORTS[name],
                "vs": vs,
                "calls_per_s": {},
                "ratio": {},
                "cpu_ratio": {},
                "client_cpu_us": {},
                "rounds_calls_per_s": {},
                "spread": {},
            }
            for level, samples in by_level.items():
                row["calls_per_s"][str(level)] = 1 / per_unit(samples[name])
                # throughput ratio: the baseline's time per call over this client's
                row["ratio"][str(level)] = 1 / paired_ratio(samples[name], samples[vs])
                row["cpu_ratio"][str(level)] = 1 / paired_ratio(samples[name], samples[vs], "cpu")
                row["client_cpu_us"][str(level)] = per_unit(samples[name], "cpu") * 1e6
                rates = [s.units / s.wall for s in samples[name]]
                row["rounds_calls_per_s"][str(level)] = rates
                # (max - min) / median over the rounds: how noisy this cell was
                row["spread"][str(level)] = (max(rates) - min(rates)) / statistics.median(rates)
            rows.append(row)
        return {
            "title": "Throughput: N concurrent calls on one event loop",
            "unit": "calls/s",
            "levels": list(sizes.concurrency),
            "rows": rows,
            "n": {"rounds": sizes.throughput_rounds, "seconds_per_round": sizes.throughput_seconds},
        }

    return await _with_clients(server, THROUGHPUT_CLIENTS, body)


def section_memory(server: ServerProcess, sizes: Sizes) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks._memory", server.url]
    command += [str(n) for n in sizes.memory_parts]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    rows = [
        {
            "client": run["client"],
            "parts": run["parts"],
            "peak_rss_delta_mb": run["peak_rss_delta_bytes"] / 2**20,
            "us_per_part": run["us_per_part"],
            "seconds": run["seconds"],
        }
        for run in probe["runs"]
    ]
    return {
        "title": "Memory: one long stream through `lm.stream_text` (fresh process)",
        "unit": "MB peak RSS above the warmed-up baseline",
        "baseline_rss_mb": probe["baseline_rss_bytes"] / 2**20,
        "after_rss_mb": probe["after_rss_bytes"] / 2**20,
        "rows": rows,
    }


def _import_env(cache_dir: str) -> dict[str, str]:
    """Bytecode cached (in `cache_dir`) for every package alike: installed packages ship their
    .pyc files, but this checkout's own modules would be compiled again on every run when
    PYTHONDONTWRITEBYTECODE is set, which is not what a user of the installed SDK pays."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = cache_dir
    return env


def _time_import(statement: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], cwd=ROOT, check=True, env=env)
    return time.perf_counter() - start


# What a program runs before its first call: the imports plus building the client.
READY = {
    "aigateway_sdk": "from aigateway_sdk import GatewayBinding; "
    "GatewayBinding(account_id='a', api_token='t').model('@cf/meta/llama-3.1-8b-instruct')",
    "openai": "import openai; openai.AsyncOpenAI(api_key='t', base_url='http://127.0.0.1:9/v1')",
}


def _importtime_top(statement: str, env: dict[str, str], count: int = 8) -> list[dict[str, Any]]:
    """The slowest imports (cumulative µs) under `statement`, from `-X importtime`."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    entries: list[tuple[int, str]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self_us, cumulative_us, name = (p.strip() for p in line.split(":", 1)[1].split("|"))
        entries.append((int(cumulative_us), name.strip()))
    entries.sort(reverse=True)
    return [{"module": name, "cumulative_us": us} for us, name in entries[:count]]


def section_import(sizes: Sizes) -> dict[str, Any]:
    statements = {
        "python -c pass": "pass",
        "aigateway_sdk": "import aigateway_sdk",
        "openai": "import openai",
        "aigateway_sdk ready": READY["aigateway_sdk"],
        "openai ready": READY["openai"],
        "httpx": "import httpx",
    }
    times: dict[str, list[float]] = {name: [] for name in statements}
    with tempfile.TemporaryDirectory(prefix="aigw-pycache-") as cache_dir:
        env = _import_env(cache_dir)
        for statement in statements.values():  # fill the bytecode cache and the file cache
            _time_import(statement, env)
        for number in range(sizes.import_repeats):
            names = list(statements) if number % 2 == 0 else list(reversed(statements))
            for name in names:
                times[name].append(_time_import(statements[name], env))
        top = (
            {name: _importtime_top(READY[name], env) for name in READY} if sizes.import_top else {}
        )
    bare = statistics.median(times["python -c pass"])
    rows: list[dict[str, Any]] = []
    for name in statements:
        if name == "python -c pass":
            continue
        rows.append(
            {
                "client": name,
                "statement": statements[name],
                "value": (statistics.median(times[name]) - bare) * 1e3,
                "total_ms": statistics.median(times[name]) * 1e3,
                "vs": "openai ready" if name.endswith(" ready") else "openai",
            }
        )
    by_name = {row["client"]: row for row in rows}
    for row in rows:
        row["ratio"] = row["value"] / by_name[row["vs"]]["value"]
    return {
        "title": 'Import time: fresh interpreter, median minus `python -c pass`; "ready" rows '
        "also build the client (`binding.model(...)` / `AsyncOpenAI(...)`)",
        "unit": "ms",
        "interpreter_ms": bare * 1e3,
        "rows": rows,
        "top_imports": top,
        "n": {"repeats": sizes.import_repeats},
    }


# -- targets ----------------------------------------------------------------------------------


def _find(section: dict[str, Any] | None, client: str) -> dict[str, Any] | None:
    if not section:
        return None
    return next((r for r in section.get("rows", []) if r.get("client") == client), None)


def targets(sections: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with its measured ratio on wall time and, where it applies, on this
    process's CPU time (the client's own cost, less sensitive to other load on the machine)."""
    found: list[dict[str, Any]] = []

    def add(
        name: str, limit: str, check: Callable[[float], bool], wall: float, cpu: float | None = None
    ) -> None:
        found.append(
            {
                "target": name,
                "limit": limit,
                "measured": wall,
                "measured_cpu": cpu,
                "met": check(wall),
                "met_cpu": None if cpu is None else check(cpu),
            }
        )

    def at_most(limit: float) -> Callable[[float], bool]:
        return lambda value: value <= limit

    def at_least(limit: float) -> Callable[[float], bool]:
        return lambda value: value >= limit

    def below(limit: float) -> Callable[[float], bool]:
        return lambda value: value < limit

    call, stream = sections.get("call"), sections.get("stream")
    for section, what, limit in ((call, "generate_text", 1.10), (stream, "stream_text", 2.0)):
        base = "bare httpx call" if what == "generate_text" else "httpx-sse + json, per part"
        for client, label in SDK_TRANSPORTS:
            row = _find(section, client)
            if row:
                add(
                    f"{what} / {base} ({label})",
                    f"<= {limit:.2f}",
                    at_most(limit),
                    row["ratio"],
                    row.get("cpu_ratio"),
                )
        row = _find(section, "sdk-compat")
        if row:
            add(
                f"{what} (compat) / openai client",
                "< 1.00",
                below(1.0),
                row["ratio"],
                row.get("cpu_ratio"),
            )
    throughput = sections.get("throughput")
    if throughput:
        levels = [str(level) for level in throughput["levels"]]
        level = "64" if "64" in levels else levels[-1]
        for client, label in SDK_TRANSPORTS:
            row = _find(throughput, client)
            if row:
                add(
                    f"throughput at {level} concurrent / bare ({label})",
                    ">= 0.90",
                    at_least(0.9),
                    row["ratio"][level],
                    row.get("cpu_ratio", {}).get(level),
                )
        row = _find(throughput, "sdk-compat")
        if row:
            add(
                f"throughput at {level} concurrent, compat / openai",
                "> 1.00",
                lambda value: value > 1.0,
                row["ratio"][level],
                row.get("cpu_ratio", {}).get(level),
            )
    agent = sections.get("agent")
    if agent:
        found += bench_agent.targets(agent)
    memory = sections.get("memory")
    if memory and memory["rows"]:
        sdk_rows = [r for r in memory["rows"] if r["client"] == "sdk"]
        peak = max(r["peak_rss_delta_mb"] for r in sdk_rows)
        parts = max(r["parts"] for r in sdk_rows)
        add(f"{parts:,}-part stream: peak RSS delta (MB)", "< 20 MB, flat", below(20), peak)
    row = _find(sections.get("import"), "aigateway_sdk")
    if row:
        add("import aigateway_sdk / import openai", "< 1.00", below(1.0), row["ratio"])
    row = _find(sections.get("import"), "aigateway_sdk ready")
    if row:
        add("imports + client, ready to call: SDK / openai", "< 1.00", below(1.0), row["ratio"])
    observe = sections.get("observe")
    if observe:
        found += bench_observe.targets(observe)
    local = sections.get("local")
    if local:
        for target in bench_local.targets(local):
            found.append({**target, "measured_cpu": None, "met_cpu": None})
    return found


# -- main -------------------------------------------------------------------------------------


async def _canned_sections(wanted: list[str], sizes: Sizes) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with canned_server(sizes.parts) as server:
        for name, run in (
            ("call", section_call),
            ("stream", section_stream),
            ("agent", section_agent),
            ("throughput", section_throughput),
            ("observe", section_observe),
        ):
            if name in wanted:
                started = time.perf_counter()
                print(f"[bench] {name} ...", file=sys.stderr, flush=True)
                results[name] = await run(server, sizes)
                results[name]["seconds"] = time.perf_counter() - started
        if "memory" in wanted:
            started = time.perf_counter()
            print("[bench] memory ...", file=sys.stderr, flush=True)
            results["memory"] = section_memory(server, sizes)
            results["memory"]["seconds"] = time.perf_counter() - started
    return results


def run(wanted: list[str], sizes: Sizes, quick: bool) -> dict[str, Any]:
    started = time.perf_counter()
    sections = asyncio.run(_canned_sections(wanted, sizes))
    if "local" in wanted:
        print("[bench] local ...", file=sys.stderr, flush=True)
        began = time.perf_counter()
        sections["local"] = bench_local.section(
            sizes.local_seconds, sizes.local_concurrency, sizes.local_durabilities
        )
        sections["local"]["seconds"] = time.perf_counter() - began
    if "cassette" in wanted:  # cassette replay vs the local gateway (benchmarks/cassette.py)
        print("[bench] cassette ...", file=sys.stderr, flush=True)
        began = time.perf_counter()
        sections["cassette"] = bench_cassette.section(sizes.rounds, sizes.calls)
        sections["cassette"]["seconds"] = time.perf_counter() - began
    if "import" in wanted:
        print("[bench] import ...", file=sys.stderr, flush=True)
        began = time.perf_counter()
        sections["import"] = section_import(sizes)
        sections["import"]["seconds"] = time.perf_counter() - began
    return {
        "machine": machine_info(),
        "mode": "quick" if quick else "full",
        "seconds": time.perf_counter() - started,
        "sections": sections,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny N (the smoke test)")
    parser.add_argument(
        "--only",
        action="append",
        choices=SECTIONS,
        help="run this section (repeatable); the others are kept from results.json",
    )
    parser.add_argument("--out", type=Path, default=HERE, help="directory for the results")
    args = parser.parse_args(argv)
    wanted = args.only or list(SECTIONS)
    sizes = QUICK if args.quick else FULL
    result = run(wanted, sizes, args.quick)
    for section in result["sections"].values():
        section["date"] = result["machine"]["date"]
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "results.json"
    if args.only and json_path.exists():
        previous = json.loads(json_path.read_text())
        if previous.get("mode") == result["mode"]:
            merged = dict(previous.get("sections", {}))
            for section in merged.values():  # results.json files from before per-section dates
                section.setdefault("date", previous["machine"]["date"])
            merged.update(result["sections"])
            result["sections"] = merged
    result["targets"] = targets(result["sections"])
    json_path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    (out / "RESULTS.md").write_text(render(result))
    print(render(result))
    print(f"[bench] wrote {json_path} and {out / 'RESULTS.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
