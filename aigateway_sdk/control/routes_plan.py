"""Route plans: what applying an `AiRoute` would change, as values. Pure (no I/O).

A route is found by name within its gateway (names identify: there is no rename). Its graph
is versioned: a new version is created and deployed only when the spec's graph differs from
the deployed one, compared as canonical JSON (key order, `30000` vs `30000.0` and element
order do not count).

    match plan_route(spec, current):
        case CreateRoute(): ...          # no route of that name
        case NewRouteVersion(changes=changes): ...
        case RouteNoChange(): ...
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import attrs

from aigateway_sdk.control._plan_base import PlanBase
from aigateway_sdk.control.routes_models import Route
from aigateway_sdk.control.routes_spec import AiRoute, canonical_elements

RoutePlanAction = Literal["create", "new-version", "no-change"]
ElementChangeKind = Literal["added", "removed", "changed"]


@attrs.frozen(slots=True)
class ElementChange:
    """One element that differs between the deployed graph and the spec's."""

    element_id: str
    kind: ElementChangeKind

    def __str__(self) -> str:
        sign = {"added": "+", "removed": "-", "changed": "~"}[self.kind]
        return f"{sign} element {self.element_id!r} {self.kind}"

    def to_json(self) -> dict[str, Any]:
        return {"element_id": self.element_id, "kind": self.kind}


@attrs.frozen(slots=True, kw_only=True)
class RoutePlan(PlanBase):
    """What applying `spec` would do. Subclasses: `CreateRoute`, `NewRouteVersion`,
    `RouteNoChange`. `changes` lists the elements that differ (for a create: every one)."""

    action: ClassVar[RoutePlanAction]

    spec: AiRoute
    changes: tuple[ElementChange, ...] = ()
    current: Route | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def gateway_id(self) -> str:
        return self.spec.gateway_id

    def _subject_json(self) -> dict[str, Any]:
        return {
            "gateway_id": self.gateway_id,
            "name": self.name,
            "route_id": None if self.current is None else self.current.id,
        }

    def _head(self) -> str:
        """The first line of what `aigateway routes plan` prints."""
        where = f"route {self.name!r} of gateway {self.gateway_id!r}"
        return {
            "create": f"+ create {where}",
            "new-version": f"~ update {where}: a new version, deployed",
            "no-change": f"= {where} is up to date",
        }[self.action]


@attrs.frozen(slots=True, kw_only=True)
class CreateRoute(RoutePlan):
    """No route of that name in the gateway: it will be created (its first version is
    deployed with it)."""

    action: ClassVar[RoutePlanAction] = "create"


@attrs.frozen(slots=True, kw_only=True)
class NewRouteVersion(RoutePlan):
    """The deployed graph differs from the spec's (or nothing is deployed): a version with
    the spec's graph will be created and deployed."""

    action: ClassVar[RoutePlanAction] = "new-version"
    current: Route


@attrs.frozen(slots=True, kw_only=True)
class RouteNoChange(RoutePlan):
    """The deployed graph is the spec's: nothing to do."""

    action: ClassVar[RoutePlanAction] = "no-change"
    current: Route


def _by_id(elements_json: object) -> dict[str, str]:
    """Each element's canonical JSON by id (elements without a string id are skipped)."""
    if not isinstance(elements_json, list | tuple):
        return {}
    out: dict[str, str] = {}
    for item in elements_json:
        element_id = item.get("id") if isinstance(item, Mapping) else None
        if isinstance(element_id, str):
            out[element_id] = canonical_elements([item])
    return out


def element_changes(current: object, desired: object) -> tuple[ElementChange, ...]:
    """Which elements were added, removed or changed between two graphs' JSON, by id."""
    old, new = _by_id(current), _by_id(desired)
    changes = [ElementChange(i, "removed") for i in old if i not in new]
    for element_id, body in new.items():
        if element_id not in old:
            changes.append(ElementChange(element_id, "added"))
        elif old[element_id] != body:
            changes.append(ElementChange(element_id, "changed"))
    return tuple(changes)


def graphs_equal(current: object, desired: object) -> bool:
    """Two graphs' JSON mean the same graph (canonical JSON equal)."""
    return canonical_elements(current) == canonical_elements(desired)


def plan_route(spec: AiRoute, current: Route | None) -> RoutePlan:
    """The plan that takes `current` (the route of that name, None: absent) to `spec`."""
    desired = spec.elements_json()
    if current is None:
        return CreateRoute(spec=spec, changes=element_changes([], desired))
    deployed = [dict(item) for item in current.elements_json]
    if current.deployment is None or not graphs_equal(deployed, desired):
        return NewRouteVersion(
            spec=spec, changes=element_changes(deployed, desired), current=current
        )
    return RouteNoChange(spec=spec, current=current)


__all__ = [
    "CreateRoute",
    "ElementChange",
    "ElementChangeKind",
    "NewRouteVersion",
    "RouteNoChange",
    "RoutePlan",
    "RoutePlanAction",
    "element_changes",
    "graphs_equal",
    "plan_route",
]
