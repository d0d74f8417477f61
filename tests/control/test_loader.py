"""Loading specs from TOML files and from `module:object` paths."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aigateway_sdk.control.loader import SpecLoadError, load_specs, parse_toml
from aigateway_sdk.control.spec import AiGateway
from aigateway_sdk.validation import ValidationError

EXAMPLE = Path(__file__).parents[2] / "examples" / "gateway.toml"


def test_single_gateway_table(tmp_path: Path) -> None:
    path = tmp_path / "gateway.toml"
    path.write_text(
        '[gateway]\nname = "Gateway"\nid = "prod-gateway"\ncache_ttl = 300\n'
        'rate_limiting_technique = "sliding"\nauthentication = true\n'
    )
    assert load_specs(path) == (
        AiGateway(
            "Gateway",
            id="prod-gateway",
            cache_ttl=300,
            rate_limiting_technique="sliding",
            authentication=True,
        ),
    )
    assert load_specs(str(path)) == load_specs(path)


def test_array_and_named_tables_mix_and_keep_order() -> None:
    specs = parse_toml(
        """
        [[gateway]]
        id = "first"
        [[gateway]]
        name = "Second Gateway"
        [gateways.Prod]
        id = "prod-gateway"
        log_management = 100_000
        log_management_strategy = "DELETE_OLDEST"
        [gateways.Staging]
        """
    )
    assert [(s.name, s.id) for s in specs] == [
        ("Gateway", "first"),
        ("Second Gateway", "second-gateway"),
        ("Prod", "prod-gateway"),
        ("Staging", "staging"),
    ]
    assert specs[2].log_management == 100_000


def test_field_errors_name_their_place_in_the_file() -> None:
    with pytest.raises(ValidationError) as error:
        parse_toml(
            """
            [[gateway]]
            id = "ok"
            cache_ttl = -1
            [gateways.Prod]
            cahce_ttl = 5
            rate_limiting_technique = "leaky"
            """,
            source="g.toml",
        )
    assert set(error.value.fields) == {
        "gateway.0.cache_ttl",
        "gateways.Prod.cahce_ttl",
    }
    assert "g.toml" in str(error.value)


def test_invalid_value_in_named_table_is_reported() -> None:
    with pytest.raises(ValidationError) as error:
        parse_toml('[gateways.Prod]\nrate_limiting_technique = "leaky"\n')
    assert error.value.fields == ("gateways.Prod.rate_limiting_technique",)


def test_unknown_top_level_key_is_an_error() -> None:
    with pytest.raises(ValidationError) as error:
        parse_toml('[gateway]\nid = "a"\n[gatway]\nid = "b"\n')
    assert error.value.fields == ("gatway",)


def test_duplicate_ids_are_an_error() -> None:
    with pytest.raises(ValidationError) as error:
        parse_toml('[gateways.A]\nid = "same"\n[gateways.B]\nid = "same"\n')
    assert error.value.fields == ("id",)
    assert "declared twice" in str(error.value)


def test_name_inside_a_named_table_is_an_error() -> None:
    with pytest.raises(ValidationError) as error:
        parse_toml('[gateways.A]\nname = "B"\n')
    assert error.value.fields == ("gateways.A.name",)


def test_empty_file_declares_nothing() -> None:
    with pytest.raises(SpecLoadError, match="declares no gateway"):
        parse_toml("# nothing\n")


def test_bad_toml_syntax() -> None:
    with pytest.raises(SpecLoadError, match="invalid TOML"):
        parse_toml("[gateway\nid=", source="x.toml")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecLoadError, match="no such file"):
        load_specs(tmp_path / "absent.toml")
    with pytest.raises(SpecLoadError, match="no such file"):
        load_specs(str(tmp_path / "absent"))


def test_wrong_type_for_a_toml_value() -> None:
    with pytest.raises(ValidationError) as error:
        parse_toml('[gateway]\ncache_ttl = "300"\ncollect_logs = "yes"\n')
    assert set(error.value.fields) == {"gateway.cache_ttl", "gateway.collect_logs"}


def test_the_shipped_example_loads() -> None:
    specs = load_specs(EXAMPLE)
    assert specs
    assert all(isinstance(s, AiGateway) for s in specs)


@pytest.fixture
def spec_module(tmp_path: Path) -> Iterator[str]:
    package = tmp_path / "myinfra"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "gateways.py").write_text(
        "from aigateway_sdk.control.spec import AiGateway\n"
        "Gateway = AiGateway('Gateway', id='prod-gateway', cache_ttl=300)\n"
        "ALL = [Gateway, AiGateway('Staging')]\n"
        "BY_NAME = {'a': Gateway}\n"
        "NOT_A_SPEC = 42\n"
        "MIXED = [Gateway, 'x']\n"
        "class Holder:\n    Inner = Gateway\n"
    )
    yield str(tmp_path)
    for name in [m for m in sys.modules if m == "myinfra" or m.startswith("myinfra.")]:
        del sys.modules[name]


def test_module_object_path(spec_module: str) -> None:
    specs = load_specs("myinfra.gateways:Gateway", search_path=spec_module)
    assert specs == (AiGateway("Gateway", id="prod-gateway", cache_ttl=300),)
    assert spec_module not in sys.path  # the search path is not left behind


def test_module_object_collections(spec_module: str) -> None:
    ids = [s.id for s in load_specs("myinfra.gateways:ALL", search_path=spec_module)]
    assert ids == ["prod-gateway", "staging"]
    assert load_specs("myinfra.gateways:BY_NAME", search_path=spec_module)[0].id == "prod-gateway"
    assert load_specs("myinfra.gateways:Holder.Inner", search_path=spec_module)[0].cache_ttl == 300


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("myinfra.nope:Gateway", "no module named"),
        ("nosuchpkg_xyz:Gateway", "no module named"),
        ("myinfra.gateways:Missing", "no attribute"),
        ("myinfra.gateways:NOT_A_SPEC", "not an AiGateway"),
        ("myinfra.gateways:MIXED", "not an AiGateway"),
        ("myinfra.gateways:", "expected module:object"),
    ],
)
def test_module_object_errors(spec_module: str, target: str, words: str) -> None:
    with pytest.raises(SpecLoadError, match=words):
        load_specs(target, search_path=spec_module)


def test_module_that_fails_to_import(tmp_path: Path) -> None:
    (tmp_path / "broken_infra_mod.py").write_text("raise RuntimeError('boom')\n")
    try:
        with pytest.raises(SpecLoadError, match="RuntimeError: boom"):
            load_specs("broken_infra_mod:Gateway", search_path=tmp_path)
    finally:
        sys.modules.pop("broken_infra_mod", None)
