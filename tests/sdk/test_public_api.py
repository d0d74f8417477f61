"""The public API: every exported name resolves, to the object its submodule defines."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import aigateway_sdk


def test_every_exported_name_resolves_to_its_definition() -> None:
    for name in aigateway_sdk.__all__:
        if name == "__version__":
            continue
        value = getattr(aigateway_sdk, name)
        module = importlib.import_module(aigateway_sdk._LAZY[name])
        assert value is getattr(module, name), name
    assert callable(aigateway_sdk.sse_encode)  # not shadowed by a submodule of the same name


def test_importing_the_package_loads_neither_httpx_nor_dependency_injector() -> None:
    code = (
        "import sys, aigateway_sdk; "
        "print(sorted(m for m in ('httpx', 'dependency_injector') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        aigateway_sdk.no_such_thing  # type: ignore[attr-defined]  # noqa: B018
