"""`aigateway demo`: the main job, end to end on a local gateway started in-process.

It applies a gateway (caching, a sliding rate limit, logging), calls `generate_text` and
`stream_text` through the SDK, shows a cache HIT, a tool round trip (the model calls a Python
handler, then answers with its result), a typed object from `generate_object`, a rate-limited
call handled as a typed `AiError`, and the request log as a table. No account, no network
beyond loopback.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
import attrs

ACCOUNT = "demo-account"
TOKEN = "demo-token"
MODEL = "@cf/meta/llama-3.1-8b-instruct"
BIG_MODEL = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
RATE_LIMIT = 10


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo", help="run the SDK end to end against a local gateway started in-process"
    )
    parser.add_argument("--db", type=Path, default=None, help="SQLite file (default: a temp dir)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from aigateway_sdk.local import LocalGateway, LocalGatewayConfig

    with tempfile.TemporaryDirectory(prefix="aigateway-demo-") as tmp:
        db_path = args.db or Path(tmp) / "gateway.db"
        started = time.perf_counter()
        with LocalGateway(LocalGatewayConfig(db_path=db_path, api_token=TOKEN)) as gateway:
            say(f"local gateway listening on {gateway.url} (db {db_path})")
            anyio.run(_main, gateway.data_url, gateway.api_url)
        say(f"\ndone in {time.perf_counter() - started:.2f} s")
    return 0


def say(text: str = "") -> None:
    print(text, flush=True)


def heading(text: str) -> None:
    say(f"\n== {text}")


@attrs.frozen
class Forecast:
    """A day's forecast for a city."""

    city: str
    high_c: int = attrs.field(metadata={"description": "the day's high, in degrees Celsius"})
    summary: str


async def get_weather(city: str) -> dict[str, object]:
    """The current weather in a city.

    Args:
        city: The city's name, e.g. Lisbon.
    """
    return {"city": city, "temp_c": 21, "sky": "clear"}


async def _tools_and_objects(lm: Any) -> None:
    from aigateway_sdk import Toolkit, tool

    heading("5. tools: the model calls a Python handler, then answers with its result")
    toolkit = Toolkit(tool(get_weather))
    reply = await lm.generate_text("Use get_weather for city=Lisbon, please.", toolkit=toolkit)
    for number, step in enumerate(reply.steps, 1):
        calls = ", ".join(f"{c.name}({c.arguments_json})" for c in step.tool_calls)
        results = ", ".join(r.content for r in step.tool_results)
        say(f"step {number}: " + (f"called {calls} -> {results}" if calls else step.text))
    say(f"finish: {reply.finish_reason}; tokens over both calls: {reply.usage.total_tokens}")

    heading("6. generate_object: JSON checked against a schema, returned as a typed value")
    forecast = await lm.generate_object("Tomorrow's forecast for city=Lisbon.", schema=Forecast)
    say(f"value: {forecast.value!r}")
    say(f"a {type(forecast.value).__name__} in {forecast.attempts} call(s)")


async def _dynamic_route(admin: Any, spec: Any, data_url: str) -> None:
    from aigateway_sdk import GatewayBinding, GatewayOptions
    from aigateway_sdk.control import AiRoute, Conditional, End, Model, Start

    heading("7. a dynamic route: declared in code, applied, called as dynamic/assistant")
    route = AiRoute(
        "assistant",
        gateway=spec,
        elements=[
            Start("start", next="plan"),
            Conditional("plan", {"metadata.plan": "pro"}, when_true="big", when_false="small"),
            Model("big", provider="workers-ai", model=BIG_MODEL, success="end", fallback="small"),
            Model("small", provider="workers-ai", model=MODEL, success="end"),
            End("end"),
        ],
    )
    routes = admin.routes(spec)
    say((await routes.plan(route)).describe())
    await routes.apply(route)
    # A route's models are called with the keys the gateway holds: the app sends only the
    # gateway token (cf-aig-authorization), no provider key.
    binding = GatewayBinding(
        account_id=ACCOUNT, gateway_id=spec.id, gateway_token=TOKEN, base_url=data_url
    )
    async with binding:
        lm = binding.model("dynamic/assistant")
        for plan in ("pro", "free"):
            reply = await lm.generate_text(
                prompt="Which model are you?", options=GatewayOptions(metadata={"plan": plan})
            )
            say(f"plan={plan}: served by {reply.model}")


async def _main(data_url: str, api_url: str) -> None:
    from aigateway_sdk import (
        NO_RETRY,
        AiGateway,
        Defect,
        Err,
        GatewayBinding,
        GatewayOptions,
        ModelParameters,
        RateLimited,
        TextDelta,
    )
    from aigateway_sdk.cli._output import print_table
    from aigateway_sdk.control.admin import GatewayAdmin

    spec = AiGateway(
        "Gateway",
        id="demo-gateway",
        cache_ttl=300,
        rate_limiting_interval=60,
        rate_limiting_limit=RATE_LIMIT,
        rate_limiting_technique="sliding",
        collect_logs=True,
    )
    async with GatewayAdmin(ACCOUNT, TOKEN, base_url=api_url) as admin:
        heading("1. apply the gateway spec, then tune it (in place, idempotent)")
        first_spec = attrs.evolve(spec, rate_limiting_limit=100)
        say((await admin.plan(first_spec)).describe())
        created = (await admin.apply(first_spec)).gateway
        say((await admin.plan(spec)).describe())
        tuned = (await admin.apply(spec)).gateway
        say(
            f"created_at kept: {tuned.created_at == created.created_at}; "
            f"modified_at moved: {tuned.modified_at >= created.modified_at}"
        )
        say((await admin.plan(spec)).describe())

        binding = GatewayBinding(
            account_id=ACCOUNT, gateway_id=spec.id, api_token=TOKEN, base_url=data_url
        )
        async with binding:
            lm = binding.model(MODEL, ModelParameters(temperature=0.7, max_tokens=48))

            heading("2. generate_text")
            first = await lm.generate_text(prompt="Say hello to the local gateway.")
            say(f"text: {first.text}")
            say(
                f"usage: {first.usage.input_tokens.total} in, "
                f"{first.usage.output_tokens.total} out; finish: {first.finish_reason}; "
                f"cache: {first.cache_status}; log id: {first.log_id}"
            )

            heading("3. the same call again is served from the cache")
            second = await lm.generate_text(prompt="Say hello to the local gateway.")
            say(f"cache: {second.cache_status}; same text: {second.text == first.text}")

            heading("4. stream_text, printed as it arrives")
            async for part in lm.stream_text(prompt="Tell a very short story about a cache."):
                if isinstance(part, TextDelta):
                    print(part.delta, end="", flush=True)
            say()

            await _tools_and_objects(lm)

            await _dynamic_route(admin, spec, data_url)

            heading(
                f"8. past the rate limit ({RATE_LIMIT} per 60 s, sliding; "
                "the calls above count too, cache hits included)"
            )
            burst = binding.model(MODEL, ModelParameters(max_tokens=8), retry=NO_RETRY)
            for n in range(1, RATE_LIMIT + 3):
                outcome = await burst.generate_text(
                    prompt=f"Request number {n}",
                    options=GatewayOptions(metadata={"demo": "burst", "n": n}),
                ).result()
                if not isinstance(outcome, Err):
                    say(f"request {n}: ok")
                    continue
                error = outcome.error
                match error.reason:
                    case RateLimited(retry_after=delay):
                        say(
                            f"request {n}: AiError RateLimited (status {error.status}, "
                            f"code {error.code}, retry after {delay} s)"
                        )
                        break
                    case _:
                        raise error
            else:
                raise SystemExit("the rate limit did not apply")

            try:
                await burst.generate_text(prompt="one more").or_die()
            except Defect as defect:
                say(f"with .or_die() the same failure is a {type(defect).__name__}")

        heading("9. the request log")
        rows = []
        async for entry in admin.logs(spec).list(order_by="created_at", direction="asc"):
            rows.append(
                (
                    entry.created_at.strftime("%H:%M:%S.%f")[:-3],
                    entry.status_code,
                    "yes" if entry.cached else "no",
                    entry.tokens_in,
                    entry.tokens_out,
                    entry.duration,
                    (entry.model or entry.path or "-").rsplit("/", 1)[-1],  # the served model
                    ", ".join(f"{k}={v}" for k, v in entry.metadata.items()),
                )
            )
        print_table(["time", "status", "cached", "in", "out", "ms", "model", "metadata"], rows)
        say(f"{len(rows)} requests logged")


if __name__ == "__main__":
    sys.exit(run(argparse.Namespace(db=None)))
