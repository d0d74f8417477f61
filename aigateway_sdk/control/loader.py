"""Load `AiGateway` specs from a TOML file or from a Python object (`package.module:Gateway`).

TOML: a file declares one gateway or several, in any of three forms (which may be mixed):

    [gateway]                 # one gateway
    id = "prod-gateway"
    cache_ttl = 300

    [[gateway]]               # several, as an array of tables
    name = "Staging"

    [gateways.Prod]           # several, keyed by name (the key is the spec's `name`)
    id = "prod-gateway"

Keys are the `AiGateway` fields (`name`, `id` and the settings, snake_case). Missing
settings take the defaults of a new Cloudflare gateway; a missing `id` is derived from the
name. `[[route]]` / `[routes.NAME]` tables are routes (`routes_loader`), skipped here.
`spend_limits` is written in Cloudflare's JSON shape, as TOML tables:

    [[gateway.spend_limits.rules]]
    limit = 5.0
    limitType = "cost"
    window = 86400
    metadata = { user_id = { mode = "partition" } }

TOML has no null: leave a nullable setting out to keep its default. Unknown keys, bad
values and duplicate ids are errors naming their place (`gateways.Prod.cache_ttl`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from aigateway_sdk.control._source import (
    SpecLoadError,
    instances,
    read_text,
    resolve_object,
    source_kind,
    toml_data,
)
from aigateway_sdk.control.routes_spec import AiRoute
from aigateway_sdk.control.spec import SETTINGS_RULES, AiGateway
from aigateway_sdk.validation import FieldError, ValidationError

SPEC_KEYS = frozenset({"name", "id", *SETTINGS_RULES})
DEFAULT_SOURCE = "gateway.toml"


def load_specs(
    source: str | Path, *, search_path: str | Path | None = None
) -> tuple[AiGateway, ...]:
    """Specs from a TOML file path, or from `module:object` (an `AiGateway` or a collection).

    A source naming an existing file, or ending in `.toml`, is read as TOML; otherwise a
    source with a `:` is imported (with `search_path` first on `sys.path`, if given).
    """
    if source_kind(source) == "toml":
        return load_toml(Path(source))
    return load_object(str(source), search_path=search_path)


def load_toml(path: str | Path) -> tuple[AiGateway, ...]:
    """Specs declared in a TOML file."""
    path = Path(path)
    return parse_toml(read_text(path), source=str(path))


def parse_toml(text: str, *, source: str = "<toml>") -> tuple[AiGateway, ...]:
    """Specs declared in TOML text (see the module docstring for the format)."""
    return specs_from_data(toml_data(text, source=source), source=source)


def specs_from_data(data: Mapping[str, Any], *, source: str = "<data>") -> tuple[AiGateway, ...]:
    """Specs from parsed TOML (or any mapping of the same shape)."""
    errors: list[FieldError] = []
    tables: list[tuple[tuple[str, ...], str | None, object]] = []
    for key, value in data.items():
        if key == "gateway":
            if isinstance(value, list):
                tables.extend(((key, str(i)), None, item) for i, item in enumerate(value))
            else:
                tables.append(((key,), None, value))
        elif key == "gateways":
            if isinstance(value, Mapping):
                tables.extend(((key, str(name)), str(name), item) for name, item in value.items())
            else:
                errors.append(FieldError((key,), "must be a table of gateways ([gateways.NAME])"))
        elif key not in ("route", "routes"):  # routes: read by routes_loader
            errors.append(FieldError((key,), "unknown key (expected [gateway] or [gateways.NAME])"))
    specs: list[AiGateway] = []
    for path, name, table in tables:
        spec = _spec_from_table(path, name, table, errors)
        if spec is not None:
            specs.append(spec)
    if not errors:
        errors.extend(_duplicates(specs))
    if not errors and not specs:
        raise SpecLoadError(source, "declares no gateway ([gateway] or [gateways.NAME])")
    if errors:
        raise ValidationError(errors, what=f"gateway spec in {source}")
    return tuple(specs)


def _spec_from_table(
    path: tuple[str, ...], name: str | None, table: object, errors: list[FieldError]
) -> AiGateway | None:
    if not isinstance(table, Mapping):
        errors.append(FieldError(path, "must be a table"))
        return None
    fields = dict(table)
    unknown = [key for key in fields if key not in SPEC_KEYS]
    errors.extend(FieldError((*path, key), "is not a gateway field") for key in unknown)
    if name is not None:
        if "name" in fields:
            errors.append(FieldError((*path, "name"), "is set by the table's key; remove it"))
        fields["name"] = name
    if unknown or (name is not None and "name" in table):
        return None
    try:
        return AiGateway(**fields)
    except ValidationError as error:
        errors.extend(FieldError((*path, *e.path), e.message) for e in error.errors)
        return None


def _duplicates(specs: Iterable[AiGateway]) -> list[FieldError]:
    errors: list[FieldError] = []
    seen_ids: set[str] = set()
    seen_names: set[str] = set()
    for spec in specs:
        if spec.id in seen_ids:
            errors.append(FieldError(("id",), f"{spec.id!r} is declared twice"))
        if spec.name in seen_names:
            errors.append(FieldError(("name",), f"{spec.name!r} is declared twice"))
        seen_ids.add(spec.id)
        seen_names.add(spec.name)
    return errors


def load_object(target: str, *, search_path: str | Path | None = None) -> tuple[AiGateway, ...]:
    """Specs from `package.module:attribute` (dots after the colon walk attributes).

    The object may be an `AiGateway`, or a list, tuple, set or dict (values) of them.
    """
    value = resolve_object(target, search_path=search_path)
    specs = instances(  # routes beside the gateways are routes_loader's
        target, value, AiGateway, what="an AiGateway", noun="gateway", skip=AiRoute
    )
    problems = _duplicates(specs)
    if problems:
        raise ValidationError(problems, what=f"gateway specs in {target}")
    return specs


__all__ = [
    "DEFAULT_SOURCE",
    "SpecLoadError",
    "load_object",
    "load_specs",
    "load_toml",
    "parse_toml",
    "specs_from_data",
]
