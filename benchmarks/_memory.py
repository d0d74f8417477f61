"""Memory probe, run in a fresh process: `python -m benchmarks._memory URL PARTS [PARTS...]`.

Streams `PARTS` text parts through `lm.stream_text` for each size, sampling this process's RSS
every 1,000 parts, then the largest size once more through bare httpx-sse + `orjson.loads` for
reference, and prints one JSON object: the baseline RSS (after a warm-up stream) and, per run,
the peak RSS above it and the time per part.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time

import httpx
import orjson
from httpx_sse import aconnect_sse

from aigateway_sdk import GatewayBinding, TextDelta
from benchmarks.clients import ACCOUNT, GATEWAY, HEADERS, PROMPT, TOKEN, workers_ai_url
from benchmarks.harness import rss_bytes

SAMPLE_EVERY = 1000


async def stream_once(binding: GatewayBinding, parts: int) -> tuple[int, int, float]:
    """(parts received, peak RSS in bytes, seconds)."""
    lm = binding.model(f"@cf/bench/parts-{parts}")
    received = 0
    peak = rss_bytes()
    start = time.perf_counter()
    async for part in lm.stream_text(prompt=PROMPT):
        if type(part) is TextDelta:
            received += 1
            if received % SAMPLE_EVERY == 0:
                peak = max(peak, rss_bytes())
    elapsed = time.perf_counter() - start
    return received, max(peak, rss_bytes()), elapsed


async def bare_stream_once(
    client: httpx.AsyncClient, url: str, parts: int
) -> tuple[int, int, float]:
    """The same through httpx-sse + orjson."""
    body = orjson.dumps({"messages": [{"role": "user", "content": PROMPT}], "stream": True})
    received = 0
    peak = rss_bytes()
    start = time.perf_counter()
    target = workers_ai_url(url, f"@cf/bench/parts-{parts}")
    async with aconnect_sse(client, "POST", target, content=body, headers=HEADERS) as source:
        async for event in source.aiter_sse():
            if event.data != "[DONE]" and orjson.loads(event.data).get("response"):
                received += 1
                if received % SAMPLE_EVERY == 0:
                    peak = max(peak, rss_bytes())
    elapsed = time.perf_counter() - start
    return received, max(peak, rss_bytes()), elapsed


async def probe(url: str, sizes: list[int]) -> dict[str, object]:
    binding = GatewayBinding(
        account_id=ACCOUNT, gateway_id=GATEWAY, api_token=TOKEN, base_url=f"{url}/v1"
    )
    try:
        await stream_once(binding, min(2000, min(sizes)))  # warm up: pool, codecs, allocator
        gc.collect()
        baseline = rss_bytes()
        runs = []
        async with httpx.AsyncClient() as client:
            for size, bare in [(size, False) for size in sizes] + [(max(sizes), True)]:
                if bare:
                    received, peak, elapsed = await bare_stream_once(client, url, size)
                else:
                    received, peak, elapsed = await stream_once(binding, size)
                if received != size:
                    raise RuntimeError(f"expected {size} parts, got {received}")
                runs.append(
                    {
                        "client": "bare-httpx" if bare else "sdk",
                        "parts": size,
                        "peak_rss_delta_bytes": peak - baseline,
                        "us_per_part": elapsed / size * 1e6,
                        "seconds": elapsed,
                    }
                )
                gc.collect()
        return {"baseline_rss_bytes": baseline, "runs": runs, "after_rss_bytes": rss_bytes()}
    finally:
        await binding.aclose()


def main(argv: list[str]) -> int:
    url, sizes = argv[0], [int(s) for s in argv[1:]]
    print(json.dumps(asyncio.run(probe(url, sizes))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
