"""The public API: every exported name resolves, to the object its submodule defines; the
names come from one table, which the imports type checkers read repeat; importing the package
loads none of them (each resolves on first use)."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import aigateway_sdk

HEAVY = ("httpx", "dependency_injector")


def test_every_exported_name_resolves_to_its_definition() -> None:
    for module_name, names in aigateway_sdk._EXPORTS.items():
        module = importlib.import_module(module_name)
        for name in names:
            assert getattr(aigateway_sdk, name) is getattr(module, name), name
    assert callable(aigateway_sdk.sse_encode)  # not shadowed by a submodule of the same name


def test_all_is_the_table_and_names_each_object_once() -> None:
    names = [name for names in aigateway_sdk._EXPORTS.values() for name in names]
    assert aigateway_sdk.__all__ == ["__version__", *names]
    assert len(set(names)) == len(names)
    assert {
        name: module for module, names in aigateway_sdk._EXPORTS.items() for name in names
    } == aigateway_sdk._LAZY
    assert set(dir(aigateway_sdk)) >= set(aigateway_sdk.__all__)


def test_the_imports_for_type_checkers_are_the_table() -> None:
    source = Path(aigateway_sdk.__file__).read_text(encoding="utf-8")
    blocks = [
        node
        for node in ast.parse(source).body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    ]
    assert len(blocks) == 1
    imported: dict[str, list[str]] = {}
    for node in blocks[0].body:
        assert isinstance(node, ast.ImportFrom)
        assert node.module is not None
        for alias in node.names:
            assert alias.asname == alias.name, alias.name  # `X as X`: an explicit re-export
            imported.setdefault(node.module, []).append(alias.name)
    assert {module: sorted(names) for module, names in imported.items()} == {
        module: sorted(names) for module, names in aigateway_sdk._EXPORTS.items()
    }


def test_importing_the_package_loads_none_of_its_modules_nor_httpx() -> None:
    modules = sorted(aigateway_sdk._EXPORTS)
    code = (
        "import sys, aigateway_sdk; "
        f"print(sorted(m for m in {(*HEAVY, 'attrs', 'attr')!r} if m in sys.modules)); "
        f"print([m for m in {modules!r} if m in sys.modules]); "
        "aigateway_sdk.GatewayOptions; aigateway_sdk.AiError; "
        "print('aigateway_sdk.options' in sys.modules, 'httpx' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:3] == ["[]", "[]", "True False"]


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        aigateway_sdk.no_such_thing  # type: ignore[attr-defined]  # noqa: B018


def test_a_plain_text_model_loads_neither_tools_nor_schemas() -> None:
    """Tools, schemas and dependency-injector load when a call first uses them: a service that
    only generates text does not pay their import time (~0.1 s on a quiet machine)."""
    code = (
        "import sys, anyio; from aigateway_sdk import GatewayBinding; "
        "lm = GatewayBinding(account_id='a', api_token='t').model('@cf/meta/m'); "
        "lm.generate_text('hi').close(); lm.stream_text('hi'); "
        "print(sorted(m for m in ('aigateway_sdk.tools', 'aigateway_sdk.schema', "
        "'aigateway_sdk.calls', 'dependency_injector') if m in sys.modules)); "
        "from aigateway_sdk import Toolkit; lm.generate_text('hi', toolkit=Toolkit()).close(); "
        "print('aigateway_sdk.calls' in sys.modules, 'dependency_injector' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["[]", "True False"]
