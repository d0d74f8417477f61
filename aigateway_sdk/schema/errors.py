"""What a failed check says: `SchemaError` (one violation at one path) and `SchemaMismatch` (the
exception a value that does not validate or decode raises), plus the internal `DecodeFailure` a
decoder raises while it builds a typed value (the path is filled in on the way up)."""

from __future__ import annotations

import json
import re

import attrs

Path = tuple[str | int, ...]
"""Where a value sits in a JSON document: property names and array indexes; () is the root."""

SHOWN = 5
"""How many errors `str(SchemaMismatch)` lists before "and N more"."""

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def format_path(path: Path) -> str:
    """JSONPath-style: `$`, `$.items[2].price`, `$["odd key"]`."""
    parts = ["$"]
    for step in path:
        if isinstance(step, int):
            parts.append(f"[{step}]")
        elif _IDENTIFIER.fullmatch(step):
            parts.append(f".{step}")
        else:
            parts.append(f"[{json.dumps(step, ensure_ascii=False)}]")
    return "".join(parts)


@attrs.frozen(slots=True)
class SchemaError:
    """One violation: `path` names the value (`("items", 2, "price")`; `()` is the root) and
    `message` says what is wrong with it (`"expected number, got string"`, `"is required"`)."""

    path: Path
    message: str

    def __str__(self) -> str:
        return f"{format_path(self.path)}: {self.message}"


class SchemaMismatch(ValueError):
    """A value did not validate against a schema, or could not be built into its typed value.
    `errors` holds at least one `SchemaError`; `str()` lists the first few with their paths."""

    errors: tuple[SchemaError, ...]

    def __init__(self, errors: tuple[SchemaError, ...] | list[SchemaError]) -> None:
        self.errors = tuple(errors) or (SchemaError((), "does not match the schema"),)
        shown = "; ".join(str(error) for error in self.errors[:SHOWN])
        more = len(self.errors) - SHOWN
        super().__init__(shown + (f"; and {more} more" if more > 0 else ""))

    def __reduce__(self) -> tuple[type[SchemaMismatch], tuple[tuple[SchemaError, ...]]]:
        return (SchemaMismatch, (self.errors,))


class DecodeFailure(Exception):
    """Raised by a decoder when a valid JSON value cannot become its typed value (a date that is
    not ISO 8601, a class whose own validator refuses the fields, a pydantic model's own
    checks). Each container puts its key in front of the paths on the way up."""

    def __init__(self, errors: list[SchemaError]) -> None:
        super().__init__(errors[0].message if errors else "")
        self.errors = errors

    @classmethod
    def at_root(cls, message: str) -> DecodeFailure:
        return cls([SchemaError((), message)])

    def under(self, step: str | int) -> DecodeFailure:
        self.errors = [SchemaError((step, *error.path), error.message) for error in self.errors]
        return self


__all__ = ["DecodeFailure", "Path", "SchemaError", "SchemaMismatch", "format_path"]
