"""The stored values of dynamic routes: a route, each version of its graph, each deployment."""

from __future__ import annotations

import attrs


@attrs.frozen(slots=True)
class RouteRecord:
    """A route of one gateway: its id and name (`dynamic/<name>` on the data plane)."""

    account_id: str
    gateway_id: str
    id: str
    name: str
    created_at: float
    modified_at: float


@attrs.frozen(slots=True)
class VersionRecord:
    """One version of a route's graph: `elements` is its JSON text (checked when created);
    `number` counts the route's versions from 1, in creation order."""

    account_id: str
    gateway_id: str
    route_id: str
    id: str
    number: int
    elements: str
    created_at: float


@attrs.frozen(slots=True)
class DeploymentRecord:
    """A version put live; the route's latest deployment is the one the data plane runs."""

    account_id: str
    gateway_id: str
    route_id: str
    id: str
    version_id: str
    number: int
    created_at: float


__all__ = ["DeploymentRecord", "RouteRecord", "VersionRecord"]
