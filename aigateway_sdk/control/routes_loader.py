"""Load `AiRoute` specs from a TOML file or a Python object (`package.module:Routes`).

TOML: routes sit beside the gateways of `gateway.toml` (`aigateway gateways ...` ignores
them), in the same three forms:

    [[route]]                  # several, as an array of tables ([route] for one)
    gateway = "prod-gateway"   # a gateway id, or the name or id of a gateway in this file
    name = "support"
    [[route.elements]]
    id = "start"
    type = "start"
    outputs.next.elementId = "m"
    ...

    [routes.support]           # keyed by name
    gateway = "Prod"
    elements = '''[{"id": "start", "type": "start", ...}]'''   # or Cloudflare's JSON, pasted

`elements` is Cloudflare's JSON graph, written as TOML tables or given as a JSON string.
A module object may be an `AiRoute` or a list, tuple, set or dict (values) holding routes
(gateways beside them are skipped). Errors name their place (`route.0.elements.m.outputs`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from aigateway_sdk import _json
from aigateway_sdk.control._source import (
    SpecLoadError,
    instances,
    read_text,
    resolve_object,
    source_kind,
    toml_data,
)
from aigateway_sdk.control.loader import specs_from_data
from aigateway_sdk.control.routes_spec import AiRoute
from aigateway_sdk.control.spec import AiGateway
from aigateway_sdk.validation import FieldError, ValidationError

ROUTE_KEYS = frozenset({"name", "gateway", "elements"})


def load_routes(
    source: str | Path, *, search_path: str | Path | None = None
) -> tuple[AiRoute, ...]:
    """Routes from a TOML file path, or from `module:object` (as `load_specs` reads it)."""
    if source_kind(source) == "toml":
        path = Path(source)
        return parse_routes_toml(read_text(path), source=str(path))
    return load_route_object(str(source), search_path=search_path)


def parse_routes_toml(text: str, *, source: str = "<toml>") -> tuple[AiRoute, ...]:
    """Routes declared in TOML text (see the module docstring)."""
    return routes_from_data(toml_data(text, source=source), source=source)


def routes_from_data(data: Mapping[str, Any], *, source: str = "<data>") -> tuple[AiRoute, ...]:
    """Routes from parsed TOML (or any mapping of that shape)."""
    gateways: tuple[AiGateway, ...] = ()
    if "gateway" in data or "gateways" in data:
        gateways = specs_from_data(data, source=source)
    errors: list[FieldError] = []
    tables: list[tuple[tuple[str, ...], str | None, object]] = []
    value = data.get("route")
    if isinstance(value, list):
        tables += [(("route", str(i)), None, item) for i, item in enumerate(value)]
    elif value is not None:
        tables.append((("route",), None, value))
    named = data.get("routes")
    if isinstance(named, Mapping):
        tables += [(("routes", str(k)), str(k), item) for k, item in named.items()]
    elif named is not None:
        errors.append(FieldError(("routes",), "must be a table of routes ([routes.NAME])"))
    routes = [
        route
        for path, name, table in tables
        if (route := _route_from_table(path, name, table, gateways, errors)) is not None
    ]
    if not errors:
        errors += _duplicates(routes)
    if not errors and not routes:
        raise SpecLoadError(source, "declares no route ([[route]] or [routes.NAME])")
    if errors:
        raise ValidationError(errors, what=f"route spec in {source}")
    return tuple(routes)


def _route_from_table(
    path: tuple[str, ...],
    name: str | None,
    table: object,
    gateways: tuple[AiGateway, ...],
    errors: list[FieldError],
) -> AiRoute | None:
    if not isinstance(table, Mapping):
        errors.append(FieldError(path, "must be a table"))
        return None
    bad = _table_errors(path, name, table)
    if bad:
        errors += bad
        return None
    gateway = table["gateway"]
    elements: object = table.get("elements")
    if isinstance(elements, str):
        try:
            elements = _json.loads(elements)
        except ValueError as error:
            errors.append(FieldError((*path, "elements"), f"not JSON: {error}"))
            return None
    declared = next((g for g in gateways if gateway in (g.id, g.name)), None)
    where: dict[str, Any] = {"gateway": declared} if declared else {"gateway_id": gateway}
    try:
        return AiRoute(name or table.get("name"), elements=elements, **where)  # type: ignore[arg-type]
    except ValidationError as error:
        errors += [FieldError((*path, *e.path), e.message) for e in error.errors]
        return None


def _table_errors(
    path: tuple[str, ...], name: str | None, table: Mapping[str, Any]
) -> list[FieldError]:
    """Unknown keys, a `name` beside a keyed table's name, a missing `gateway`."""
    bad = [FieldError((*path, k), "is not a route field") for k in table if k not in ROUTE_KEYS]
    if name is not None and "name" in table:
        bad.append(FieldError((*path, "name"), "is set by the table's key; remove it"))
    gateway = table.get("gateway")
    if not isinstance(gateway, str) or not gateway:
        bad.append(FieldError((*path, "gateway"), "must name the route's gateway (its id)"))
    return bad


def _duplicates(routes: Iterable[AiRoute]) -> list[FieldError]:
    seen: set[tuple[str, str]] = set()
    errors = []
    for route in routes:
        key = (route.gateway_id, route.name)
        if key in seen:
            problem = f"{route.name!r} is declared twice for gateway {route.gateway_id!r}"
            errors.append(FieldError(("name",), problem))
        seen.add(key)
    return errors


def load_route_object(target: str, *, search_path: str | Path | None = None) -> tuple[AiRoute, ...]:
    """Routes from `package.module:attribute`: an `AiRoute`, or a collection holding some."""
    value = resolve_object(target, search_path=search_path)
    routes = instances(target, value, AiRoute, what="an AiRoute", noun="route", skip=AiGateway)
    problems = _duplicates(routes)
    if problems:
        raise ValidationError(problems, what=f"route specs in {target}")
    return routes


__all__ = [
    "ROUTE_KEYS",
    "load_route_object",
    "load_routes",
    "parse_routes_toml",
    "routes_from_data",
]
