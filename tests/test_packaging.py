"""What the installed distribution promises: licence and classifiers, the pytest plugin
registered by entry point, extras that exist, no test tools among the published requirements,
and dependency floors that `make floors` can pin."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import aigateway_sdk
import aigateway_sdk.pytest_plugin
from aigateway_sdk._install import DISTRIBUTION, EXTRA_OF_MODULE, install_line

ROOT = Path(__file__).parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
DEV_TOOLS = ("pytest", "schemathesis", "hypothesis", "mypy", "ruff", "respx", "openai")


def metadata() -> importlib.metadata.PackageMetadata:
    return importlib.metadata.metadata(DISTRIBUTION)


def test_licence_classifiers_and_version() -> None:
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert metadata()["License-Expression"] == "MIT"
    classifiers = metadata().get_all("Classifier") or []
    assert {"Typing :: Typed", "Framework :: AsyncIO", "Framework :: Trio"} <= set(classifiers)
    assert (Path(aigateway_sdk.__file__).parent / "py.typed").exists()
    assert metadata()["Version"] == aigateway_sdk.__version__


def test_published_requirements_hold_no_dev_tools() -> None:
    requirements = importlib.metadata.requires(DISTRIBUTION) or []
    names = {
        r.split(";")[0].split("[")[0].split(">")[0].split("=")[0].strip() for r in requirements
    }
    assert not names & set(DEV_TOOLS)
    assert "dev" not in (metadata().get_all("Provides-Extra") or [])
    assert set(DEV_TOOLS) <= {
        r.split("=")[0].split(">")[0] for r in PYPROJECT["dependency-groups"]["dev"]
    }


def test_every_extra_named_in_an_install_line_exists() -> None:
    extras = set(PYPROJECT["project"]["optional-dependencies"])
    assert set(EXTRA_OF_MODULE.values()) <= extras
    assert PYPROJECT["project"]["name"] == DISTRIBUTION
    assert install_line("local") == "pip install 'cf-aigateway-sdk[local]'"


def test_the_floors_script_pins_every_runtime_requirement() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / ".ci" / "floors.py"), str(ROOT)],
        capture_output=True,
        text=True,
        check=True,
    )
    pinned = result.stdout.split()
    declared = (
        PYPROJECT["project"]["dependencies"]
        + PYPROJECT["project"]["optional-dependencies"]["local"]
    )
    assert len(pinned) == len(declared)
    assert all("==" in line for line in pinned), pinned


def test_the_pytest_plugin_is_registered_by_its_entry_point(
    pytestconfig: pytest.Config,
) -> None:
    entry_points = importlib.metadata.entry_points(group="pytest11")
    [entry] = [e for e in entry_points if e.value == "aigateway_sdk.pytest_plugin"]
    # named like the module, so an explicit `pytest_plugins = [...]` finds it loaded
    assert entry.name == "aigateway_sdk.pytest_plugin"
    plugin = pytestconfig.pluginmanager.get_plugin("aigateway_sdk.pytest_plugin")
    assert plugin is aigateway_sdk.pytest_plugin


@pytest.mark.parametrize("conftest", ["", 'pytest_plugins = ["aigateway_sdk.pytest_plugin"]\n'])
def test_a_project_gets_the_fixtures_without_listing_the_plugin(
    tmp_path: Path, conftest: str
) -> None:
    """With or without the (now redundant) `pytest_plugins` line: never registered twice."""
    (tmp_path / "conftest.py").write_text(conftest)
    (tmp_path / "test_uses_fixture.py").write_text(
        "def test_fake(fake_language_model, override_provider):\n"
        "    assert fake_language_model.calls == []\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
