"""Descriptions read from docstrings: the summary (the first paragraph) and the per-name
descriptions of parameters and attributes, in the three common styles:

    Google:   Args: / Arguments: / Parameters: / Attributes:, then `name (type): text`
    NumPy:    Parameters / Attributes underlined with dashes, then `name : type` and the
              text indented below it
    Sphinx:   `:param name: text`, `:param type name: text`, `:ivar name: text`

Continuation lines (indented under their entry) are joined with single spaces.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping

import attrs

_GOOGLE_HEADER = re.compile(r"^(?P<name>[A-Za-z][A-Za-z ]*):\s*$")
_GOOGLE_ENTRY = re.compile(r"^\*{0,2}(?P<name>[A-Za-z_]\w*)\s*(\([^)]*\))?\s*:\s*(?P<text>.*)$")
_NUMPY_ENTRY = re.compile(r"^\*{0,2}(?P<names>[A-Za-z_]\w*(\s*,\s*\*{0,2}[A-Za-z_]\w*)*)\s*(:.*)?$")
_SPHINX_FIELD = re.compile(r"^:(?P<kind>\w+)(?P<args>(\s+[^:]+)?)\s*:\s*(?P<text>.*)$")
_UNDERLINE = re.compile(r"^\s*-{3,}\s*$")

PARAMETER_SECTIONS = frozenset(
    {"args", "arguments", "parameters", "params", "keyword args", "keyword arguments",
     "other parameters"}
)  # fmt: skip
ATTRIBUTE_SECTIONS = frozenset({"attributes", "attrs", "fields"})
SPHINX_PARAMETERS = frozenset({"param", "parameter", "arg", "argument", "key", "keyword"})
SPHINX_ATTRIBUTES = frozenset({"ivar", "var", "cvar"})


@attrs.frozen(slots=True)
class Docstring:
    """What a docstring says: the summary and descriptions by parameter / attribute name."""

    summary: str | None = None
    params: Mapping[str, str] = attrs.field(factory=dict)
    attributes: Mapping[str, str] = attrs.field(factory=dict)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _join(lines: list[str]) -> str:
    return " ".join(line.strip() for line in lines if line.strip())


def _summary(lines: list[str]) -> str | None:
    paragraph: list[str] = []
    for index, line in enumerate(lines):
        if not line.strip():
            break
        next_line = lines[index + 1] if index + 1 < len(lines) else ""
        starts_section = _GOOGLE_HEADER.match(line) or _UNDERLINE.match(next_line)
        if starts_section or line.lstrip().startswith(":"):
            break
        paragraph.append(line)
    return _join(paragraph) or None


def _entries(block: list[str], entry: re.Pattern[str]) -> dict[str, str]:
    """Entries of one section: a line at the section's own indentation starts an entry, the
    more indented lines below it continue it."""
    found: dict[str, list[str]] = {}
    base = min((_indent(line) for line in block if line.strip()), default=0)
    current: list[str] | None = None
    for line in block:
        if line.strip() and _indent(line) == base:
            match = entry.match(line.strip())
            current = None
            if match:
                names = match.groupdict().get("names") or match.group("name")
                current = [match.groupdict().get("text") or ""]
                for name in re.split(r"\s*,\s*", names):
                    found[name.lstrip("*")] = current
        elif current is not None:
            current.append(line)
    return {name: _join(text) for name, text in found.items()}


def _google_sections(lines: list[str]) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    index = 0
    while index < len(lines):
        match = _GOOGLE_HEADER.match(lines[index].strip())
        if not match:
            index += 1
            continue
        own = _indent(lines[index])
        body: list[str] = []
        index += 1
        while index < len(lines) and (not lines[index].strip() or _indent(lines[index]) > own):
            body.append(lines[index])
            index += 1
        sections.setdefault(match.group("name").strip().lower(), []).extend(body)
    return sections


def _numpy_sections(lines: list[str]) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    headers = [
        i for i in range(len(lines) - 1) if lines[i].strip() and _UNDERLINE.match(lines[i + 1])
    ]
    for number, start in enumerate(headers):
        end = headers[number + 1] if number + 1 < len(headers) else len(lines)
        sections.setdefault(lines[start].strip().lower(), []).extend(lines[start + 2 : end])
    return sections


def _sphinx(lines: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    params: dict[str, list[str]] = {}
    attributes: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in lines:
        match = _SPHINX_FIELD.match(line.strip())
        if match:
            current = None
            words = match.group("args").split()
            kind = match.group("kind").lower()
            table = params if kind in SPHINX_PARAMETERS else attributes
            if words and (kind in SPHINX_PARAMETERS or kind in SPHINX_ATTRIBUTES):
                current = table[words[-1]] = [match.group("text")]
        elif current is not None and line.strip() and _indent(line) > 0:
            current.append(line)
        else:
            current = None
    return (
        {name: _join(text) for name, text in params.items()},
        {name: _join(text) for name, text in attributes.items()},
    )


def _collect(
    sections: dict[str, list[str]], names: frozenset[str], entry: re.Pattern[str]
) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, block in sections.items():
        if name in names:
            found.update(_entries(block, entry))
    return found


def parse_docstring(doc: str | None) -> Docstring:
    """The summary and the parameter / attribute descriptions of `doc` (any of the styles)."""
    if not doc or not doc.strip():
        return Docstring()
    lines = inspect.cleandoc(doc).splitlines()
    google = _google_sections(lines)
    numpy = _numpy_sections(lines)
    params, attributes = _sphinx(lines)
    for sections, entry in ((numpy, _NUMPY_ENTRY), (google, _GOOGLE_ENTRY)):
        params = {**_collect(sections, PARAMETER_SECTIONS, entry), **params}
        attributes = {**_collect(sections, ATTRIBUTE_SECTIONS, entry), **attributes}
    return Docstring(_summary(lines), params, attributes)


__all__ = ["Docstring", "parse_docstring"]
