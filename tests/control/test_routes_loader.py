"""Routes declared beside gateways: `[[route]]` / `[routes.NAME]` TOML tables and module
objects holding `AiRoute`s."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aigateway_sdk.control.loader import SpecLoadError, load_specs, parse_toml
from aigateway_sdk.control.routes_loader import load_routes, parse_routes_toml
from aigateway_sdk.control.routes_spec import AiRoute
from aigateway_sdk.validation import ValidationError

LLAMA = "@cf/meta/llama-3.1-8b-instruct"
ELEMENTS = [
    {"id": "start", "type": "start", "outputs": {"next": {"elementId": "m"}}},
    {
        "id": "m",
        "type": "model",
        "properties": {"provider": "workers-ai", "model": LLAMA, "retries": 1, "timeout": 30000},
        "outputs": {"success": {"elementId": "end"}},
    },
    {"id": "end", "type": "end", "outputs": {}},
]

TABLES = f"""
[gateways.Prod]
id = "prod-gateway"

[[route]]
gateway = "Prod"
name = "support"

[[route.elements]]
id = "start"
type = "start"
outputs.next.elementId = "m"

[[route.elements]]
id = "m"
type = "model"
properties = {{ provider = "workers-ai", model = "{LLAMA}", retries = 1, timeout = 30000 }}
outputs.success.elementId = "end"

[[route.elements]]
id = "end"
type = "end"
outputs = {{}}
"""


def test_routes_as_toml_tables_beside_their_gateway() -> None:
    (route,) = parse_routes_toml(TABLES)
    assert route.name == "support"
    assert route.gateway is not None
    assert route.gateway.name == "Prod"
    assert route.gateway_id == "prod-gateway"
    assert route.elements_json() == ELEMENTS


def test_the_gateway_loader_skips_routes() -> None:
    (gateway,) = parse_toml(TABLES)
    assert gateway.id == "prod-gateway"


def test_pasted_json_keyed_by_name_and_a_plain_gateway_id() -> None:
    text = f"[routes.support]\ngateway = \"elsewhere\"\nelements = '''{json.dumps(ELEMENTS)}'''\n"
    (route,) = parse_routes_toml(text)
    assert (route.name, route.gateway_id, route.gateway) == ("support", "elsewhere", None)
    assert route.elements_json() == ELEMENTS


def test_errors_name_their_table_and_element() -> None:
    bad = TABLES.replace("retries = 1", "retries = 99").replace('name = "support"', 'name = "x"')
    bad += '\n[[route]]\nname = "y"\ncolour = "red"\nelements = "[nope"\n'
    with pytest.raises(ValidationError) as caught:
        parse_routes_toml(bad, source="gw.toml")
    assert set(caught.value.fields) == {
        "route.0.elements.m.properties.retries",
        "route.1.colour",
        "route.1.gateway",
    }
    assert "gw.toml" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('[routes.a]\nname = "b"\ngateway = "g"\nelements = []', "routes.a.name"),
        ('[route]\ngateway = "g"\nname = "a"\nelements = "[nope"', "route.elements"),
        ('[route]\ngateway = "g"\nname = "a"\nelements = 3', "route.elements"),
        ("routes = 3", "routes"),
        ("route = [3]", "route.0"),
    ],
)
def test_bad_tables(text: str, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_routes_toml(text)
    assert field in caught.value.fields


def test_a_route_declared_twice() -> None:
    one = f"[[route]]\ngateway = \"g\"\nname = \"a\"\nelements = '''{json.dumps(ELEMENTS)}'''\n"
    with pytest.raises(ValidationError, match="declared twice"):
        parse_routes_toml(one + one)


def test_no_route_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(SpecLoadError, match="declares no route"):
        parse_routes_toml('[gateway]\nid = "g"\n')
    with pytest.raises(SpecLoadError, match="invalid TOML"):
        parse_routes_toml("[route\n")
    with pytest.raises(SpecLoadError, match="no such file"):
        load_routes(tmp_path / "absent.toml")
    (tmp_path / "latin.toml").write_bytes(b"name = '\xe9'")
    with pytest.raises(SpecLoadError, match="UTF-8"):
        load_routes(tmp_path / "latin.toml")


@pytest.fixture
def infra(tmp_path: Path) -> Iterator[str]:
    module = "routes_infra_for_tests"
    (tmp_path / f"{module}.py").write_text(
        "from aigateway_sdk.control.routes_spec import AiRoute\n"
        "from aigateway_sdk.control.spec import AiGateway\n"
        "Gateway = AiGateway('Prod', id='prod-gateway')\n"
        f"ELEMENTS = {ELEMENTS!r}\n"
        "Support = AiRoute('support', gateway=Gateway, elements=ELEMENTS)\n"
        "Sales = AiRoute('sales', gateway=Gateway, elements=ELEMENTS)\n"
        "ALL = [Gateway, Support, Sales]\n"
        "NOTHING = [Gateway]\n"
    )
    yield str(tmp_path)
    sys.modules.pop(module, None)


def test_module_objects(infra: str) -> None:
    (one,) = load_routes("routes_infra_for_tests:Support", search_path=infra)
    assert isinstance(one, AiRoute)
    everything = load_routes("routes_infra_for_tests:ALL", search_path=infra)
    assert [r.name for r in everything] == ["support", "sales"]
    (gateway,) = load_specs("routes_infra_for_tests:ALL", search_path=infra)  # routes skipped
    assert gateway.id == "prod-gateway"
    with pytest.raises(SpecLoadError, match="holds no route"):
        load_routes("routes_infra_for_tests:NOTHING", search_path=infra)
    with pytest.raises(SpecLoadError, match="not an AiRoute"):
        load_routes("routes_infra_for_tests:ELEMENTS", search_path=infra)
    with pytest.raises(SpecLoadError, match="no attribute"):
        load_routes("routes_infra_for_tests:Missing", search_path=infra)
