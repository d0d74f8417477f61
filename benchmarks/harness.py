"""Processes and clocks: start a server in its own process, time interleaved rounds."""

from __future__ import annotations

import contextlib
import gc
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class ServerProcess:
    url: str
    process: subprocess.Popen[str]

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_seconds(self) -> float:
        times = psutil.Process(self.pid).cpu_times()
        return float(times.user + times.system)


@contextlib.contextmanager
def canned_server(parts: int) -> Iterator[ServerProcess]:
    """`benchmarks.server` in a child process; its URL once it listens."""
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.server", "--port", "0", "--parts", str(parts)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"the benchmark server did not start: {line!r}")
        yield ServerProcess(f"http://127.0.0.1:{int(line.split()[1])}", process)
    finally:
        stop(process)


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@dataclass
class Sample:
    """One timed run: wall seconds, this process's CPU seconds, the server's CPU seconds."""

    wall: float
    cpu: float
    server_cpu: float
    units: int


async def timed(run: Callable[[], Awaitable[int]], server: ServerProcess | None = None) -> Sample:
    """Time `run()`, which returns how many units (calls, parts) it did."""
    gc.collect()
    server_before = server.cpu_seconds() if server is not None else 0.0
    cpu_before = time.process_time()
    start = time.perf_counter()
    units = await run()
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu_before
    server_cpu = (server.cpu_seconds() - server_before) if server is not None else 0.0
    return Sample(wall, cpu, server_cpu, units)


async def interleaved(
    runs: dict[str, Callable[[], Awaitable[Sample]]], rounds: int
) -> dict[str, list[Sample]]:
    """Each run once per round, the order reversed every other round (ABBA), so that drift
    (turbo, caches, other load) lands on every client alike."""
    names = list(runs)
    samples: dict[str, list[Sample]] = {name: [] for name in names}
    for number in range(rounds):
        for name in names if number % 2 == 0 else reversed(names):
            samples[name].append(await runs[name]())
    return samples


async def alternated(
    runs: dict[str, Callable[[], Awaitable[object]]],
    rounds: int,
    count: int,
    server: ServerProcess | None = None,
) -> dict[str, list[Sample]]:
    """Finer than `interleaved`, for differences of a few percent: within a round every run
    goes once per step (`count` steps, the order reversed every other step: A B C C B A ...),
    each call timed on its own, so that clients share the machine's state call by call. One
    `Sample` per run and round; the server's CPU time over the round is split evenly between
    the runs (they send it the same requests)."""
    names = list(runs)
    samples: dict[str, list[Sample]] = {name: [] for name in names}
    clock, cpu_clock = time.perf_counter, time.process_time
    for _ in range(rounds):
        gc.collect()
        wall = dict.fromkeys(names, 0.0)
        cpu = dict.fromkeys(names, 0.0)
        server_before = server.cpu_seconds() if server is not None else 0.0
        for step in range(count):
            for name in names if step % 2 == 0 else reversed(names):
                run = runs[name]
                cpu_before, start = cpu_clock(), clock()
                await run()
                wall[name] += clock() - start
                cpu[name] += cpu_clock() - cpu_before
        server_cpu = (server.cpu_seconds() - server_before) if server is not None else 0.0
        for name in names:
            samples[name].append(Sample(wall[name], cpu[name], server_cpu / len(names), count))
    return samples


def per_unit(samples: Sequence[Sample], field: str = "wall") -> float:
    """The median over rounds of seconds per unit."""
    return float(statistics.median(getattr(s, field) / max(1, s.units) for s in samples))


def paired_ratio(a: Sequence[Sample], b: Sequence[Sample], field: str = "wall") -> float:
    """The median over rounds of a/b, per unit, round by round."""
    return float(
        statistics.median(
            (getattr(x, field) / max(1, x.units)) / (getattr(y, field) / max(1, y.units))
            for x, y in zip(a, b, strict=True)
        )
    )


def rss_bytes(pid: int | None = None) -> int:
    return int(psutil.Process(pid or os.getpid()).memory_info().rss)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]
