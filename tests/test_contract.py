"""The SDK and the local gateway accept and refuse the same things, at every boundary.

Both sides take their names and limits from `aigateway_sdk.contract` but parse on their own:
the SDK when a value is built (`GatewayOptions`, `AiGateway`, `LogFilter`, `LogsClient.patch`),
the local gateway when the same value arrives over real HTTP (a header, a PUT or POST body, a
log query, a PATCH body). Each table row is one value; a row fails when one side accepts what
the other refuses. The documented numbers (docs/cloudflare-contract.md) are written out here,
not read from the contract, so a change of bound shows up as a failing row.

Stated differences, each with its own test below: an empty text header is no header (the SDK
refuses to build one); a filter key the SDK does not know is left to the server; a whole
metadata number beyond 64 bits is refused by the SDK (it cannot write it exactly) while the
gateway reads its JSON text as a double.
"""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest

from aigateway_sdk.contract.gateway import SETTINGS_RULES, GatewaySettings
from aigateway_sdk.contract.headers import OPTION_BY_FIELD, OPTIONS, UNIVERSAL_CONFIG
from aigateway_sdk.contract.logs import FILTER_FIELDS, LOG_FIELDS, OPERATORS
from aigateway_sdk.control import AiGateway, GatewayAdmin, LogEntry, LogFilter
from aigateway_sdk.errors import AiError
from aigateway_sdk.local import LocalGateway, LocalGatewayConfig
from aigateway_sdk.options import CustomCost, GatewayOptions
from aigateway_sdk.validation import ValidationError

pytestmark = pytest.mark.anyio

TOKEN = "contract-token"
MODEL = "@cf/meta/llama-3.1-8b-instruct"
AUTH = {"authorization": f"Bearer {TOKEN}"}
GATEWAY = "contract"
MONTH = 30 * 24 * 3600
INT64 = 2**63 - 1
_accounts = itertools.count()


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalGateway]:
    db: Path = tmp_path_factory.mktemp("contract") / "gw.db"
    with LocalGateway(LocalGatewayConfig(db_path=db, api_token=TOKEN)) as gateway:
        yield gateway


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=20) as client:
        yield client


def control(gw: LocalGateway, account: str, path: str = "") -> str:
    return f"{gw.api_url}/accounts/{account}/ai-gateway/gateways{path}"


async def fresh_gateway(gw: LocalGateway, http: httpx.AsyncClient) -> str:
    """A new account holding one gateway `GATEWAY` with default settings; its account id."""
    account = f"acct-{next(_accounts)}"
    body = AiGateway("Contract", id=GATEWAY).create_json()
    created = await http.post(control(gw, account), json=body, headers=AUTH)
    assert created.status_code == 200, created.text
    return account


def refused_naming(response: httpx.Response, field: str) -> bool:
    """True for a Cloudflare-shaped 400 whose first error names `field`; False for a 200."""
    if response.status_code == 200:
        return False
    assert response.status_code == 400, response.text
    path = str(response.json()["errors"][0]["path"][0])
    assert path.split("[")[0] == field, response.text  # `filters[0]` names `filters`
    return True


def mismatch(row: object, sdk_refuses: bool, gateway_refuses: bool) -> str | None:
    if sdk_refuses == gateway_refuses:
        return None
    side = "SDK" if sdk_refuses else "local gateway"
    return f"{row!r}: only the {side} refuses it"


# -- the contract itself ---------------------------------------------------------------------------


def test_the_contract_imports_neither_side_nor_httpx() -> None:
    code = (
        "import sys\n"
        "import aigateway_sdk.contract.cost, aigateway_sdk.contract.gateway\n"
        "import aigateway_sdk.contract.headers, aigateway_sdk.contract.logs\n"
        "bad = [m for m in sys.modules if m.startswith(('aigateway_sdk.control',"
        " 'aigateway_sdk.local', 'httpx', 'anyio'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_custom_cost_is_one_value_for_both_sides() -> None:
    per_token = CustomCost(per_token_in=0.5, per_token_out=2)
    assert per_token.to_json() == {"per_token_in": 0.5, "per_token_out": 2}
    assert per_token.cost(tokens_in=4, tokens_out=3) == 8.0
    assert CustomCost(total_cost=0.25).cost(tokens_in=100, tokens_out=None) == 0.25
    with pytest.raises(ValidationError) as empty:
        CustomCost()
    assert empty.value.fields == ("custom_cost",)
    with pytest.raises(ValidationError) as negative:
        CustomCost(per_token_out=-1)
    assert negative.value.fields == ("per_token_out",)


def test_each_setting_rule_is_its_fields_metadata() -> None:
    fields = attrs.fields(GatewaySettings)
    assert list(SETTINGS_RULES) == [field.name for field in fields]
    assert all(SETTINGS_RULES[field.name] in field.metadata.values() for field in fields)


# -- cf-aig-* request options ------------------------------------------------------------------

# (field, value the SDK is given); the wire form of a value the SDK refuses is `wire(value)`.
HEADER_ROWS: dict[str, list[Any]] = {
    "cache_ttl": [-1, 0, 59, 60, MONTH, MONTH + 1, INT64, 2**64, "soon", 1.5, True],
    "skip_cache": [True, False, "maybe", "yes"],
    "cache_key": ["k", "k" * 2000, "a b:c/d"],
    "metadata": [
        {},
        {"a": 1, "b": "2", "c": True, "d": 4.5, "e": "x"},
        {str(i): i for i in range(6)},
        {"a": [1]},
        {"a": {"b": 1}},
        {"a": None},
        {"a": math.nan},
        {"a": math.inf},
        {"a": INT64},
        {"a": -INT64 - 1},
        {"a": INT64 + 1},
    ],
    "collect_log": [True, False, "perhaps"],
    "event_id": ["evt-1", "e" * 2000],
    "request_timeout_ms": [0, 1, 3_600_000, 3_600_001, -5, INT64, 2**64, "nan", 1.5],
    "max_attempts": [0, 1, 5, 6, -1, 2**64, "three", True],
    "retry_delay_ms": [-1, 0, 5_000, 5_001, 60_000, INT64 + 1, "x", 2.5],
    "backoff": ["constant", "linear", "exponential", "random", "Linear", "CONSTANT"],
    "custom_cost": [
        {"per_token_in": 0},
        {"per_token_in": 0.5, "per_token_out": 2},
        {"total_cost": 1_000_000},
        {"total_cost": 1_000_000.5},
        {"total_cost": 1e16},
        {"per_token_in": 1e308},
        {"per_token_in": -0.5},
        {"per_token_out": math.nan},
        {"total_cost": math.inf},
        {"total_cost": True},
        {"per_token_in": "cheap"},
        {},
    ],
}


def wire(value: Any) -> str:
    """How a value looks in a header (JSON for objects: NaN and Infinity as Python writes them)."""
    return json.dumps(value) if isinstance(value, dict) else str(value)


def sdk_options(field: str, value: Any) -> GatewayOptions | None:
    """The options the SDK builds from one value, or None when it refuses it."""
    try:
        if field == "custom_cost":
            value = CustomCost(**value)
        return GatewayOptions(**{field: value})
    except ValidationError:
        return None


def test_every_option_has_a_table() -> None:
    assert set(HEADER_ROWS) == {option.field for option in OPTIONS}


@pytest.mark.parametrize("field", ["skip_cache", "collect_log"])
@pytest.mark.parametrize("value", ["maybe", "false", 1, 0])
def test_a_flag_takes_only_true_or_false(field: str, value: Any) -> None:
    """Not a row of the tables: the SDK used to send any truthy value as `true`, which the
    gateway then accepted, so both sides agreed on a value the caller never meant."""
    assert sdk_options(field, value) is None


@pytest.mark.parametrize("field", list(HEADER_ROWS))
async def test_sdk_and_gateway_agree_on_each_header_value(
    gw: LocalGateway, http: httpx.AsyncClient, field: str
) -> None:
    account = await fresh_gateway(gw, http)
    header = OPTION_BY_FIELD[field].header
    url = f"{gw.data_url}/{account}/{GATEWAY}/workers-ai/{MODEL}"
    problems: list[str | None] = []
    for value in HEADER_ROWS[field]:
        options = sdk_options(field, value)
        sent = options.headers()[header] if options is not None else wire(value)
        response = await http.post(url, json={"prompt": "hi"}, headers={**AUTH, header: sent})
        gateway_refuses = refused_naming(response, header)
        problems.append(mismatch((field, value), options is None, gateway_refuses))
    assert [p for p in problems if p] == []


@pytest.mark.parametrize("field", ["cache_key", "event_id"])
async def test_an_empty_text_header_is_no_header(
    gw: LocalGateway, http: httpx.AsyncClient, field: str
) -> None:
    """The one stated difference for headers: the SDK refuses to build an empty value (it
    means nothing), the gateway reads an empty header as an absent one."""
    assert sdk_options(field, "") is None
    account = await fresh_gateway(gw, http)
    url = f"{gw.data_url}/{account}/{GATEWAY}/workers-ai/{MODEL}"
    header = OPTION_BY_FIELD[field].header
    response = await http.post(url, json={"prompt": "hi"}, headers={**AUTH, header: ""})
    assert response.status_code == 200, response.text


async def test_a_whole_number_beyond_64_bits_is_a_double_on_the_wire(
    gw: LocalGateway, http: httpx.AsyncClient
) -> None:
    pytest.importorskip("orjson")  # the gateway's JSON reader; the standard one keeps the int
    assert sdk_options("metadata", {"a": 2**64}) is None
    assert sdk_options("metadata", {"a": float(2**64)}) is not None
    account = await fresh_gateway(gw, http)
    url = f"{gw.data_url}/{account}/{GATEWAY}/workers-ai/{MODEL}"
    for text in (str(2**64), str(-(2**63) - 1)):
        headers = {**AUTH, "cf-aig-metadata": f'{{"a": {text}}}'}
        response = await http.post(url, json={"prompt": "hi"}, headers=headers)
        assert response.status_code == 200, response.text


async def test_a_short_cache_ttl_is_raised_to_sixty_seconds(
    gw: LocalGateway, http: httpx.AsyncClient
) -> None:
    """Cloudflare's documented minimum TTL is 60 s: a smaller accepted TTL still caches."""
    account = await fresh_gateway(gw, http)
    url = f"{gw.data_url}/{account}/{GATEWAY}/workers-ai/{MODEL}"
    headers = {**AUTH, **GatewayOptions(cache_ttl=1).headers()}
    first = await http.post(url, json={"prompt": "ttl"}, headers=headers)
    second = await http.post(url, json={"prompt": "ttl"}, headers=headers)
    assert (first.headers["cf-aig-cache-status"], second.headers["cf-aig-cache-status"]) == (
        "MISS",
        "HIT",
    )


# A Universal step's `config` takes the retry options under other names, with the same bounds.
UNIVERSAL_ROWS: list[tuple[str, Any]] = [
    *[("requestTimeout", v) for v in (0, 1, 3_600_000, 3_600_001, 10**18, "5", True)],
    *[("maxAttempts", v) for v in (0, 1, 5, 6, 1.0)],
    *[("retryDelay", v) for v in (-1, 0, 5_000, 5_001, 60_000, "100")],
    *[("backoff", v) for v in ("constant", "linear", "exponential", "random", 1)],
]


async def test_universal_step_config_has_the_header_options_bounds(
    gw: LocalGateway, http: httpx.AsyncClient
) -> None:
    assert set(UNIVERSAL_CONFIG) | {"backoff"} == {key for key, _ in UNIVERSAL_ROWS}
    account = await fresh_gateway(gw, http)
    problems: list[str | None] = []
    for key, value in UNIVERSAL_ROWS:
        field = UNIVERSAL_CONFIG[key][0] if key in UNIVERSAL_CONFIG else "backoff"
        step = {
            "provider": "workers-ai",
            "endpoint": MODEL,
            "headers": {"authorization": f"Bearer {TOKEN}"},
            "query": {"prompt": "hi"},
            "config": {key: value},
        }
        response = await http.post(f"{gw.data_url}/{account}/{GATEWAY}", json=[step], headers=AUTH)
        assert response.status_code in (200, 400), response.text
        sdk_refuses = sdk_options(field, value) is None
        problems.append(mismatch((key, value), sdk_refuses, response.status_code == 400))
    assert [p for p in problems if p] == []


# -- gateway settings ----------------------------------------------------------------------------

WRONG = ["1", 1.5, [1], {"a": 1}]
RULE = {"limit": 5, "limitType": "cost", "window": 60}
SETTING_ROWS: dict[str, list[Any]] = {
    "cache_ttl": [-1, 0, MONTH + 1, INT64, INT64 + 1, None, True, *WRONG],
    "cache_invalidate_on_update": [True, False, None, 0, "true"],
    "collect_logs": [True, False, None, 1, "false"],
    "rate_limiting_interval": [-1, 0, INT64, INT64 + 1, -(2**63), None, False, *WRONG],
    "rate_limiting_limit": [-1, 0, 100, INT64, 2**64, None, *WRONG],
    "rate_limiting_technique": ["fixed", "sliding", "Fixed", "leaky", None, 1],
    "authentication": [True, False, None, "yes"],
    "log_management": [9_999, 10_000, 10_000_000, 10_000_001, None, 2**64, *WRONG],
    "log_management_strategy": ["STOP_INSERTING", "DELETE_OLDEST", "delete_oldest", None, 0],
    "logpush": [True, False, None, "false"],
    "logpush_public_key": ["k" * 15, "k" * 16, "k" * 1024, "k" * 1025, None, 16],
    "retry_max_attempts": [0, 1, 5, 6, None, True, *WRONG],
    "retry_delay": [-1, 0, 5_000, 5_001, 60_000, None, *WRONG],
    "retry_backoff": ["constant", "linear", "exponential", "random", None, 2],
    "spend_limits": [
        None,
        {},
        {"enabled": False},
        {"rules": []},
        {"enabled": "yes"},
        {"rules": "none"},
        {"unknown": 1},
        {"rules": [{"limit": 5, "limitType": "cost", "window": 86_400}]},
        {"rules": [{"limit": 0, "limitType": "cost", "window": 1, "technique": "sliding"}]},
        {"rules": [{"limit": 1e9, "limitType": "cost", "window": 366 * 86_400}]},
        {"rules": [{"limit": 1e9 + 1, "limitType": "cost", "window": 60}]},
        {"rules": [{"limit": -0.01, "limitType": "cost", "window": 60}]},
        {"rules": [{"limit": True, "limitType": "cost", "window": 60}]},
        {"rules": [{"limit": "5", "limitType": "cost", "window": 60}]},
        {"rules": [{"limit": 5, "limitType": "count", "window": 60}]},
        {"rules": [{"limit": 5, "window": 60}]},
        {"rules": [{"limit": 5, "limitType": "cost", "window": 0}]},
        {"rules": [{"limit": 5, "limitType": "cost", "window": 366 * 86_400 + 1}]},
        {"rules": [{"limit": 5, "limitType": "cost", "window": 60.5}]},
        {"rules": [{"limit": 5, "limitType": "cost", "window": 60, "technique": "leaky"}]},
        {"rules": [{"limit": 5, "limitType": "cost", "window": 60, "enabled": 1}]},
        {"rules": [{"limit": 5, "limitType": "cost", "window": 60, "id": "r1"}]},
        {"rules": [{"limit": 5, "limitType": "cost", "window": 60, "id": ""}]},
        {"rules": [{"limit": 5, "limitType": "cost", "window": 60, "id": "x" * 257}]},
        {"rules": [{"limit": 5, "limitType": "cost", "window": 60, "colour": "red"}]},
        {"rules": [{"limit": 5, "limitType": "cost", "window": 60} for _ in range(20)]},
        {"rules": [{"limit": 5, "limitType": "cost", "window": 60} for _ in range(21)]},
        {"rules": [{**RULE, "metadata": {"user": {"mode": "partition"}}}]},
        {"rules": [{**RULE, "metadata": {"team": {"mode": "filter", "values": ["a"]}}}]},
        {"rules": [{**RULE, "metadata": {"team": {"mode": "filter", "values": []}}}]},
        {"rules": [{**RULE, "metadata": {"team": {"mode": "filter", "values": [1]}}}]},
        {"rules": [{**RULE, "metadata": {"team": {"mode": "split"}}}]},
        {"rules": [{**RULE, "metadata": {"": {"mode": "partition"}}}]},
        {"rules": [{**RULE, "metadata": {str(i): {"mode": "partition"} for i in range(6)}}]},
        {"rules": [{**RULE, "model": {"mode": "filter", "values": [MODEL]}}]},
        {"rules": [{**RULE, "model": {"mode": "partition"}}]},
        {"rules": [{**RULE, "provider": {"mode": "filter", "values": ["workers-ai"]}}]},
        {"rules": [{**RULE, "provider": {"mode": "filter", "values": ["x"] * 101}}]},
        {"rules": [{**RULE, "provider": ["workers-ai"]}]},
        {"rules": ["rule"]},
        *WRONG,
    ],
}


def test_every_setting_has_a_table() -> None:
    assert set(SETTING_ROWS) == set(SETTINGS_RULES)


def sdk_refuses_setting(**fields: Any) -> bool:
    try:
        AiGateway("Contract", **fields)
    except ValidationError:
        return True
    return False


@pytest.mark.parametrize("field", list(SETTING_ROWS))
async def test_sdk_and_gateway_agree_on_each_setting_value(
    gw: LocalGateway, http: httpx.AsyncClient, field: str
) -> None:
    account = await fresh_gateway(gw, http)
    problems: list[str | None] = []
    for value in SETTING_ROWS[field]:
        response = await http.put(
            control(gw, account, f"/{GATEWAY}"), json={field: value}, headers=AUTH
        )
        gateway_refuses = refused_naming(response, field)
        sdk_refuses = sdk_refuses_setting(id=GATEWAY, **{field: value})
        problems.append(mismatch((field, value), sdk_refuses, gateway_refuses))
    assert [p for p in problems if p] == []


ID_ROWS: list[Any] = [
    "a",
    "0",
    "a_b",
    "my_gw-2",
    "x" * 64,
    "x" * 65,
    "",
    "UPPER",
    "has space",
    "-lead",
    "trail-",
    "double--dash",
    "dot.id",
    12,
    None,
]


async def test_sdk_and_gateway_agree_on_gateway_ids(
    gw: LocalGateway, http: httpx.AsyncClient
) -> None:
    account = f"acct-{next(_accounts)}"
    problems: list[str | None] = []
    for gateway_id in ID_ROWS:
        body = {**AiGateway("Contract", id="ok").create_json(), "id": gateway_id}
        response = await http.post(control(gw, account), json=body, headers=AUTH)
        gateway_refuses = refused_naming(response, "id")
        if not gateway_refuses:  # an account holds at most 10 gateways
            await http.delete(control(gw, account, f"/{gateway_id}"), headers=AUTH)
        sdk_refuses = sdk_refuses_setting(id=gateway_id)
        problems.append(mismatch(("id", gateway_id), sdk_refuses, gateway_refuses))
    assert [p for p in problems if p] == []


# -- the request log -----------------------------------------------------------------------------

VALUE_FOR = {
    "text": "x",
    "bool": True,
    "number": 1,
    "time": "2026-01-05T12:00:00Z",
    "metadata": "x",
}
FILTER_ROWS: list[tuple[str, str, Any]] = [
    *[(key, op, VALUE_FOR[kind]) for key, kind in FILTER_FIELDS.items() for op in OPERATORS],
    ("tokens_in", "lt", None),
    ("created_at", "gt", None),
    ("model", "gt", None),
    ("model", "eq", None),
    ("model", "neq", None),
    ("metadata.key", "eq", None),
    ("metadata.value", "contains", None),
    ("model", "like", "x"),
    ("model", "EQ", "x"),
]


async def test_sdk_and_gateway_agree_on_each_filter_operator_per_field(
    gw: LocalGateway, http: httpx.AsyncClient
) -> None:
    account = await fresh_gateway(gw, http)
    url = control(gw, account, f"/{GATEWAY}/logs")
    problems: list[str | None] = []
    for key, operator, value in FILTER_ROWS:
        try:
            LogFilter(key, operator, value)  # type: ignore[arg-type]
        except ValidationError:
            sdk_refuses = True
        else:
            sdk_refuses = False
        filters = json.dumps([{"key": key, "operator": operator, "value": [value]}])
        response = await http.get(url, params={"filters": filters}, headers=AUTH)
        gateway_refuses = refused_naming(response, "filters")
        problems.append(mismatch((key, operator, value), sdk_refuses, gateway_refuses))
    assert [p for p in problems if p] == []


async def test_an_unknown_filter_key_is_left_to_the_server() -> None:
    """The stated difference for filters: Cloudflare adds keys (`user_agent`, `dlp_action`);
    the SDK builds a filter on any key and the server judges it (tests/control/test_logs_e2e
    checks the local gateway's 400)."""
    assert LogFilter("user_agent", "contains", "curl").key == "user_agent"


PATCH_ROWS: list[tuple[str, Any]] = [
    *[("feedback", v) for v in (-1, 0, 1, 2, -2, 0.5, True, "1")],
    *[("score", v) for v in (0, 100, 87.5, -0.1, 100.1, True, "5", math.nan, math.inf)],
    ("metadata", {"a": 1, "b": "2", "c": True, "d": 4.5, "e": "x"}),
    ("metadata", {str(i): i for i in range(6)}),
    ("metadata", {"a": {"nested": 1}}),
    ("metadata", {"a": None}),
    ("metadata", {"a": INT64 + 1}),
]


async def test_sdk_and_gateway_agree_on_log_feedback(
    gw: LocalGateway, http: httpx.AsyncClient
) -> None:
    account = await fresh_gateway(gw, http)
    call = await http.post(
        f"{gw.data_url}/{account}/{GATEWAY}/workers-ai/{MODEL}", json={"prompt": "hi"}, headers=AUTH
    )
    log_id = call.headers["cf-aig-log-id"]
    problems: list[str | None] = []
    async with GatewayAdmin(account, TOKEN, gw.api_url) as admin:
        logs = admin.logs(GATEWAY)
        for field, value in PATCH_ROWS:
            try:
                await logs.patch(log_id, **{field: value})
            except ValidationError:
                sdk_refuses = True
            except AiError as error:  # the SDK sent it and the gateway refused it
                problems.append(f"{(field, value)!r}: only the gateway refuses it ({error})")
                continue
            else:
                sdk_refuses = False
            raw = json.dumps({field: value})  # NaN and Infinity as Python writes them
            response = await http.patch(
                control(gw, account, f"/{GATEWAY}/logs/{log_id}"),
                content=raw,
                headers={**AUTH, "content-type": "application/json"},
            )
            gateway_refuses = response.status_code == 400
            problems.append(mismatch((field, value), sdk_refuses, gateway_refuses))
    assert [p for p in problems if p] == []


async def test_a_log_entry_has_the_contract_fields_and_the_sdk_reads_them(
    gw: LocalGateway, http: httpx.AsyncClient
) -> None:
    account = await fresh_gateway(gw, http)
    headers = {**AUTH, **GatewayOptions(event_id="e-1", metadata={"k": "v"}).headers()}
    await http.post(
        f"{gw.data_url}/{account}/{GATEWAY}/workers-ai/{MODEL}",
        json={"prompt": "hi"},
        headers=headers,
    )
    listed = await http.get(control(gw, account, f"/{GATEWAY}/logs"), headers=AUTH)
    [item] = listed.json()["result"]
    assert tuple(item) == LOG_FIELDS
    entry = LogEntry.from_api(item)
    assert (entry.event_id, dict(entry.metadata)) == ("e-1", {"k": "v"})


# -- tools and images: what the SDK builds, the local gateway takes ---------------------------

TOOL_NAMES = ["t", "get_weather", "a-b_C9", "x" * 64, "x" * 65, "", "has space", "dot.ted", "é"]


async def test_sdk_and_gateway_agree_on_tool_names(
    gw: LocalGateway, http: httpx.AsyncClient
) -> None:
    from aigateway_sdk.tools import Tool

    account = await fresh_gateway(gw, http)
    url = f"{gw.data_url}/{account}/{GATEWAY}/workers-ai/{MODEL}"
    schema = {"type": "object", "properties": {}}
    problems = []
    for name in TOOL_NAMES:
        try:
            Tool(name, description="x", parameters=schema)
            sdk_refuses = False
        except ValidationError:
            sdk_refuses = True
        body = {
            "messages": [{"role": "user", "content": "hi"}],
            "tools": [{"name": name, "description": "x", "parameters": schema}],
        }
        reply = await http.post(url, json=body, headers=AUTH)
        gateway_refuses = reply.status_code == 400
        assert reply.status_code in (200, 400), reply.text
        problems.append(mismatch(name, sdk_refuses, gateway_refuses))
    assert [p for p in problems if p] == []


@pytest.mark.parametrize("count", [128, 129])
async def test_sdk_and_gateway_agree_on_the_number_of_tools(
    gw: LocalGateway, http: httpx.AsyncClient, count: int
) -> None:
    from aigateway_sdk.tools import Tool, Toolkit

    schema = {"type": "object", "properties": {}}
    tools = [Tool(f"t{i}", description="x", parameters=schema) for i in range(count)]
    try:
        Toolkit(*tools)
        sdk_refuses = False
    except ValidationError:
        sdk_refuses = True
    account = await fresh_gateway(gw, http)
    body = {
        "model": f"workers-ai/{MODEL}",
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [
            {"type": "function", "function": {"name": t.name, "parameters": schema}} for t in tools
        ],
    }
    reply = await http.post(
        f"{gw.data_url}/{account}/{GATEWAY}/compat/chat/completions", json=body, headers=AUTH
    )
    assert mismatch(count, sdk_refuses, refused_naming(reply, "tools")) is None


IMAGE_URLS = [
    "https://example.com/a.png",
    "http://example.com/a.png",
    "data:image/png;base64,iVBORw0KGgo=",
    "data:image/png;base64,!!!",
    "data:image/png;base64,abc",
    "data:image/png;base64,",
    "data:,x",
    "ftp://example.com/a.png",
    "a.png",
]


async def test_sdk_and_gateway_agree_on_image_urls(
    gw: LocalGateway, http: httpx.AsyncClient
) -> None:
    from aigateway_sdk.content import ImagePart

    account = await fresh_gateway(gw, http)
    url = f"{gw.data_url}/{account}/{GATEWAY}/compat/chat/completions"
    problems = []
    for image in IMAGE_URLS:
        try:
            ImagePart(image)
            sdk_refuses = False
        except ValidationError:
            sdk_refuses = True
        content = [
            {"type": "text", "text": "what is it"},
            {"type": "image_url", "image_url": {"url": image}},
        ]
        body = {"model": f"workers-ai/{MODEL}", "messages": [{"role": "user", "content": content}]}
        reply = await http.post(url, json=body, headers=AUTH)
        assert reply.status_code in (200, 400), reply.text
        problems.append(mismatch(image, sdk_refuses, reply.status_code == 400))
    assert [p for p in problems if p] == []
