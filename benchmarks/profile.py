"""Profile one client on the canned server:
`python -m benchmarks.profile CLIENT [call|stream|tool|object]`.

Runs the client's `call()` (or `stream()`; for `tool` / `object`, an agent client's
`round_trip()` / `structured()`, `benchmarks.agent`) in a loop under pyinstrument (the whole
picture) and cProfile (the SDK's own functions by self time), and prints both. Used to find
where the SDK's time goes; the findings are written down in `benchmarks/README.md`.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
from typing import Any

from pyinstrument import Profiler

from benchmarks import agent as bench_agent
from benchmarks import clients as bench_clients
from benchmarks.harness import canned_server

AGENT_TASKS = {"tool": "round_trip", "object": "structured"}


async def _loop(client: Any, what: str, count: int) -> None:
    if what in AGENT_TASKS:
        once = getattr(client, AGENT_TASKS[what])
        for _ in range(count):
            await once()
        return
    for _ in range(count):
        if what == "call":
            await client.call()
        else:
            await client.stream()


def _client(name: str, what: str, url: str) -> Any:
    factories: dict[str, Any] = (
        bench_agent.CLIENTS if what in AGENT_TASKS else bench_clients.CLIENTS
    )
    if name not in factories:
        raise SystemExit(f"no client {name!r} for {what}; choose from {', '.join(factories)}")
    return factories[name](url)


async def profile(name: str, what: str, count: int, parts: int, sdk_only: bool) -> str:
    out = io.StringIO()
    with canned_server(parts) as server:
        client = _client(name, what, server.url)
        try:
            await _loop(client, what, max(5, count // 10))  # warm up
            profiler = Profiler(interval=0.0005, async_mode="disabled")
            profiler.start()
            await _loop(client, what, count)
            profiler.stop()
            out.write(profiler.output_text(unicode=False, color=False, show_all=False))
            cprofile = cProfile.Profile()
            cprofile.enable()
            await _loop(client, what, count)
            cprofile.disable()
        finally:
            await client.aclose()
    stats = pstats.Stats(cprofile, stream=out).sort_stats("tottime")
    out.write("\n-- self time (cProfile) --\n")
    if sdk_only:
        stats.print_stats("aigateway_sdk", 25)
    else:
        stats.print_stats(30)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__)
    parser.add_argument(
        "client",
        help="a client of benchmarks.clients (call, stream) or of benchmarks.agent (tool, object)",
    )
    parser.add_argument("what", choices=("call", "stream", *AGENT_TASKS), nargs="?", default="call")
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--parts", type=int, default=200)
    parser.add_argument("--all", action="store_true", help="every function, not only the SDK's")
    args = parser.parse_args(argv)
    print(asyncio.run(profile(args.client, args.what, args.count, args.parts, not args.all)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
