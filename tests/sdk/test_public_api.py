"""The public API: every exported name resolves, to the object its submodule defines; the
names come from one table, which the imports type checkers read repeat; only the modules that
import httpx wait for first use."""

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
    assert set(aigateway_sdk._LAZY) == {
        name for module in aigateway_sdk._ON_FIRST_USE for name in aigateway_sdk._EXPORTS[module]
    }
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


def test_importing_the_package_loads_neither_httpx_nor_dependency_injector() -> None:
    eager = sorted(set(aigateway_sdk._EXPORTS) - aigateway_sdk._ON_FIRST_USE)
    code = (
        "import sys, aigateway_sdk; "
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules)); "
        f"print([m for m in {eager!r} if m not in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["[]", "[]"]  # and every other module is loaded


def _source(module: str) -> Path | None:
    """The file of a module of this package, or None (a name that is not a module)."""
    base = Path(aigateway_sdk.__file__).parent.joinpath(*module.split(".")[1:])
    for path in (base / "__init__.py", base.with_suffix(".py")):
        if path.is_file():
            return path
    return None


def _imports(path: Path) -> set[str]:
    """What a module's import statements name when it is loaded (those under `if
    TYPE_CHECKING:` aside): third-party packages by their top-level name, this package's
    modules (and the packages they are in) in full."""
    found: set[str] = set()
    pending: list[ast.AST] = list(ast.parse(path.read_text("utf-8")).body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            pending.extend(node.orelse)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.If | ast.Try):
            pending.extend(ast.iter_child_nodes(node))
    names = set()
    for name in found:
        parts = name.split(".")
        if parts[0] != "aigateway_sdk":
            names.add(parts[0])
        else:
            names.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return names


def _loads_heavy(module: str) -> bool:
    """Whether loading `module` loads httpx or dependency-injector (read from the sources)."""
    seen: set[str] = set()
    pending = [module]
    while pending:
        name = pending.pop()
        if name in HEAVY:
            return True
        path = _source(name) if name.startswith("aigateway_sdk") else None
        if path is not None and name not in seen:
            seen.add(name)
            pending.extend(_imports(path))
    return False


def test_only_the_modules_that_import_httpx_wait_for_first_use() -> None:
    for module in aigateway_sdk._EXPORTS:
        assert _loads_heavy(module) == (module in aigateway_sdk._ON_FIRST_USE), module


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        aigateway_sdk.no_such_thing  # type: ignore[attr-defined]  # noqa: B018
