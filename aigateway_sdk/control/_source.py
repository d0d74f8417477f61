"""Reading a spec source: a TOML file, or the object a `module:object` path names, with every
failure a `SpecLoadError` naming the source."""

from __future__ import annotations

import importlib
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

from aigateway_sdk.validation import ValidationError

T = TypeVar("T")


class SpecLoadError(Exception):
    """A spec source could not be read: missing file, bad TOML, bad `module:object` path."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


def source_kind(source: str | Path) -> Literal["toml", "object"]:
    """`toml` for a `Path`, a source ending in `.toml` or naming an existing file; `object`
    for a source with a `:`; else a `SpecLoadError`."""
    text = str(source)
    if isinstance(source, Path) or text.endswith(".toml") or Path(text).is_file():
        return "toml"
    if ":" in text:
        return "object"
    raise SpecLoadError(text, "no such file (and not a module:object path)")


def read_text(path: Path) -> str:
    """The file's text (UTF-8)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SpecLoadError(str(path), "no such file") from None
    except OSError as error:
        raise SpecLoadError(str(path), f"cannot read: {error.strerror or error}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SpecLoadError(str(path), "not UTF-8 text") from None


def toml_data(text: str, *, source: str) -> dict[str, Any]:
    """TOML text parsed."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SpecLoadError(source, f"invalid TOML: {error}") from None


def resolve_object(target: str, *, search_path: str | Path | None = None) -> object:
    """The object `package.module:attribute` names (dots after the colon walk attributes),
    imported with `search_path` first on `sys.path`, if given."""
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise SpecLoadError(target, "expected module:object")
    value: object = _import(target, module_name, search_path)
    for part in attribute.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise SpecLoadError(target, f"{module_name} has no attribute {attribute!r}") from None
    return value


def _import(target: str, module_name: str, search_path: str | Path | None) -> Any:
    added = search_path is not None and str(search_path) not in sys.path
    if added:
        sys.path.insert(0, str(search_path))
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is not None and module_name.startswith(error.name):
            raise SpecLoadError(target, f"no module named {error.name!r}") from None
        raise SpecLoadError(target, f"importing {module_name} failed: {error}") from None
    except ValidationError:
        raise
    except Exception as error:
        problem = f"importing {module_name} failed: {type(error).__name__}: {error}"
        raise SpecLoadError(target, problem) from None
    finally:
        if added:
            sys.path.remove(str(search_path))


def members(target: str, value: object, kind: type, what: str) -> tuple[object, ...]:
    """`value` alone when it is a `kind`, else the items of a list, tuple, set or dict (its
    values); anything else is a `SpecLoadError` ("is a str, not `what`")."""
    if isinstance(value, kind):
        return (value,)
    if isinstance(value, Mapping):
        return tuple(value.values())
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(value)
    raise SpecLoadError(target, f"is a {type(value).__name__}, not {what}")


def instances(
    target: str,
    value: object,
    kind: type[T],
    *,
    what: str,
    noun: str,
    skip: type | tuple[type, ...] = (),
) -> tuple[T, ...]:
    """The `kind` values `value` is or holds (see `members`), passing over `skip` ones; any
    other item, or none found, is a `SpecLoadError` ("holds a str, not `what`", "holds no
    `noun`")."""
    found = members(target, value, kind, what)
    bad = [type(i).__name__ for i in found if not isinstance(i, kind) and not isinstance(i, skip)]
    if bad:
        raise SpecLoadError(target, f"holds a {bad[0]}, not {what}")
    picked = tuple(i for i in found if isinstance(i, kind))
    if not picked:
        raise SpecLoadError(target, f"holds no {noun}")
    return picked


__all__ = [
    "SpecLoadError",
    "instances",
    "members",
    "read_text",
    "resolve_object",
    "source_kind",
    "toml_data",
]
