"""Route plans are pure: a spec and the route as it exists (or None) give the plan, no I/O."""

from __future__ import annotations

from typing import Any

import pytest

from aigateway_sdk.contract.routes import End, Model, Start
from aigateway_sdk.control.routes_models import Route
from aigateway_sdk.control.routes_plan import (
    CreateRoute,
    ElementChange,
    NewRouteVersion,
    RouteNoChange,
    plan_route,
)
from aigateway_sdk.control.routes_spec import AiRoute

LLAMA = "@cf/meta/llama-3.1-8b-instruct"
STAMP = "2026-01-01T00:00:00+00:00"


def spec(model: str = LLAMA, **extra: Any) -> AiRoute:
    elements = [
        Start("start", next="m"),
        Model("m", provider="workers-ai", model=model, success="end", retries=1, timeout=30000),
        End("end"),
        *extra.pop("more", []),
    ]
    return AiRoute("support", gateway_id="prod", elements=elements)


def existing(elements: list[Any], *, deployed: bool = True) -> Route:
    body: dict[str, Any] = {
        "id": "r1",
        "name": "support",
        "gateway_id": "prod",
        "elements": elements,
        "created_at": STAMP,
        "modified_at": STAMP,
    }
    if deployed:
        body["deployment"] = {"deployment_id": "d1", "version_id": "v1", "created_at": STAMP}
        body["version"] = {"version_id": "v1", "active": "true", "created_at": STAMP, "data": ""}
    return Route.from_api(body)


def test_absent_route_is_created_with_every_element_added() -> None:
    plan = plan_route(spec(), None)
    assert isinstance(plan, CreateRoute)
    assert plan.changes == tuple(ElementChange(i, "added") for i in ("start", "m", "end"))
    assert plan.to_json()["route_id"] is None
    assert plan.describe().splitlines()[0] == "+ create route 'support' of gateway 'prod'"


def test_same_graph_is_no_change() -> None:
    plan = plan_route(spec(), existing(spec().elements_json()))
    assert isinstance(plan, RouteNoChange)
    assert not plan.has_changes
    assert plan.to_json() == {
        "gateway_id": "prod",
        "name": "support",
        "route_id": "r1",
        "action": "no-change",
        "changes": [],
    }


def test_the_same_graph_written_differently_is_no_change() -> None:
    """Key order, 30000 vs 30000.0 and element order are not changes: no spurious version."""
    remote = spec().elements_json()
    remote[1]["properties"]["timeout"] = 30000.0
    remote[1]["properties"]["retries"] = 1.0
    remote = [dict(reversed(list(e.items()))) for e in reversed(remote)]
    assert isinstance(plan_route(spec(), existing(remote)), RouteNoChange)


def test_a_changed_element_is_a_new_version() -> None:
    plan = plan_route(spec(model="@cf/other"), existing(spec().elements_json()))
    assert isinstance(plan, NewRouteVersion)
    assert plan.changes == (ElementChange("m", "changed"),)
    assert plan.describe() == (
        "~ update route 'support' of gateway 'prod': a new version, deployed\n"
        "    ~ element 'm' changed"
    )


def test_added_and_removed_elements_are_listed() -> None:
    current = spec().elements_json()
    desired = AiRoute(
        "support",
        gateway_id="prod",
        elements=[
            Start("start", next="n"),
            Model("n", provider="workers-ai", model=LLAMA, success="end"),
            End("end"),
        ],
    )
    plan = plan_route(desired, existing(current))
    assert set(plan.changes) == {
        ElementChange("m", "removed"),
        ElementChange("n", "added"),
        ElementChange("start", "changed"),  # its edge now leads to n
    }
    assert "- element 'm' removed" in plan.describe()


def test_a_route_with_nothing_deployed_gets_a_version() -> None:
    plan = plan_route(spec(), existing(spec().elements_json(), deployed=False))
    assert isinstance(plan, NewRouteVersion)
    assert plan.changes == ()


def test_a_remote_graph_the_sdk_cannot_read_is_replaced() -> None:
    strange = [{"id": "start", "type": "quantum", "outputs": {}}]
    route = existing(strange)
    assert route.elements == ()
    assert isinstance(plan_route(spec(), route), NewRouteVersion)


@pytest.mark.parametrize("action", ["create", "new-version", "no-change"])
def test_plan_json_names_the_action(action: str) -> None:
    current = {
        "create": None,
        "new-version": existing([]),
        "no-change": existing(spec().elements_json()),
    }[action]
    assert plan_route(spec(), current).to_json()["action"] == action
