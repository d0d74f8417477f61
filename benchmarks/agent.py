"""The `agent` section: one tool round trip and one `generate_object` call, the SDK against the
`openai` client and bare httpx doing the same work by hand, on the canned server.

Tasks (`benchmarks.shapes` holds the tool, the schema and the canned values):

- `tool round trip`: ask the model with the `get_weather` tool offered; it calls the tool
  (`{"city":"Paris"}`); validate the arguments, run the (async) handler, send the assistant's
  message and the tool's result back with the tools still offered; read the final text. Two
  model calls plus a handler. The SDK does it with `lm.generate_text(prompt,
  toolkit=Toolkit(tool(get_weather)), max_steps=3)`.
- `generate_object`: ask for JSON matching `Forecast` (11 fields), parse it, validate it and
  build the typed value. The SDK does it with `lm.generate_object(prompt, schema=Forecast)`.

Every client sends the same request bodies (the tool's definition and the response format are
the ones the SDK writes, computed once up front). Validation is named in each client's name:
the SDK's own `Schema.decode` (`aigateway_sdk.schema`, what the SDK runs: the fair comparison),
pydantic's `model_validate_json` (`+pydantic`: what `openai` users write), or none
(`no validation`: the baseline that shows what validation adds). The section also times the
validators alone, in a loop, for the share of a call they take.
"""

from __future__ import annotations

import json
import statistics
import time
import typing
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Protocol

import httpx
import openai
import orjson
from openai.types.chat import ChatCompletionMessageFunctionToolCall as FunctionToolCall

from aigateway_sdk import GatewayBinding
from aigateway_sdk.binding import DEFAULT_TIMEOUT
from aigateway_sdk.codecs.tools import openai_response_format
from aigateway_sdk.schema import Schema
from aigateway_sdk.structured import output_format
from aigateway_sdk.tools import Toolkit, tool
from benchmarks import shapes
from benchmarks.clients import (
    ACCOUNT,
    COMPAT_MODEL,
    GATEWAY,
    HEADERS,
    LIMITS,
    MODEL,
    TOKEN,
    compat_url,
    make_transport,
)
from benchmarks.harness import Sample, ServerProcess, alternated, paired_ratio, per_unit

Validation = Literal["sdk-schema", "pydantic", "none"]
TOOL_TASK = "tool round trip"
OBJECT_TASK = "generate_object"
PEER = "openai"  # every row's ratio is against this client, in the same round
BARE = "bare-httpx+pool"

WEATHER_TOOL = tool(shapes.get_weather)
SYNC_WEATHER_TOOL = tool(name=shapes.TOOL_NAME)(shapes.get_weather_sync)
WEATHER_ARGS = WEATHER_TOOL.parameters  # the Schema the SDK checks the arguments with
FORECAST_SCHEMA: Schema[shapes.Forecast] = Schema.of(shapes.Forecast)
FORECAST_JSON_SCHEMA: dict[str, Any] = dict(FORECAST_SCHEMA.json_schema)
"""The same schema as a JSON Schema dict (`generate_object(schema=<dict>)`)."""


def _openai_tools() -> list[dict[str, Any]]:
    """The tool as the SDK sends it on the compat route, for the clients that write it by hand."""
    definition = WEATHER_TOOL.definition()
    function = {
        "name": definition.name,
        "description": definition.description,
        "parameters": dict(definition.parameters),
    }
    return [{"type": "function", "function": function}]


TOOLS: Any = _openai_tools()  # Any: openai's create() takes its own TypedDicts
RESPONSE_FORMAT: Any = openai_response_format(output_format(FORECAST_SCHEMA))


class AgentClient(Protocol):
    name: str
    route: str
    transport: str
    validation: Validation

    async def round_trip(self) -> str:
        """One tool round trip; the final text."""
        ...

    async def structured(self) -> Any:
        """One structured-output call; the value (typed, or the JSON value without validation)."""
        ...

    async def aclose(self) -> None: ...


class SdkAgent:
    """`lm.generate_text(toolkit=...)` and `lm.generate_object(schema=Forecast)`; with
    `validation="none"`, `generate_text` on a model whose `extra_body` asks for the same
    `response_format`, then `orjson.loads` of its text (what `generate_object` parses with).
    `sync_handler`: the tool's handler is a plain function; `schema`: what `generate_object`
    is given (the attrs class, or the same schema as a JSON Schema dict)."""

    def __init__(
        self,
        name: str,
        base: str,
        *,
        compat: bool = True,
        validate: bool = True,
        sync_handler: bool = False,
        schema: Any = shapes.Forecast,
    ):
        self.name = name
        self.route = "compat" if compat else "workers-ai"
        self.transport = "pool"
        self.validation: Validation = "sdk-schema" if validate else "none"
        self._binding = GatewayBinding(
            account_id=ACCOUNT, gateway_id=GATEWAY, api_token=TOKEN, base_url=f"{base}/v1"
        )
        model = COMPAT_MODEL if compat else MODEL
        self._lm = self._binding.model(model)
        self._json_lm = self._binding.model(model, extra_body={"response_format": RESPONSE_FORMAT})
        self._toolkit = Toolkit(SYNC_WEATHER_TOOL if sync_handler else WEATHER_TOOL)
        self._schema = schema

    async def round_trip(self) -> str:
        response = await self._lm.generate_text(
            shapes.TOOL_PROMPT, toolkit=self._toolkit, max_steps=3
        )
        if len(response.steps) != 2:
            raise RuntimeError(f"{self.name}: {len(response.steps)} steps, expected 2")
        return response.text

    async def structured(self) -> Any:
        if self.validation == "none":
            response = await self._json_lm.generate_text(shapes.OBJECT_PROMPT)
            return orjson.loads(response.text)
        result = await self._lm.generate_object(shapes.OBJECT_PROMPT, schema=self._schema)
        return result.value

    async def aclose(self) -> None:
        await self._binding.aclose()


def _user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


class BareAgent:
    """httpx on the SDK's `PooledTransport` + orjson, by hand: read `tool_calls`,
    `orjson.loads` the arguments, check them with the tool's `Schema.decode` (as the SDK
    does), run the handler, append the messages, post again."""

    def __init__(self, name: str, base: str):
        self.name = name
        self.route = "compat"
        self.transport = "pool"
        self.validation: Validation = "sdk-schema"
        self._url = compat_url(base)
        self._client = httpx.AsyncClient(
            timeout=DEFAULT_TIMEOUT, limits=LIMITS, transport=make_transport("pool")
        )

    async def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        response = await self._client.post(self._url, content=orjson.dumps(body), headers=HEADERS)
        if response.status_code != 200:
            raise RuntimeError(f"status {response.status_code}")
        message: dict[str, Any] = orjson.loads(response.content)["choices"][0]["message"]
        return message

    async def round_trip(self) -> str:
        messages = _user(shapes.TOOL_PROMPT)
        body = {"model": COMPAT_MODEL, "messages": messages, "tools": TOOLS, "tool_choice": "auto"}
        message = await self._post(body)
        calls = message.get("tool_calls") or []
        messages.append(
            {"role": "assistant", "content": message.get("content"), "tool_calls": calls}
        )
        for call in calls:
            function = call["function"]
            if function["name"] != shapes.TOOL_NAME:
                raise RuntimeError(f"unknown tool {function['name']!r}")
            arguments = WEATHER_ARGS.decode(orjson.loads(function["arguments"]))
            result = await shapes.get_weather(**arguments)
            content = orjson.dumps(result).decode()
            messages.append({"role": "tool", "tool_call_id": call["id"], "content": content})
        final = await self._post(body)
        text: str = final["content"]
        return text

    async def structured(self) -> Any:
        body = {
            "model": COMPAT_MODEL,
            "messages": _user(shapes.OBJECT_PROMPT),
            "response_format": RESPONSE_FORMAT,
        }
        message = await self._post(body)
        return FORECAST_SCHEMA.decode(orjson.loads(message["content"]))

    async def aclose(self) -> None:
        await self._client.aclose()


class OpenAiAgent:
    """`openai.AsyncOpenAI(max_retries=0).chat.completions.create(tools=...)` /
    `create(response_format=...)` + `json.loads` + validation, by hand. The assistant's
    message goes back as a plain dict (cheaper for the client than passing its pydantic
    `ChatCompletionMessage` back, which openai also accepts)."""

    def __init__(self, name: str, base: str, *, validation: Validation = "sdk-schema"):
        self.name = name
        self.route = "compat"
        self.transport = "httpx2"
        self.validation = validation
        self._client = openai.AsyncOpenAI(
            base_url=f"{base}/v1/{ACCOUNT}/{GATEWAY}/compat", api_key=TOKEN, max_retries=0
        )

    async def _run(self, call: Any) -> Any:
        arguments = call.function.arguments
        if self.validation == "pydantic":
            parsed = shapes.WeatherArgsModel.model_validate_json(arguments)
            return await shapes.get_weather(city=parsed.city)
        if self.validation == "none":
            return await shapes.get_weather(**json.loads(arguments))
        return await shapes.get_weather(**WEATHER_ARGS.decode(json.loads(arguments)))

    async def round_trip(self) -> str:
        create = self._client.chat.completions.create
        messages: Any = _user(shapes.TOOL_PROMPT)
        completion = await create(
            model=COMPAT_MODEL, messages=messages, tools=TOOLS, tool_choice="auto"
        )
        message = completion.choices[0].message
        calls = [c for c in message.tool_calls or () if isinstance(c, FunctionToolCall)]
        messages.append(
            {
                "role": "assistant",
                "content": message.content,
                "tool_calls": [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {
                            "name": call.function.name,
                            "arguments": call.function.arguments,
                        },
                    }
                    for call in calls
                ],
            }
        )
        for call in calls:
            if call.function.name != shapes.TOOL_NAME:
                raise RuntimeError(f"unknown tool {call.function.name!r}")
            result = await self._run(call)
            messages.append(
                {"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)}
            )
        completion = await create(
            model=COMPAT_MODEL, messages=messages, tools=TOOLS, tool_choice="auto"
        )
        return completion.choices[0].message.content or ""

    async def structured(self) -> Any:
        completion = await self._client.chat.completions.create(
            model=COMPAT_MODEL,
            messages=typing.cast(Any, _user(shapes.OBJECT_PROMPT)),
            response_format=RESPONSE_FORMAT,
        )
        content = completion.choices[0].message.content or ""
        if self.validation == "pydantic":
            return shapes.ForecastModel.model_validate_json(content)
        if self.validation == "none":
            return json.loads(content)
        return FORECAST_SCHEMA.decode(json.loads(content))

    async def aclose(self) -> None:
        await self._client.close()


Factory = Callable[[str], AgentClient]

CLIENTS: dict[str, Factory] = {
    "sdk": lambda base: SdkAgent("sdk", base),
    "sdk-native": lambda base: SdkAgent("sdk-native", base, compat=False),
    "sdk, sync handler": lambda base: SdkAgent("sdk, sync handler", base, sync_handler=True),
    "sdk, dict schema": lambda base: SdkAgent(
        "sdk, dict schema", base, schema=FORECAST_JSON_SCHEMA
    ),
    "sdk, no validation": lambda base: SdkAgent("sdk, no validation", base, validate=False),
    BARE: lambda base: BareAgent(BARE, base),
    "openai": lambda base: OpenAiAgent("openai", base),
    "openai+pydantic": lambda base: OpenAiAgent("openai+pydantic", base, validation="pydantic"),
    "openai, no validation": lambda base: OpenAiAgent(
        "openai, no validation", base, validation="none"
    ),
}
TASK_CLIENTS: dict[str, list[str]] = {
    TOOL_TASK: ["sdk", "sdk-native", "sdk, sync handler", BARE, "openai", "openai+pydantic"],
    OBJECT_TASK: [
        "sdk",
        "sdk-native",
        "sdk, dict schema",
        "sdk, no validation",
        BARE,
        "openai",
        "openai+pydantic",
        "openai, no validation",
    ],
}
DESCRIPTIONS: dict[str, str] = {
    "sdk": "`lm.generate_text(prompt, toolkit=Toolkit(tool(get_weather)), max_steps=3)` / "
    "`lm.generate_object(prompt, schema=Forecast)`, compat route, default transport",
    "sdk-native": "the same on the Workers AI route (traditional tools, JSON mode)",
    "sdk, sync handler": "`sdk` with a plain (sync) handler, which the SDK runs in a worker "
    "thread (`anyio.to_thread.run_sync`)",
    "sdk, dict schema": "`lm.generate_object(prompt, schema=<the same schema as a JSON "
    "Schema dict>)`",
    "sdk, no validation": "`lm.generate_text(prompt)` on a model with `extra_body` asking for "
    "the same `response_format`, then `orjson.loads(response.text)`",
    BARE: "httpx on `PooledTransport` + orjson, by hand; arguments and objects checked with "
    "the SDK's `Schema.decode`",
    "openai": "`chat.completions.create(tools=... | response_format=...)` + `json.loads` + "
    "the SDK's `Schema.decode` (the same validation as the SDK)",
    "openai+pydantic": "the same with pydantic `model_validate_json` (what openai users write)",
    "openai, no validation": "`create(response_format=...)` + `json.loads` only",
}


# -- the section ------------------------------------------------------------------------------


def _task_runner(task: str) -> Callable[[AgentClient], Callable[[], Awaitable[Any]]]:
    if task == TOOL_TASK:
        return lambda client: client.round_trip
    return lambda client: client.structured


async def _measure_task(
    server: ServerProcess, built: dict[str, AgentClient], task: str, rounds: int, count: int
) -> dict[str, list[Sample]]:
    names = TASK_CLIENTS[task]
    runner = _task_runner(task)
    for name in names:  # connect, warm up and check the answers, untimed
        for _ in range(max(3, count // 10)):
            _check(task, name, await runner(built[name])())
    return await alternated({name: runner(built[name]) for name in names}, rounds, count, server)


def _check(task: str, name: str, got: Any) -> None:
    if task == TOOL_TASK:
        ok = got == shapes.FINAL_TEXT
    elif isinstance(got, dict):
        ok = got == shapes.FORECAST
    else:
        ok = getattr(got, "hourly_c", None) == shapes.FORECAST["hourly_c"]
    if not ok:
        raise RuntimeError(f"{name}, {task}: unexpected answer {got!r}"[:300])


def _row(task: str, client: AgentClient, samples: dict[str, list[Sample]]) -> dict[str, Any]:
    mine = samples[client.name]
    return {
        "task": task,
        "client": client.name,
        "route": client.route,
        "transport": client.transport,
        "validation": client.validation,
        "value": per_unit(mine) * 1e6,
        "client_cpu": per_unit(mine, "cpu") * 1e6,
        "server_cpu": per_unit(mine, "server_cpu") * 1e6,
        "vs": PEER,
        "ratio": paired_ratio(mine, samples[PEER]),
        "cpu_ratio": paired_ratio(mine, samples[PEER], "cpu"),
        "cpu_vs_bare": paired_ratio(mine, samples[BARE], "cpu"),
        "rounds_cpu": [s.cpu / max(1, s.units) * 1e6 for s in mine],
    }


def _per_call_us(fn: Callable[[], Any], repeat: int, number: int) -> float:
    """The median over `repeat` loops of `number` calls, CPU µs per call."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        for _ in range(number):
            fn()
        times.append((time.process_time() - start) / number * 1e6)
    return float(statistics.median(times))


def validators(number: int) -> list[dict[str, Any]]:
    """Each validator alone, and what `generate_object` builds from its schema on every call,
    in a loop: CPU µs per call."""
    text = orjson.dumps(shapes.FORECAST).decode()
    value = orjson.loads(text)
    arguments = orjson.dumps(shapes.TOOL_ARGUMENTS).decode()
    runs: list[tuple[str, str, Callable[[], Any]]] = [
        # What generate_object does besides validating, on every call (calls.object_request).
        ("Forecast", "Schema.of(Forecast)", lambda: Schema.of(shapes.Forecast)),
        ("Forecast", "Schema.of(<JSON Schema dict>)", lambda: Schema.of(FORECAST_JSON_SCHEMA)),
        ("Forecast", "output_format(schema)", lambda: output_format(FORECAST_SCHEMA)),
        ("Forecast", "orjson.loads(text)", lambda: orjson.loads(text)),
        ("Forecast", "json.loads(text)", lambda: json.loads(text)),
        ("Forecast", "Schema.of(Forecast).decode(value)", lambda: FORECAST_SCHEMA.decode(value)),
        (
            "Forecast",
            "ForecastModel.model_validate_json(text)",
            lambda: shapes.ForecastModel.model_validate_json(text),
        ),
        (
            "Forecast",
            "ForecastModel.model_validate(value)",
            lambda: shapes.ForecastModel.model_validate(value),
        ),
        (
            "get_weather",
            "tool.parameters.decode(value)",
            lambda: WEATHER_ARGS.decode({"city": "Paris"}),
        ),
        (
            "get_weather",
            "WeatherArgsModel.model_validate_json(text)",
            lambda: shapes.WeatherArgsModel.model_validate_json(arguments),
        ),
    ]
    return [
        {"shape": shape, "what": what, "cpu_us": _per_call_us(fn, 5, number)}
        for shape, what, fn in runs
    ]


async def section(server: ServerProcess, rounds: int, count: int, number: int) -> dict[str, Any]:
    """`count` round trips / calls per client per round, `rounds` interleaved rounds per task;
    the validators alone, `number` calls per loop."""
    names = sorted({name for clients in TASK_CLIENTS.values() for name in clients})
    built = {name: CLIENTS[name](server.url) for name in names}
    rows: list[dict[str, Any]] = []
    try:
        for task in (TOOL_TASK, OBJECT_TASK):
            samples = await _measure_task(server, built, task, rounds, count)
            rows += [_row(task, built[name], samples) for name in TASK_CLIENTS[task]]
            if task == OBJECT_TASK:
                with_it, without = samples["sdk"], samples["sdk, no validation"]
                paired = {
                    "wall": paired_ratio(with_it, without) - 1,
                    "cpu": paired_ratio(with_it, without, "cpu") - 1,
                }
    finally:
        for client in built.values():
            await client.aclose()
    return {
        "title": "Agent: a tool round trip and a generate_object call",
        "unit": "µs per round trip / per call",
        "rows": rows,
        "validation_paired": paired,
        "validators": validators(number),
        "n": {"rounds": rounds, "per_round": count},
    }


# -- targets and report -----------------------------------------------------------------------


def _find(section: dict[str, Any], task: str, client: str) -> dict[str, Any] | None:
    return next((r for r in section["rows"] if r["task"] == task and r["client"] == client), None)


def _validator(section: dict[str, Any], what: str) -> float | None:
    found = [v["cpu_us"] for v in section.get("validators", []) if v["what"] == what]
    return found[0] if found else None


def validation_share(section: dict[str, Any]) -> dict[str, float] | None:
    """What validation adds to the SDK's `generate_object`: paired (generate_object over the
    same call without validation, minus 1, wall and CPU) and isolated (`Schema.decode` alone
    over the call's client CPU)."""
    sdk = _find(section, OBJECT_TASK, "sdk")
    paired = section.get("validation_paired")
    decode = _validator(section, "Schema.of(Forecast).decode(value)")
    if sdk is None or paired is None or decode is None:
        return None
    return {
        "paired_wall": paired["wall"],
        "paired_cpu": paired["cpu"],
        "decode_us": decode,
        "isolated": decode / sdk["client_cpu"],
    }


def targets(section: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    row = _find(section, TOOL_TASK, "sdk")
    if row:
        found.append(
            {
                "target": "tool round trip (compat): SDK / openai client",
                "limit": "<= 0.60",
                "measured": row["ratio"],
                "met": row["ratio"] <= 0.6,
                "measured_cpu": row["cpu_ratio"],
                "met_cpu": row["cpu_ratio"] <= 0.6,
            }
        )
    share = validation_share(section)
    if share:
        found.append(
            {
                "target": "generate_object / the same call without validation (SDK)",
                "limit": "<= 1.10",
                "measured": 1 + share["paired_wall"],
                "met": share["paired_wall"] <= 0.1,
                "measured_cpu": 1 + share["paired_cpu"],
                "met_cpu": share["paired_cpu"] <= 0.1,
            }
        )
        found.append(
            {
                "target": "generate_object: Schema.decode alone / the call's client CPU (share)",
                "limit": "<= 0.10",
                "measured": None,
                "met": None,
                "measured_cpu": share["isolated"],
                "met_cpu": share["isolated"] <= 0.1,
            }
        )
    return found


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"**{value:.2f}x**"


def render_section(section: dict[str, Any]) -> list[str]:
    n = section["n"]
    out = [
        f"## {section['title']}",
        "",
        f"rounds: {n['rounds']}, round trips / calls per client per round: {n['per_round']}, "
        "the clients alternating call by call (A B C C B A ...), each call timed on its own. "
        f"Ratios against `{PEER}` (median of per-round ratios); `CPU vs bare`: client CPU "
        f"against `{BARE}`. A tool round trip is two model calls plus the handler. Server CPU: "
        "the server's CPU time over each round split evenly between the clients.",
    ]
    header = [
        "client",
        "ratio (wall)",
        "ratio (CPU)",
        "CPU vs bare",
        "µs",
        "client CPU µs",
        "server CPU µs",
        "validation",
        "route",
    ]
    for task in (TOOL_TASK, OBJECT_TASK):
        rows = [r for r in section["rows"] if r["task"] == task]
        if not rows:
            continue
        out += ["", f"### {task}", ""]
        out += ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        for r in rows:
            cells = [
                f"`{r['client']}`",
                _ratio(r["ratio"]),
                _ratio(r["cpu_ratio"]),
                _ratio(r["cpu_vs_bare"]),
                _num(r["value"]),
                _num(r["client_cpu"]),
                _num(r["server_cpu"]),
                r["validation"],
                r["route"],
            ]
            out.append("| " + " | ".join(cells) + " |")
    share = validation_share(section)
    if share:
        out += [
            "",
            f"What validation adds to `generate_object` (the `sdk` row over `sdk, no "
            f"validation`, paired): {share['paired_wall']:+.1%} wall, "
            f"{share['paired_cpu']:+.1%} client CPU. `Schema.decode` alone: "
            f"{share['decode_us']:.1f} µs, {share['isolated']:.1%} of the call's client CPU.",
        ]
    validators_run = section.get("validators", [])
    if validators_run:
        out += [
            "",
            "Alone, in a loop (CPU µs per call, median of 5 loops): the validators, and what "
            "`generate_object` builds from its `schema` argument on every call "
            "(`Schema.of(...)`, then `output_format`, which copies the JSON Schema).",
            "",
        ]
        out += ["| shape | call | µs |", "|---|---|---|"]
        out += [f"| {v['shape']} | `{v['what']}` | {v['cpu_us']:.2f} |" for v in validators_run]
    out += ["", "Clients:", ""]
    out += [f"- `{name}`: {text}" for name, text in DESCRIPTIONS.items()]
    return out


__all__ = ["CLIENTS", "DESCRIPTIONS", "render_section", "section", "targets"]
