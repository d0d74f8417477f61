"""`RouteAdmin`: one gateway's dynamic routes over the control plane, and plan/apply of
`AiRoute` specs.

    async with GatewayAdmin(account_id, api_token) as admin:
        routes = admin.routes(Gateway)            # an AiGateway, a Gateway or an id
        plan = await routes.plan(Support)         # CreateRoute / NewRouteVersion / RouteNoChange
        result = await routes.apply(Support)      # creates, or deploys a new version, or nothing
        async for route in routes.list(): ...

Paths and shapes are Cloudflare's (`/accounts/{account}/ai-gateway/gateways/{gateway}/routes`
[`/{id}`[`/versions`[`/{version_id}`] | `/deployments`]]). Cloudflare answers lists as
`{"data": {"routes": [...]}}` and a rename as `{"route": {...}}`; both are read inside or
beside `result`. Every failure raises `AiError` with a typed reason.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import anyio
import attrs

from aigateway_sdk._decode import malformed
from aigateway_sdk.contract.routes import check_route_name
from aigateway_sdk.control._api import (
    ControlApi,
    Envelope,
    check_per_page,
    classify_create,
    deleted,
    segment,
)
from aigateway_sdk.control.routes_models import Route, RouteDeployment, RouteVersion
from aigateway_sdk.control.routes_plan import (
    CreateRoute,
    NewRouteVersion,
    RouteNoChange,
    RoutePlan,
    graphs_equal,
    plan_route,
)
from aigateway_sdk.control.routes_spec import AiRoute
from aigateway_sdk.errors import AiError, Conflict, NotFound
from aigateway_sdk.validation import FieldError, ValidationError

RouteApplyAction = Literal["created", "new-version", "unchanged"]

_APPLY_ATTEMPTS = 3

_LOCKS: weakref.WeakValueDictionary[tuple[str, str, str], anyio.Lock] = (
    weakref.WeakValueDictionary()
)


def _route_lock(account_id: str, gateway_id: str, name: str) -> anyio.Lock:
    """One lock per route in this process: applies of the same route run one at a time, so
    two racing applies of one spec make one version. Held only while an apply runs."""
    key = (account_id, gateway_id, name)
    lock = _LOCKS.get(key)
    if lock is None:
        lock = anyio.Lock()
        _LOCKS[key] = lock
    return lock


def _route_of(envelope: Envelope, what: str) -> Route:
    """The route of a reply: `result`, `result.route`, or a top-level `route`."""
    result = envelope.result
    if isinstance(result, Mapping) and "id" not in result and "route" in result:
        result = result["route"]
    if result is None and isinstance(envelope.body, Mapping):
        result = envelope.body.get("route")
    if result is None:
        raise malformed(what, "no route in the reply")
    return Route.from_api(result)


def _data_list(envelope: Envelope, key: str, what: str) -> list[Any]:
    """The `key` list of a list reply: `result.<key>`, `result.data.<key>`, `data.<key>`
    (beside `result`, as the `cloudflare` package reads it), or `result` itself."""
    result = envelope.result
    if isinstance(result, list):
        return result
    body = envelope.body if isinstance(envelope.body, Mapping) else {}
    candidates = (
        result if isinstance(result, Mapping) else None,
        result.get("data") if isinstance(result, Mapping) else None,
        body.get("data"),
    )
    items = next(
        (c[key] for c in candidates if isinstance(c, Mapping) and isinstance(c.get(key), list)),
        None,
    )
    if not isinstance(items, list):
        raise malformed(what, f"expected data.{key} to be a list")
    return items


_T = TypeVar("_T")

_PAGE_SIZE = 50
"""Items asked for a page of a list."""


async def _paged(
    api: ControlApi,
    path: str,
    key: str,
    read: Callable[[Any], _T],
    ident: Callable[[_T], str],
    per_page: int = _PAGE_SIZE,
) -> AsyncGenerator[_T, None]:
    """Every item of a paged list (`data.<key>`), page after page until a short page. A
    server ignoring `page` (sending the same page again) ends the list, never a loop."""
    page, seen = 1, set[str]()
    what = f"route {key} list"
    while True:
        envelope = await api.call("GET", path, query=[("page", page), ("per_page", per_page)])
        items = _data_list(envelope, key, what)
        fresh = 0
        for item in items:
            value = read(item)
            if ident(value) not in seen:
                seen.add(ident(value))
                fresh += 1
                yield value
        if len(items) < per_page or fresh == 0:
            return
        page += 1


def _version_key(version: RouteVersion) -> str:
    return version.version_id


def _deployment_key(deployment: RouteDeployment) -> str:
    return deployment.deployment_id


def _route_id(route: Route | str) -> str:
    return route if isinstance(route, str) else route.id


def _earliest(routes: list[Route]) -> Route | None:
    return min(routes, key=lambda r: (_stamp(r.created_at), r.id), default=None)


@attrs.frozen(slots=True)
class RouteApplyResult:
    """What `apply` did: the plan it carried out and the route as it now is."""

    plan: RoutePlan
    route: Route

    @property
    def action(self) -> RouteApplyAction:
        if isinstance(self.plan, CreateRoute):
            return "created"
        return "new-version" if isinstance(self.plan, NewRouteVersion) else "unchanged"

    @property
    def changed(self) -> bool:
        return self.action != "unchanged"

    def to_json(self) -> dict[str, Any]:
        return {**self.plan.to_json(), "result": self.action, "route": self.route.to_json()}


class RouteAdmin:
    """The dynamic routes of one gateway. Made by `GatewayAdmin.routes(gateway)`, sharing
    its connection; does no I/O until called."""

    def __init__(self, api: ControlApi, gateway_id: str) -> None:
        self._api = api
        self.gateway_id = gateway_id
        self._base = f"/gateways/{segment(gateway_id)}/routes"

    def _path(self, route: Route | str, *rest: str) -> str:
        return "/".join([self._base, segment(_route_id(route)), *map(segment, rest)])

    def _check(self, spec: AiRoute) -> None:
        if not isinstance(spec, AiRoute):
            raise TypeError(f"expected an AiRoute, got {type(spec).__name__}")
        if spec.gateway_id != self.gateway_id:
            problem = f"{spec.gateway_id!r} is not this admin's gateway {self.gateway_id!r}"
            raise ValidationError([FieldError(("gateway_id",), problem)], what="route spec")

    # -- routes -------------------------------------------------------------------------

    async def create(self, spec: AiRoute) -> Route:
        """Create the route (`name` and `elements`); its first version is deployed with it.
        A name the server says is taken is `AiError(Conflict)`, never retried."""
        self._check(spec)
        envelope = await self._api.call(
            "POST", self._base, json_body=spec.create_json(), classify=classify_create
        )
        return _route_of(envelope, "route")

    async def get(self, route: Route | str) -> Route:
        """The route with this id; `AiError(NotFound)` when there is none."""
        return _route_of(await self._api.call("GET", self._path(route)), "route")

    async def find(self, name: str) -> Route | None:
        """The route named `name`, or None (the oldest, should a server hold several)."""
        return _earliest([route async for route in self.list() if route.name == name])

    def list(self, *, per_page: int = 50) -> AsyncIterator[Route]:
        """Every route of the gateway, page after page (`per_page` a request)."""
        check_per_page(per_page)
        return self._pages(per_page)

    def _pages(self, per_page: int) -> AsyncGenerator[Route, None]:
        return _paged(self._api, self._base, "routes", Route.from_api, lambda r: r.id, per_page)

    async def update(self, route: Route | str, *, name: str) -> Route:
        """Rename the route (Cloudflare's PATCH takes only `name`)."""
        problem = check_route_name(name)
        if problem:
            raise ValidationError([FieldError(("name",), problem)], what="route update")
        envelope = await self._api.call("PATCH", self._path(route), json_body={"name": name})
        return _route_of(envelope, "route")

    async def delete(self, route: Route | str) -> None:
        """Delete the route; `AiError(NotFound)` when there is none."""
        await self._api.call("DELETE", self._path(route))

    # -- versions and deployments -------------------------------------------------------

    async def create_version(self, route: Route | str, spec: AiRoute) -> Route:
        """Save the spec's graph as a new version of the route (not deployed yet). The reply
        is the route (Cloudflare's shape carries no version id: see `list_versions`)."""
        self._check(spec)
        body = {"elements": spec.elements_json()}
        envelope = await self._api.call("POST", self._path(route, "versions"), json_body=body)
        return _route_of(envelope, "route")

    async def list_versions(self, route: Route | str) -> tuple[RouteVersion, ...]:
        """Every saved version of the route (every page of them)."""
        path = self._path(route, "versions")
        pages = _paged(self._api, path, "versions", RouteVersion.from_api, _version_key)
        return tuple([version async for version in pages])

    async def get_version(self, route: Route | str, version_id: str) -> RouteVersion:
        """One version with its graph; `AiError(NotFound)` when there is none."""
        envelope = await self._api.call("GET", self._path(route, "versions", version_id))
        return RouteVersion.from_api(envelope.result)

    async def create_deployment(self, route: Route | str, version_id: str) -> Route:
        """Deploy a version: it serves `dynamic/<name>` from now on."""
        body = {"version_id": version_id}
        envelope = await self._api.call("POST", self._path(route, "deployments"), json_body=body)
        return _route_of(envelope, "route")

    async def list_deployments(self, route: Route | str) -> tuple[RouteDeployment, ...]:
        """Every deployment of the route (every page of them)."""
        path = self._path(route, "deployments")
        read = RouteDeployment.from_api
        pages = _paged(self._api, path, "deployments", read, _deployment_key)
        return tuple([deployment async for deployment in pages])

    # -- specs --------------------------------------------------------------------------

    async def plan(self, spec: AiRoute) -> RoutePlan:
        """What `apply(spec)` would do now."""
        self._check(spec)
        return plan_route(spec, await self.find(spec.name))

    async def apply(self, spec: AiRoute) -> RouteApplyResult:
        """Make the route match `spec`: create it; or save and deploy a new version when the
        deployed graph differs; or leave it. Never deletes.

        Applies of one route in this process run one at a time, so racing applies of one
        spec make one version. Across processes: a create that loses the race (a taken
        name, or a duplicate the server allowed, which it deletes again) plans again; a
        version whose graph another apply deployed first is left undeployed.
        """
        self._check(spec)
        async with _route_lock(self._api.account_id, self.gateway_id, spec.name):
            for attempt in range(1, _APPLY_ATTEMPTS + 1):
                plan = await self.plan(spec)
                try:
                    route = await self._carry_out(plan, spec)
                except AiError as error:
                    raced = (
                        isinstance(plan, CreateRoute) and isinstance(error.reason, Conflict)
                    ) or (isinstance(plan, NewRouteVersion) and isinstance(error.reason, NotFound))
                    if not raced or attempt == _APPLY_ATTEMPTS:
                        raise
                    continue
                if route is not None:
                    return RouteApplyResult(plan, route)
            raise AiError(Conflict(message=f"route {spec.name!r} kept changing during apply"))

    async def _carry_out(self, plan: RoutePlan, spec: AiRoute) -> Route | None:
        """Do what `plan` says; None when a create lost a race (plan again)."""
        if isinstance(plan, CreateRoute):
            return await self._create_alone(spec)
        if isinstance(plan, NewRouteVersion):
            return await self._new_version(plan.current, spec)
        assert isinstance(plan, RouteNoChange)
        return plan.current

    async def _create_alone(self, spec: AiRoute) -> Route | None:
        """Create the route, then re-read: if the server now holds several of that name (it
        allowed a racing duplicate) and ours is not the oldest, delete ours and return None
        (the caller plans again against the survivor)."""
        created = await self.create(spec)
        same = [route async for route in self.list() if route.name == spec.name]
        survivor = _earliest(same) or created
        if survivor.id != created.id:
            await deleted(self.delete(created))  # already gone is as good
            return None
        if created.deployment is None and created.version is not None:
            await self.create_deployment(created, created.version.version_id)
            return await self.get(created)
        return created

    async def _new_version(self, route: Route, spec: AiRoute) -> Route:
        """Save the spec's graph as a version and deploy it, unless, re-read just before,
        the route already serves that graph."""
        await self.create_version(route, spec)
        desired = spec.elements_json()
        version_id = await self._newest_version_with(route, desired)
        current = await self.get(route)
        if current.deployment is not None and graphs_equal(
            [dict(item) for item in current.elements_json], desired
        ):
            return current
        await self.create_deployment(route, version_id)
        return await self.get(route)

    async def _newest_version_with(self, route: Route, desired: Sequence[Mapping[str, Any]]) -> str:
        for version in _newest_first(await self.list_versions(route)):
            graph = version.elements_json
            if graph is None:
                graph = (await self.get_version(route, version.version_id)).elements_json
            if graph is not None and graphs_equal([dict(item) for item in graph], desired):
                return version.version_id
        raise malformed("route version list", "the version just created is not listed")

    async def destroy(self, spec: AiRoute | str) -> bool:
        """Delete the route (by spec or name). True if deleted, False if already gone."""
        if isinstance(spec, AiRoute):
            self._check(spec)
        found = await self.find(spec.name if isinstance(spec, AiRoute) else spec)
        if found is None:
            return False
        return await deleted(self.delete(found))


def _newest_first(versions: Sequence[RouteVersion]) -> list[RouteVersion]:
    """Newest first by `created_at` (aware and naive times compared as UTC); versions
    without a time last, in the server's order."""
    dated = [v for v in versions if v.created_at is not None]
    undated = [v for v in versions if v.created_at is None]
    dated.sort(key=lambda v: _stamp(v.created_at), reverse=True)
    return dated + undated


def _stamp(value: datetime | None) -> float:
    if value is None:
        return 0.0
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC).timestamp()
    return value.timestamp()


__all__ = ["RouteAdmin", "RouteApplyAction", "RouteApplyResult"]
