"""Values the routes API returns: `Route`, `RouteVersion`, `RouteDeployment`.

Shapes are the `cloudflare` package's `ai_gateway/dynamic_routing_*_response` models. Read
leniently (unknown keys ignored, `deployment` / `version` may be missing) but never guessed:
a present field of the wrong type is `AiError(MalformedOutput)` naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from aigateway_sdk import _json
from aigateway_sdk._decode import Reader, malformed
from aigateway_sdk.contract.routes import Element, parse_elements


def _graph(value: object, what: str) -> tuple[Mapping[str, Any], ...]:
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise malformed(what, "field 'elements' should be a list of objects")
    return tuple(value)


def _elements(elements_json: tuple[Mapping[str, Any], ...] | None) -> tuple[Element, ...]:
    if elements_json is None:
        return ()
    elements, errors = parse_elements(list(elements_json))
    return () if errors else elements


def _opt_time(read: Reader, key: str) -> datetime | None:
    return read.opt_time(key) if read.body.get(key) not in (None, "") else None


def _time_json(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@attrs.frozen(slots=True, kw_only=True)
class RouteDeployment:
    """A deployment: which version of the route serves requests since `created_at`."""

    deployment_id: str
    version_id: str
    created_at: datetime | None = None

    @classmethod
    def from_api(cls, body: object) -> RouteDeployment:
        read = Reader(body, "route deployment")
        return cls(
            deployment_id=read.text("deployment_id"),
            version_id=read.text("version_id"),
            created_at=_opt_time(read, "created_at"),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "deployment_id": self.deployment_id,
            "version_id": self.version_id,
            "created_at": _time_json(self.created_at),
        }


@attrs.frozen(slots=True, kw_only=True)
class RouteVersion:
    """One saved graph of a route. `active`: the deployed one. `elements_json` is the graph
    as the server sent it (None when this reply carried none, as in Cloudflare's version
    list: ask `get_version`); `elements` the same read as values (empty when absent or when
    it holds something this SDK does not read)."""

    version_id: str
    active: bool = False
    created_at: datetime | None = None
    is_valid: bool | None = None
    elements_json: tuple[Mapping[str, Any], ...] | None = attrs.field(
        default=None, repr=False, hash=False
    )

    @property
    def elements(self) -> tuple[Element, ...]:
        return _elements(self.elements_json)

    @classmethod
    def from_api(cls, body: object) -> RouteVersion:
        read = Reader(body, "route version")
        active = read.body.get("active")
        if isinstance(active, str) and active in ("true", "false"):  # Cloudflare: a string
            active = active == "true"
        elif active is not None and not isinstance(active, bool):
            raise malformed("route version", "field 'active' should be 'true' or 'false'")
        return cls(
            version_id=read.text("version_id"),
            active=bool(active),
            created_at=_opt_time(read, "created_at"),
            is_valid=read.opt_flag("is_valid"),
            elements_json=_version_graph(read),
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "version_id": self.version_id,
            "active": self.active,
            "created_at": _time_json(self.created_at),
            "is_valid": self.is_valid,
        }
        if self.elements_json is not None:
            out["elements"] = [dict(item) for item in self.elements_json]
        return out


def _version_graph(read: Reader) -> tuple[Mapping[str, Any], ...] | None:
    """The version's graph: `elements`, or `data` when it is JSON holding them."""
    if "elements" in read.body:
        return _graph(read.body["elements"], "route version")
    data = read.body.get("data")
    if isinstance(data, str) and data:
        try:
            data = _json.loads(data)
        except ValueError:
            return None
    if isinstance(data, Mapping):
        data = data.get("elements")
    if isinstance(data, list) and all(isinstance(item, Mapping) for item in data):
        return tuple(data)
    return None


@attrs.frozen(slots=True, kw_only=True)
class Route:
    """A route as the control plane reports it: its id and name, its gateway, the deployed
    graph (`elements`; its JSON as sent in `elements_json`), the deployment and version."""

    id: str
    name: str
    gateway_id: str
    elements_json: tuple[Mapping[str, Any], ...] = attrs.field(repr=False, hash=False)
    created_at: datetime
    modified_at: datetime
    deployment: RouteDeployment | None = None
    version: RouteVersion | None = None
    account_tag: str | None = None

    @property
    def elements(self) -> tuple[Element, ...]:
        """The graph as values (empty when it holds something this SDK does not read)."""
        return _elements(self.elements_json)

    @property
    def deployed_version_id(self) -> str | None:
        return None if self.deployment is None else self.deployment.version_id

    @classmethod
    def from_api(cls, body: object) -> Route:
        """A route from an API `result`; `AiError(MalformedOutput)` on a bad shape."""
        read = Reader(body, "route")
        deployment = read.body.get("deployment")
        version = read.body.get("version")
        return cls(
            id=read.text("id"),
            name=read.text("name"),
            gateway_id=read.text("gateway_id"),
            elements_json=_graph(read.body.get("elements"), "route"),
            created_at=read.time("created_at"),
            modified_at=read.time("modified_at"),
            deployment=None if not deployment else RouteDeployment.from_api(deployment),
            version=None if not version else RouteVersion.from_api(version),
            account_tag=read.opt_text("account_tag"),
        )

    def to_json(self) -> dict[str, Any]:
        """Snake-case fields; `elements` keep Cloudflare's graph JSON (paste it back into
        `AiRoute.from_json`)."""
        return {
            "id": self.id,
            "name": self.name,
            "gateway_id": self.gateway_id,
            "elements": [dict(item) for item in self.elements_json],
            "deployment": None if self.deployment is None else self.deployment.to_json(),
            "version": None if self.version is None else self.version.to_json(),
            "created_at": self.created_at.isoformat(),
            "modified_at": self.modified_at.isoformat(),
        }


__all__ = ["Route", "RouteDeployment", "RouteVersion"]
