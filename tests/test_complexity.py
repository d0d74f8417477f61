"""No function on the request paths grows past a cyclomatic complexity of 15 (radon's count),
so new capabilities are added as new small parts rather than new branches in old loops.
Byte-level parsers are exempt: they are state machines whose branches are the grammar."""

from __future__ import annotations

from pathlib import Path

import radon.complexity as radon_complexity

import aigateway_sdk

PACKAGE = Path(aigateway_sdk.__file__).parent
LIMIT = 15
CHECKED = (
    "gateway_model.py",
    "binding.py",
    "endpoint.py",
    "codecs",
    "streaming",
    "transport",
    "control",
    "contract",
    "local",
)
EXEMPT = {
    # The SSE decoder: the WHATWG event-stream grammar, byte by byte.
    ("transport/sse.py", "SseDecoder.feed"),
}


def checked_files() -> list[Path]:
    files: list[Path] = []
    for name in CHECKED:
        path = PACKAGE / name
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return files


def blocks(path: Path) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    for block in radon_complexity.cc_visit(path.read_text(encoding="utf-8")):
        # A class block's complexity is the sum of its methods; they are listed one by one.
        for item in [block, *getattr(block, "methods", [])]:
            if type(item).__name__ == "Class":
                continue
            name = f"{item.classname}.{item.name}" if item.classname else item.name
            found.append((name, item.complexity))
            closures = getattr(item, "closures", [])
            found.extend((f"{name}.{inner.name}", inner.complexity) for inner in closures)
    return found


def test_no_function_on_the_request_paths_is_more_complex_than_the_limit() -> None:
    too_complex = {
        f"{path.relative_to(PACKAGE)}:{name}": complexity
        for path in checked_files()
        for name, complexity in blocks(path)
        if complexity > LIMIT and (str(path.relative_to(PACKAGE)), name) not in EXEMPT
    }
    assert too_complex == {}


def test_the_walk_sees_the_code() -> None:
    assert len(checked_files()) > 60
    names = {name for path in checked_files() for name, _ in blocks(path)}
    assert "GatewayBinding.__init__" in names
