"""Which module may import which, read from the source (every import statement, including
those inside functions and under TYPE_CHECKING): the model never imports the binding, and the
core never imports the control plane's admin."""

from __future__ import annotations

import ast
from pathlib import Path

import aigateway_sdk

PACKAGE = Path(aigateway_sdk.__file__).parent
OUTSIDE_THE_CORE = ("control", "local", "cli")
FACADE = PACKAGE / "__init__.py"
"""`aigateway_sdk/__init__.py` re-exports the control plane for users (lazily); it is the
package's front door, not a part of the core that depends on it."""


def imported_by(path: Path) -> set[str]:
    """Every module (and `module.name`) an import statement of `path` names."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def core_modules() -> list[Path]:
    return [
        path
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.relative_to(PACKAGE).parts[0] not in OUTSIDE_THE_CORE and path != FACADE
    ]


def test_the_model_never_imports_the_binding() -> None:
    model = imported_by(PACKAGE / "gateway_model.py")
    assert not {name for name in model if name.startswith("aigateway_sdk.binding")}


def test_the_core_never_imports_the_control_planes_admin() -> None:
    admin = {
        "aigateway_sdk.control.admin",
        "aigateway_sdk.control.GatewayAdmin",
        "aigateway_sdk.control.ensure_gateway",
    }
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            name
            for name in imported_by(path)
            if name in admin or name.startswith("aigateway_sdk.control.admin.")
        )
        for path in core_modules()
    }
    assert {path: names for path, names in offenders.items() if names} == {}
    assert len(offenders) > 20  # the walk found the core


def test_the_core_never_imports_the_local_gateway_or_the_command_line() -> None:
    entry_point = PACKAGE / "__main__.py"  # `python -m aigateway_sdk` is the command line
    # The pytest plugin offers the local gateway to tests: it imports it in that fixture only.
    plugin = PACKAGE / "pytest_plugin.py"
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            name
            for name in imported_by(path)
            if name.startswith(("aigateway_sdk.local", "aigateway_sdk.cli"))
        )
        for path in core_modules()
        if path not in (entry_point, plugin)
    }
    assert {path: names for path, names in offenders.items() if names} == {}
