"""The `observe` section: what logging and OpenTelemetry tracing cost per call and per stream.

One SDK client against the canned server, its modes interleaved round by round (ABBA), the mode
switched between rounds (outside the timed region):

- `off`: the default: the logger at WARNING (nothing enabled), no instrumentation;
- `tracing`: `aigateway_sdk.observe.instrument()` with the OpenTelemetry SDK, every span sent
  to an in-memory exporter (`SimpleSpanProcessor`), the two GenAI histograms into an in-memory
  reader (skipped when `opentelemetry-sdk` is not installed);
- `tracing, spans only`: the same spans, metrics to OpenTelemetry's no-op meter provider;
- `debug log`: the `aigateway_sdk` logger at DEBUG into a handler that formats every record
  and drops it (what a line costs, without the terminal).

Ratios are each mode's time per call (or per part) over `off`'s, the median of per-round ratios.
"Off vs before the hooks existed" cannot be measured in one process; README.md gives the
micro-benchmark that compared it (`python -m benchmarks.observe --micro`).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from benchmarks import clients as bench_clients
from benchmarks.harness import Sample, ServerProcess, interleaved, paired_ratio, per_unit, timed

OFF, TRACING, SPANS, DEBUG_LOG = "off", "tracing", "tracing, spans only", "debug log"
TRACING_LIMIT = 1.10
"""Issue 13: tracing adds at most 10% client CPU per call."""


class _Drop(logging.Handler):
    """Formats every record (the cost of a line) and keeps none."""

    def emit(self, record: logging.LogRecord) -> None:
        self.format(record)


class Modes:
    """Switches the process between the modes; `tracing` is None without opentelemetry-sdk."""

    def __init__(self) -> None:
        from aigateway_sdk.observe import log

        self._logger = log.LOGGER
        self._handler = _Drop()
        self._handler.setFormatter(logging.Formatter(log.FORMAT))
        self.tracing: Any = None
        self.spans_only: Any = None
        self.exporter: Any = None
        try:
            from opentelemetry.sdk.metrics import MeterProvider
            from opentelemetry.sdk.metrics.export import InMemoryMetricReader
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import SimpleSpanProcessor
            from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
                InMemorySpanExporter,
            )
        except ImportError:
            return
        from opentelemetry import metrics, trace

        from aigateway_sdk.observe.otel import Tracing

        self.exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        meters = MeterProvider(metric_readers=[InMemoryMetricReader()])
        tracer = trace.get_tracer("aigateway_sdk", tracer_provider=provider)
        self.tracing = Tracing(tracer, metrics.get_meter("aigateway_sdk", meter_provider=meters))
        noop = metrics.NoOpMeterProvider()
        self.spans_only = Tracing(tracer, metrics.get_meter("aigateway_sdk", meter_provider=noop))

    @property
    def names(self) -> list[str]:
        if self.tracing is None:
            return [OFF, DEBUG_LOG]
        return [OFF, TRACING, SPANS, DEBUG_LOG]

    def set(self, mode: str) -> None:
        from aigateway_sdk.observe import hooks

        hooks.tracing = {TRACING: self.tracing, SPANS: self.spans_only}.get(mode)
        if self.exporter is not None:
            self.exporter.clear()
        if mode == DEBUG_LOG:
            self._logger.addHandler(self._handler)
            self._logger.setLevel(logging.DEBUG)
            self._logger.propagate = False
        else:
            self._logger.removeHandler(self._handler)
            self._logger.setLevel(logging.NOTSET)
            self._logger.propagate = True

    def reset(self) -> None:
        self.set(OFF)


def _floor_work() -> dict[str, Callable[[], None]] | None:
    """The OpenTelemetry SDK's own work for one traced call, as two functions: `span` (a span
    with the attributes a `chat` span carries, made current and back, ended into an in-memory
    exporter through a `SimpleSpanProcessor`) and `metrics` (the three histogram points of a
    call); `clear` empties the exporter. None without opentelemetry-sdk."""
    try:
        from opentelemetry import context, trace
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
            InMemorySpanExporter,
        )
    except ImportError:
        return None
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("floor")
    meter = MeterProvider(metric_readers=[InMemoryMetricReader()]).get_meter("floor")
    duration, tokens = meter.create_histogram("d"), meter.create_histogram("t")
    start: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "cloudflare.workers_ai",
        "gen_ai.request.model": "@cf/meta/llama-3.1-8b-instruct",
        "server.address": "127.0.0.1",
        "server.port": 8787,
    }
    end: dict[str, Any] = {
        "gen_ai.response.model": "@cf/meta/llama-3.1-8b-instruct",
        "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.usage.input_tokens": 4,
        "gen_ai.usage.output_tokens": 2,
        "cloudflare.ai_gateway.log_id": "01X",
        "cloudflare.ai_gateway.cache_status": "MISS",
    }

    def span() -> None:
        opened = tracer.start_span("chat m", attributes=start)
        token = context.attach(trace.set_span_in_context(opened))
        context.detach(token)
        opened.set_attributes(end)
        opened.end()

    def points() -> None:
        measured = {**start, "gen_ai.response.model": "m"}
        duration.record(0.1, measured)
        tokens.record(4, {**measured, "gen_ai.token.type": "input"})
        tokens.record(2, {**measured, "gen_ai.token.type": "output"})

    return {"span": span, "metrics": points, "clear": exporter.clear}


def otel_floor(calls: int = 20_000) -> dict[str, float] | None:
    """CPU µs of the OpenTelemetry SDK's own work for one traced call (`_floor_work`), measured
    alone in a tight loop (no SDK call; its code and data stay in the CPU caches): what any
    instrumentation of a call pays at least, at best. None without opentelemetry-sdk."""
    work = _floor_work()
    if work is None:
        return None
    found: dict[str, float] = {}
    for name in ("span", "metrics"):
        run = work[name]
        for _ in range(calls // 10):
            run()
        began = time.process_time()
        for _ in range(calls):
            run()
        found[name] = (time.process_time() - began) / calls * 1e6
    return found


async def otel_floor_in_situ(
    call: Callable[[], Awaitable[object]], calls: int
) -> dict[str, float] | None:
    """The same work (`_floor_work`), each run timed on its own between two untraced SDK calls
    (`call`, not timed), as it runs in a traced call: after the HTTP round trip has evicted
    OpenTelemetry's code and data from the CPU caches. What a traced call really pays for the
    OpenTelemetry SDK; it includes two `time.process_time()` reads per run (well under 1 µs).
    None without opentelemetry-sdk."""
    work = _floor_work()
    if work is None:
        return None
    clock = time.process_time
    found: dict[str, float] = {}
    for name in ("span", "metrics"):
        run = work[name]
        run()
        total = 0.0
        for number in range(calls):
            if number % 200 == 0:  # as `Modes` clears the exporter every round
                work["clear"]()
            await call()
            began = clock()
            run()
            total += clock() - began
        found[name] = total / calls * 1e6
    return found


def _row(task: str, mode: str, samples: dict[str, list[Sample]], scale: float) -> dict[str, Any]:
    return {
        "task": task,
        "client": mode,
        "value": per_unit(samples[mode]) * scale,
        "client_cpu": per_unit(samples[mode], "cpu") * scale,
        "vs": OFF,
        "ratio": paired_ratio(samples[mode], samples[OFF]),
        "cpu_ratio": paired_ratio(samples[mode], samples[OFF], "cpu"),
    }


async def section(
    server: ServerProcess, rounds: int, calls: int, streams: int, parts: int
) -> dict[str, Any]:
    modes = Modes()
    client = bench_clients.SdkClient("sdk", server.url)
    try:

        def run_for(
            mode: str, work: Callable[[], Awaitable[int]]
        ) -> Callable[[], Awaitable[Sample]]:
            async def run() -> Sample:
                modes.set(mode)
                try:
                    return await timed(work, server)
                finally:
                    modes.reset()

            return run

        async def call_loop() -> int:
            for _ in range(calls):
                await client.call()
            return calls

        async def stream_loop() -> int:
            total = 0
            for _ in range(streams):
                got = await client.stream()
                if got != parts:
                    raise RuntimeError(f"{got} parts, expected {parts}")
                total += got
            return total

        for mode in modes.names:  # warm up every path, untimed
            modes.set(mode)
            for _ in range(max(3, calls // 10)):
                await client.call()
            await client.stream()
            modes.reset()
        # Twice the rounds of the other sections: the differences of interest are ~10%.
        call_samples = await interleaved(
            {m: run_for(m, call_loop) for m in modes.names}, 2 * rounds
        )
        stream_samples = await interleaved(
            {m: run_for(m, stream_loop) for m in modes.names}, rounds
        )
        in_situ = await otel_floor_in_situ(client.call, max(100, rounds * calls // 2))
    finally:
        modes.reset()
        await client.aclose()
    return {
        "title": "Observability: logging and OpenTelemetry tracing, on vs off",
        "rows": [_row("call", m, call_samples, 1e6) for m in modes.names]
        + [_row("stream", m, stream_samples, 1e6) for m in modes.names],
        "tracing": modes.tracing is not None,
        "otel_floor": otel_floor(),
        "otel_floor_in_situ": in_situ,
        "n": {
            "rounds": 2 * rounds,
            "stream_rounds": rounds,
            "calls_per_round": calls,
            "streams_per_round": streams,
            "parts": parts,
        },
    }


def targets(section_: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for key, what in (
        ("call", "generate_text"),
        ("stream", f"{section_['n']['parts']}-part stream"),
    ):
        row = next(
            (r for r in section_["rows"] if (r["task"], r["client"]) == (key, TRACING)), None
        )
        if row is None:
            continue
        found.append(
            {
                "target": f"{what}: tracing on (in-memory exporter) / off",
                "limit": f"<= {TRACING_LIMIT:.2f}",
                "measured": row["ratio"],
                "measured_cpu": row["cpu_ratio"],
                "met": row["ratio"] <= TRACING_LIMIT,
                "met_cpu": row["cpu_ratio"] <= TRACING_LIMIT,
            }
        )
    return found


def render_section(section_: dict[str, Any]) -> list[str]:
    n = section_["n"]
    out = [
        f"## {section_['title']}",
        "",
        f"{n['rounds']} rounds of {n['calls_per_round']} calls and "
        f"{n.get('stream_rounds', n['rounds'])} rounds of {n['streams_per_round']} streams of "
        f"{n['parts']} parts per mode, the modes interleaved (ABBA). "
        "Ratios against `off` (median of per-round ratios). `tracing`: spans to an in-memory "
        "exporter, metrics to an in-memory reader; `debug log`: a DEBUG line per request, "
        "formatted and dropped.",
    ]
    if not section_["tracing"]:
        out += ["", "(opentelemetry-sdk is not installed: no `tracing` rows.)"]
    header = ["mode", "ratio (wall)", "ratio (CPU)", "µs", "client CPU µs"]
    for key, title, unit in (
        ("call", "generate_text", "call"),
        ("stream", "stream", "part"),
    ):
        out += ["", f"### {title} (µs/{unit})", ""]
        out += ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        for r in (r for r in section_["rows"] if r["task"] == key):
            cells = [
                f"`{r['client']}`",
                f"{r['ratio']:.3f}x",
                f"{r['cpu_ratio']:.3f}x",
                f"{r['value']:.1f}",
                f"{r['client_cpu']:.1f}",
            ]
            out.append("| " + " | ".join(cells) + " |")
    floor = section_.get("otel_floor")
    in_situ = section_.get("otel_floor_in_situ")
    off = next((r for r in section_["rows"] if (r["task"], r["client"]) == ("call", OFF)), None)
    traced = next(
        (r for r in section_["rows"] if (r["task"], r["client"]) == ("call", TRACING)), None
    )
    if floor and off:
        total = floor["span"] + floor["metrics"]
        out += [
            "",
            f"The OpenTelemetry SDK's own work for one call, measured alone in a tight loop "
            f"(`otel_floor`: a `chat` span into the in-memory exporter {floor['span']:.1f} µs, "
            f"the three histogram points {floor['metrics']:.1f} µs): {total:.1f} µs, "
            f"{total / off['client_cpu']:.0%} of an `off` call's client CPU.",
        ]
    if in_situ and off:
        total = in_situ["span"] + in_situ["metrics"]
        out += [
            "",
            f"The same work timed between two real `off` calls (`otel_floor_in_situ`, as it "
            f"runs in a traced call, its code and data evicted from the CPU caches by the "
            f"round trip): span {in_situ['span']:.1f} µs, histogram points "
            f"{in_situ['metrics']:.1f} µs, {total:.1f} µs: "
            f"{total / off['client_cpu']:.0%} of an `off` call's client CPU, a ratio of "
            f"{(off['client_cpu'] + total) / off['client_cpu']:.2f}x before the SDK adds "
            "anything. Any instrumentation of a call with the OpenTelemetry SDK pays that.",
        ]
        if traced:
            added = (traced["cpu_ratio"] - 1) * off["client_cpu"]
            out.append(
                f"The `tracing` row adds {added:.1f} µs of client CPU per call (its CPU ratio "
                f"times `off`'s µs); less the in-situ floor, {added - total:.1f} µs are the "
                "SDK's own (attribute building, the context switch, the wrapper). Both are "
                "medians of noisy numbers: on the shared development machine a ratio moves by "
                "about ±0.05 from run to run."
            )
    return out


# -- the micro-benchmark: off vs before, across two checkouts ---------------------------------

MICRO = """
import asyncio, sys, time, httpx
from aigateway_sdk import GatewayBinding
BODY = (b'{"result":{"response":"Hello there","usage":{"prompt_tokens":4,"completion_tokens":2,'
        b'"total_tokens":6}},"success":true,"errors":[],"messages":[]}')
HEADERS = {"content-type": "application/json", "cf-aig-log-id": "01X",
           "cf-aig-cache-status": "MISS"}
def reply(request):
    return httpx.Response(200, content=BODY, headers=HEADERS)
async def main(n):
    async with GatewayBinding(account_id="a", gateway_id="g", api_token="t",
                              transport=httpx.MockTransport(reply)) as b:
        lm = b.model("@cf/meta/llama-3.1-8b-instruct")
        for _ in range(500):
            await lm.generate_text(prompt="hi")
        for line in sys.stdin:
            start = time.process_time()
            for _ in range(n):
                await lm.generate_text(prompt="hi")
            print((time.process_time() - start) / n * 1e6, flush=True)
asyncio.run(main(int(sys.argv[1])))
"""


def micro(before: str, after: str, rounds: int, calls: int) -> dict[str, float]:
    """CPU µs per `generate_text` over an `httpx.MockTransport`, in two long-lived processes
    (one per checkout: `before` and `after` are directories holding `aigateway_sdk`), rounds
    alternated ABBA; the median of per-round ratios after/before."""
    import os
    import subprocess
    import sys

    procs = {}
    for name, root in (("before", before), ("after", after)):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIGATEWAY_LOG")}
        env["PYTHONPATH"] = root
        procs[name] = subprocess.Popen(
            [sys.executable, "-c", MICRO, str(calls)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=root,
        )
    times: dict[str, list[float]] = {"before": [], "after": []}
    try:
        for number in range(rounds):
            for name in ("before", "after") if number % 2 == 0 else ("after", "before"):
                proc = procs[name]
                assert proc.stdin is not None
                assert proc.stdout is not None
                proc.stdin.write("go\n")
                proc.stdin.flush()
                times[name].append(float(proc.stdout.readline()))
    finally:
        for proc in procs.values():
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait(30)
    ratios = [a / b for a, b in zip(times["after"], times["before"], strict=True)]
    return {
        "before_us": statistics.median(times["before"]),
        "after_us": statistics.median(times["after"]),
        "ratio": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.observe", description=__doc__)
    parser.add_argument(
        "--micro",
        nargs=2,
        metavar=("BEFORE", "AFTER"),
        required=True,
        help="two checkouts: CPU per call with logging and tracing off",
    )
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    started = time.perf_counter()
    result = micro(args.micro[0], args.micro[1], args.rounds, args.calls)
    print({**result, "seconds": round(time.perf_counter() - started, 1)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
