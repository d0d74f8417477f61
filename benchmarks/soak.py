"""`python -m benchmarks.soak`: a bounded soak of the local gateway (minutes; not run in CI).

Starts `aigateway serve` in its own process, creates a gateway with logs and caching on, and
drives it through the SDK for `--minutes` with a mix of calls: cache hits, misses (new prompts,
sent with `cf-aig-skip-cache` unless `--cache-misses`),
streams read to the end, streams abandoned after a few parts, and requests that fail (an unknown
gateway, a bad body). Every `--every` seconds it samples the server's and this process's RSS and
open file descriptors. After a warm-up (the first quarter of the run) memory and fds must stay
flat: the run fails (exit 1) when the server's RSS grows by more than `--max-rss-growth-mb` or
its fd count by more than `--max-fd-growth` between the end of the warm-up and the end.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil  # type: ignore[import-untyped]

from aigateway_sdk import NO_RETRY, AiError, GatewayBinding, GatewayOptions, TextDelta
from benchmarks.local import ACCOUNT, TOKEN, local_gateway

MODEL = "@cf/meta/llama-3.1-8b-instruct"
GATEWAY = "soak"


def _sample(pid: int, started: float, counts: dict[str, int]) -> dict[str, Any]:
    server = psutil.Process(pid)
    me = psutil.Process()
    return {
        "t": round(time.perf_counter() - started, 1),
        "server_rss_mb": server.memory_info().rss / 2**20,
        "server_fds": server.num_fds(),
        "client_rss_mb": me.memory_info().rss / 2**20,
        "client_fds": me.num_fds(),
        **counts,
    }


async def _create_gateway(api_url: str) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = await client.post(
                    f"{api_url}/accounts/{ACCOUNT}/ai-gateway/gateways",
                    headers={"authorization": f"Bearer {TOKEN}"},
                    json={
                        "id": GATEWAY,
                        "cache_ttl": 300,
                        "cache_invalidate_on_update": False,
                        "collect_logs": True,
                        "rate_limiting_interval": 0,
                        "rate_limiting_limit": 0,
                    },
                )
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)
                continue
            if response.status_code not in (200, 201):
                raise RuntimeError(f"creating the gateway: {response.status_code} {response.text}")
            return


async def _drive(
    url: str, pid: int, seconds: float, every: float, concurrency: int, cache_misses: bool
) -> list[dict[str, Any]]:
    await _create_gateway(f"{url}/client/v4")
    binding = GatewayBinding(
        account_id=ACCOUNT,
        gateway_id=GATEWAY,
        api_token=TOKEN,
        base_url=f"{url}/v1",
        retry=NO_RETRY,
    )
    wrong = GatewayBinding(
        account_id=ACCOUNT,
        gateway_id="no-such-gateway",
        api_token=TOKEN,
        base_url=f"{url}/v1",
        retry=NO_RETRY,
    )
    lm, missing = binding.model(MODEL), wrong.model(MODEL)
    # New prompts skip the cache unless asked: the cache may grow to its cap (10,000 entries)
    # by design, which would hide a leak within minutes.
    fresh = lm if cache_misses else binding.model(MODEL, options=GatewayOptions(skip_cache=True))
    counts = {"calls": 0, "errors": 0, "unexpected": 0}
    numbers = itertools.count()
    deadline = time.perf_counter() + seconds

    async def one(kind: int) -> None:
        n = next(numbers)
        if kind == 0:
            await lm.generate_text(prompt="The same question, cached.")
        elif kind == 1:
            await fresh.generate_text(prompt=f"A new question, number {n}.")
        elif kind == 2:
            async for _part in lm.stream_text(prompt=f"Stream number {n}."):
                pass
        elif kind == 3:
            seen = 0
            async for part in lm.stream_text(prompt=f"Abandoned stream {n}."):
                seen += type(part) is TextDelta
                if seen >= 3:
                    break  # leaving early must close the HTTP stream
        elif kind == 4:
            try:
                await missing.generate_text(prompt="Nobody is here.")
            except AiError:
                counts["errors"] += 1
                return
            counts["unexpected"] += 1
        else:
            try:
                await lm.generate_text(prompt=[{"role": "nobody", "content": "x"}])
            except AiError:
                counts["errors"] += 1
                return
            counts["unexpected"] += 1

    async def worker(offset: int) -> None:
        for kind in itertools.cycle(range(offset % 6, offset % 6 + 6)):
            if time.perf_counter() > deadline:
                return
            try:
                await one(kind % 6)
            except AiError:
                counts["unexpected"] += 1
            counts["calls"] += 1

    started = time.perf_counter()
    samples = [_sample(pid, started, counts)]

    async def sampler() -> None:
        while time.perf_counter() < deadline:
            await asyncio.sleep(min(every, max(0.0, deadline - time.perf_counter())))
            samples.append(_sample(pid, started, dict(counts)))

    try:
        await asyncio.gather(sampler(), *(worker(i) for i in range(concurrency)))
    finally:
        await binding.aclose()
        await wrong.aclose()
    samples.append(_sample(pid, started, dict(counts)))
    return samples


def verdict(
    samples: list[dict[str, Any]], max_rss_growth_mb: float, max_fd_growth: int
) -> dict[str, Any]:
    warm = samples[max(1, len(samples) // 4)]
    last = samples[-1]
    rss_growth = last["server_rss_mb"] - warm["server_rss_mb"]
    fd_growth = last["server_fds"] - warm["server_fds"]
    client_rss_growth = last["client_rss_mb"] - warm["client_rss_mb"]
    client_fd_growth = last["client_fds"] - warm["client_fds"]
    ok = (
        rss_growth <= max_rss_growth_mb
        and fd_growth <= max_fd_growth
        and client_fd_growth <= max_fd_growth
        and last["unexpected"] == 0
    )
    return {
        "ok": ok,
        "calls": last["calls"],
        "errors_expected": last["errors"],
        "unexpected": last["unexpected"],
        "server_rss_growth_mb": rss_growth,
        "server_fd_growth": fd_growth,
        "client_rss_growth_mb": client_rss_growth,
        "client_fd_growth": client_fd_growth,
        "from_t": warm["t"],
        "to_t": last["t"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--every", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--max-rss-growth-mb", type=float, default=25.0)
    parser.add_argument("--max-fd-growth", type=int, default=8)
    parser.add_argument("--json", type=Path, default=None, help="also write the samples here")
    parser.add_argument(
        "--cache-misses",
        action="store_true",
        help="let new prompts fill the cache (it grows to its cap by design)",
    )
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="aigw-soak-") as tmp,
        local_gateway(Path(tmp), "commit") as server,
    ):
        samples = asyncio.run(
            _drive(
                server.url,
                server.pid,
                args.minutes * 60,
                args.every,
                args.concurrency,
                args.cache_misses,
            )
        )
    header = ("t s", "calls", "srv RSS MB", "srv fds", "cli RSS MB", "cli fds")
    print(" ".join(f"{h:>11}" for h in header))
    for s in samples:
        print(
            f"{s['t']:>11} {s['calls']:>11} {s['server_rss_mb']:>11.1f} {s['server_fds']:>11} "
            f"{s['client_rss_mb']:>11.1f} {s['client_fds']:>11}"
        )
    result = verdict(samples, args.max_rss_growth_mb, args.max_fd_growth)
    print(json.dumps(result, indent=2))
    if args.json is not None:
        args.json.write_text(json.dumps({"samples": samples, "verdict": result}, indent=2))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
