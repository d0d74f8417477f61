"""The `cassette` section: `generate_text` answered by a cassette replay vs by the local gateway.

The local gateway (`aigateway serve`, its own process) gets a gateway with caching and logs
off, so every call reaches its built-in model. `calls` different prompts are recorded once into
a cassette; then, in interleaved rounds, the same `calls` calls go either to the local gateway
(the SDK's default transport) or to a replay of that cassette (no network; the cassette file is
opened and read inside each round, as a test does). Reported per call: wall time, this
process's CPU time, and the gateway process's CPU time (zero for the replay).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from aigateway_sdk import GatewayBinding, ModelParameters
from aigateway_sdk.cassettes import Cassette
from benchmarks.harness import Sample, ServerProcess, interleaved, paired_ratio, per_unit, timed
from benchmarks.local import ACCOUNT, MODEL, TOKEN, LocalServer, local_gateway

GATEWAY = "bench-cassette"
PARAMETERS = ModelParameters(max_tokens=16)
LOCAL = "local gateway"
REPLAY = "cassette replay"


async def _ready(server: LocalServer) -> None:
    url = f"{server.api_url}/accounts/{ACCOUNT}/ai-gateway/gateways"
    headers = {"authorization": f"Bearer {TOKEN}"}
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient(headers=headers) as client:
        while True:
            try:
                if (await client.get(url)).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the local gateway did not start within 30 s")
            await asyncio.sleep(0.1)
        spec = {
            "id": GATEWAY,
            "cache_ttl": 0,
            "cache_invalidate_on_update": False,
            "collect_logs": False,
            "rate_limiting_interval": 0,
            "rate_limiting_limit": 0,
        }
        reply = await client.post(url, json=spec)
        if reply.status_code not in (200, 201):
            raise RuntimeError(f"creating {GATEWAY}: {reply.status_code} {reply.text}")


def _binding(base_url: str, transport: httpx.AsyncBaseTransport | None) -> GatewayBinding:
    return GatewayBinding(
        account_id=ACCOUNT,
        gateway_id=GATEWAY,
        api_token=TOKEN,
        base_url=base_url,
        transport=transport,
    )


async def _calls(binding: GatewayBinding, prompts: list[str]) -> int:
    lm = binding.model(MODEL, PARAMETERS)
    for prompt in prompts:
        await lm.generate_text(prompt=prompt)
    return len(prompts)


async def _measure(server: LocalServer, path: Path, rounds: int, calls: int) -> dict[str, Any]:
    await _ready(server)
    data_url = f"{server.url}/v1"
    prompts = [f"Question number {n}: what is a river?" for n in range(calls)]
    with Cassette.open(path, "record") as cassette:
        async with _binding(data_url, cassette.transport) as binding:
            await _calls(binding, prompts)
    live = _binding(data_url, None)

    async def local() -> int:
        return await _calls(live, prompts)

    async def replay() -> int:
        with Cassette.open(path, "replay") as cassette:
            async with _binding("http://127.0.0.1:9/v1", cassette.transport) as binding:
                return await _calls(binding, prompts)

    def run_for(body: Callable[[], Awaitable[int]]) -> Callable[[], Awaitable[Sample]]:
        # `timed` reads only the server's CPU time, which a `LocalServer` gives as well.
        gateway: ServerProcess = server  # type: ignore[assignment]
        return lambda: timed(body, gateway)

    await _calls(live, prompts[:5])  # warm the pool
    samples = await interleaved({LOCAL: run_for(local), REPLAY: run_for(replay)}, rounds)
    await live.aclose()
    rows = []
    for name, got in samples.items():
        rows.append(
            {
                "client": name,
                "us_per_call": per_unit(got) * 1e6,
                "cpu_us_per_call": per_unit(got, "cpu") * 1e6,
                "server_cpu_us_per_call": per_unit(got, "server_cpu") * 1e6,
                "ratio": paired_ratio(got, samples[LOCAL]),
                "cpu_ratio": paired_ratio(got, samples[LOCAL], "cpu"),
            }
        )
    return {
        "title": "Cassette replay vs the local gateway: one `generate_text` (max 16 tokens)",
        "sizes": {"rounds": rounds, "calls": calls},
        "rows": rows,
    }


def section(rounds: int, calls: int) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="aigw-bench-cassette-") as tmp,
        local_gateway(Path(tmp), "commit") as server,
    ):
        path = Path(tmp) / "calls.json"
        result = asyncio.run(_measure(server, path, rounds, calls))
        result["cassette_bytes"] = path.stat().st_size
        return result


def render_section(section: dict[str, Any]) -> list[str]:
    sizes = section["sizes"]
    out = [
        f"## {section['title']}",
        "",
        f"{sizes['calls']} sequential calls per round, {sizes['rounds']} interleaved rounds "
        f"(medians); the cassette ({section['cassette_bytes']:,} bytes) is opened and read in "
        "every round. Ratios are against the local gateway, round by round. Gateway CPU is the "
        "`aigateway serve` process's CPU time per call.",
        "",
        "| client | µs/call | ratio | client CPU µs/call | CPU ratio | gateway CPU µs/call |",
        "|---|---|---|---|---|---|",
    ]
    for r in section["rows"]:
        out.append(
            f"| {r['client']} | {r['us_per_call']:,.0f} | {r['ratio']:.2f}x "
            f"| {r['cpu_us_per_call']:,.0f} | {r['cpu_ratio']:.2f}x "
            f"| {r['server_cpu_us_per_call']:,.0f} |"
        )
    return out
