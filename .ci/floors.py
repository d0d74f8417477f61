"""Print the runtime requirements pinned to their lower bounds (`anyio>=4.5` -> `anyio==4.5`):
the project's dependencies and the `local` extra, for `make floors`.

A requirement without a `>=` bound is printed as is. Run with Python >= 3.11 (tomllib).
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

EXTRAS = ("local",)
BOUND = re.compile(r"^(?P<name>[A-Za-z0-9_.\-]+(\[[^\]]*\])?)\s*>=\s*(?P<version>[^,;\s]+)$")


def floors(pyproject: Path) -> list[str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in EXTRAS:
        requirements += project["optional-dependencies"][extra]
    pinned = []
    for requirement in requirements:
        match = BOUND.match(requirement.strip())
        pinned.append(f"{match['name']}=={match['version']}" if match else requirement)
    return pinned


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[1]
    print("\n".join(floors(root / "pyproject.toml")))
