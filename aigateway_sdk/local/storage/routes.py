"""Dynamic routes of every gateway, in memory for the data plane's hot path (looked up by name),
with each change persisted through the store as one job.

Mutations happen synchronously on the event loop (like the `GatewayRegistry`'s), so a version's
number, a name's uniqueness and the bounds per gateway and per route cannot race: concurrent
requests each get their own version, none lost or doubled. The caller persists the change
with the job returned, and undoes it in memory if the job fails.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterable

import attrs

from aigateway_sdk._json import dumps, loads
from aigateway_sdk.contract.routes import (
    MAX_ROUTES_PER_GATEWAY,
    MAX_VERSIONS_PER_ROUTE,
    Element,
    check_graph,
    elements_to_json,
    parse_elements,
)
from aigateway_sdk.local.policies.routes import Graph, RateBook
from aigateway_sdk.local.storage.routerecords import DeploymentRecord, RouteRecord, VersionRecord
from aigateway_sdk.local.storage.schema import ROUTE_DEPLOYMENTS, ROUTE_VERSIONS, ROUTES
from aigateway_sdk.local.web.errors import CODE_ALREADY_EXISTS, CODE_INVALID, ApiError

Scope = tuple[str, str]
Job = Callable[[sqlite3.Connection], None]


def quoted(text: str, limit: int = 80) -> str:
    """`text` quoted for an error message, cut to `limit` characters: an unknown id or name
    comes from the request and may be 100,000 characters long."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


def new_id() -> str:
    return uuid.uuid4().hex


def elements_text(elements: Iterable[Element]) -> str:
    """A version's elements as the JSON text stored (and returned as `data`)."""
    return dumps(elements_to_json(list(elements))).decode()


def graph_of(text: str) -> Graph | None:
    """The graph of a stored version, or None if it no longer passes the checks."""
    try:
        elements, errors = parse_elements(loads(text))
    except ValueError:
        return None
    if errors or check_graph(elements):
        return None
    return Graph.of(elements)


@attrs.define(slots=True)
class LiveRoute:
    """A route, its versions (oldest first) and deployments (oldest first), and the graph of
    the deployed version, parsed once."""

    record: RouteRecord
    versions: list[VersionRecord]
    deployments: list[DeploymentRecord]
    graph: Graph | None = None

    @property
    def scope(self) -> Scope:
        return (self.record.account_id, self.record.gateway_id)

    @property
    def deployment(self) -> DeploymentRecord | None:
        return self.deployments[-1] if self.deployments else None

    def version(self, version_id: str) -> VersionRecord | None:
        return next((v for v in self.versions if v.id == version_id), None)

    @property
    def deployed(self) -> VersionRecord | None:
        deployment = self.deployment
        return None if deployment is None else self.version(deployment.version_id)


class RouteBook:
    """Every gateway's routes: by id (control plane) and by name (data plane), and the
    counters of their rate elements (`rates`, in memory only)."""

    def __init__(self) -> None:
        self._scopes: dict[Scope, dict[str, LiveRoute]] = {}
        self._names: dict[Scope, dict[str, LiveRoute]] = {}
        self.rates = RateBook()

    # reading ---------------------------------------------------------------------------------

    def load(
        self,
        routes: list[RouteRecord],
        versions: list[VersionRecord],
        deployments: list[DeploymentRecord],
    ) -> None:
        """Fill the book from the rows stored (on startup)."""
        live: dict[tuple[str, str, str], LiveRoute] = {}
        for record in sorted(routes, key=lambda r: (r.created_at, r.id)):
            route = LiveRoute(record, [], [])
            live[record.account_id, record.gateway_id, record.id] = route
            self._put(route)
        for version in sorted(versions, key=lambda v: v.number):
            owner = live.get((version.account_id, version.gateway_id, version.route_id))
            if owner is not None:
                owner.versions.append(version)
        for deployment in sorted(deployments, key=lambda d: d.number):
            owner = live.get((deployment.account_id, deployment.gateway_id, deployment.route_id))
            if owner is not None:
                owner.deployments.append(deployment)
        for route in live.values():
            deployed = route.deployed
            route.graph = None if deployed is None else graph_of(deployed.elements)

    def list(self, scope: Scope) -> list[LiveRoute]:
        return list(self._scopes.get(scope, {}).values())

    def get(self, scope: Scope, route_id: str) -> LiveRoute:
        route = self._scopes.get(scope, {}).get(route_id)
        if route is None:
            raise ApiError.not_found(f"Route {quoted(route_id)}")
        return route

    def by_name(self, scope: Scope, name: str) -> LiveRoute | None:
        return self._names.get(scope, {}).get(name)

    # changing --------------------------------------------------------------------------------

    def _put(self, route: LiveRoute) -> None:
        self._scopes.setdefault(route.scope, {})[route.record.id] = route
        self._names.setdefault(route.scope, {})[route.record.name] = route

    def _name_free(self, scope: Scope, name: str) -> None:
        if name in self._names.get(scope, {}):
            raise ApiError(
                409, CODE_ALREADY_EXISTS, f"A route named {name!r} already exists", path=("name",)
            )

    def create(
        self, scope: Scope, name: str, elements: tuple[Element, ...], now: float
    ) -> tuple[LiveRoute, Job]:
        """A new route with version 1 deployed, and the job that stores it."""
        self._name_free(scope, name)
        if len(self._scopes.get(scope, {})) >= MAX_ROUTES_PER_GATEWAY:
            raise ApiError(
                400, CODE_INVALID, f"A gateway can have at most {MAX_ROUTES_PER_GATEWAY} routes"
            )
        record = RouteRecord(*scope, new_id(), name, now, now)
        version = VersionRecord(*scope, record.id, new_id(), 1, elements_text(elements), now)
        deployment = DeploymentRecord(*scope, record.id, new_id(), version.id, 1, now)
        route = LiveRoute(record, [version], [deployment], Graph.of(elements))
        self._put(route)

        def job(conn: sqlite3.Connection) -> None:
            conn.execute(ROUTES.insert(), ROUTES.row(record))
            conn.execute(ROUTE_VERSIONS.insert(), ROUTE_VERSIONS.row(version))
            conn.execute(ROUTE_DEPLOYMENTS.insert(), ROUTE_DEPLOYMENTS.row(deployment))

        return route, job

    def rename(self, route: LiveRoute, name: str, now: float) -> Job:
        if name != route.record.name:
            self._name_free(route.scope, name)
            del self._names[route.scope][route.record.name]
        route.record = attrs.evolve(route.record, name=name, modified_at=now)
        self._names[route.scope][name] = route
        return _save_route(route.record)

    def add_version(
        self, route: LiveRoute, elements: tuple[Element, ...], now: float
    ) -> tuple[VersionRecord, Job]:
        """A new version (not deployed), numbered after the last, and the job that stores it."""
        if len(route.versions) >= MAX_VERSIONS_PER_ROUTE:
            raise ApiError(
                400, CODE_INVALID, f"A route keeps at most {MAX_VERSIONS_PER_ROUTE} versions"
            )
        number = route.versions[-1].number + 1 if route.versions else 1
        version = VersionRecord(
            *route.scope, route.record.id, new_id(), number, elements_text(elements), now
        )
        route.versions.append(version)
        route.record = attrs.evolve(route.record, modified_at=now)
        record = route.record

        def job(conn: sqlite3.Connection) -> None:
            conn.execute(ROUTE_VERSIONS.insert(), ROUTE_VERSIONS.row(version))
            _save_route(record)(conn)

        return version, job

    def deploy(
        self, route: LiveRoute, version: VersionRecord, now: float
    ) -> tuple[DeploymentRecord, Job]:
        """Put a version live (the data plane runs it from now on)."""
        number = route.deployments[-1].number + 1 if route.deployments else 1
        deployment = DeploymentRecord(
            *route.scope, route.record.id, new_id(), version.id, number, now
        )
        route.deployments.append(deployment)
        route.graph = graph_of(version.elements)
        route.record = attrs.evolve(route.record, modified_at=now)
        record = route.record

        def job(conn: sqlite3.Connection) -> None:
            conn.execute(ROUTE_DEPLOYMENTS.insert(), ROUTE_DEPLOYMENTS.row(deployment))
            _save_route(record)(conn)

        return deployment, job

    def remove(self, route: LiveRoute) -> Job:
        self._scopes.get(route.scope, {}).pop(route.record.id, None)
        self._names.get(route.scope, {}).pop(route.record.name, None)
        keys = (*route.scope, route.record.id)
        self.rates.forget(keys)

        def job(conn: sqlite3.Connection) -> None:
            where = "account_id = ? AND gateway_id = ?"
            conn.execute(f"DELETE FROM {ROUTES.name} WHERE {where} AND id = ?", keys)
            for table in (ROUTE_VERSIONS, ROUTE_DEPLOYMENTS):
                conn.execute(f"DELETE FROM {table.name} WHERE {where} AND route_id = ?", keys)

        return job

    def restore(self, route: LiveRoute) -> None:
        """Put back a route removed or changed in memory whose job failed."""
        self._put(route)

    def forget(self, scope: Scope) -> None:
        """Drop a deleted gateway's routes from memory (`delete_gateway_routes` on disk)."""
        self._scopes.pop(scope, None)
        self._names.pop(scope, None)
        self.rates.forget(scope)


def _save_route(record: RouteRecord) -> Job:
    def job(conn: sqlite3.Connection) -> None:
        conn.execute(ROUTES.insert(verb="INSERT OR REPLACE"), ROUTES.row(record))

    return job


def load_routes(
    conn: sqlite3.Connection,
) -> tuple[list[RouteRecord], list[VersionRecord], list[DeploymentRecord]]:
    """Every stored route, version and deployment (a store job, run on startup)."""

    routes = [ROUTES.record(r) for r in conn.execute(f"SELECT {ROUTES.names} FROM {ROUTES.name}")]
    versions = [
        ROUTE_VERSIONS.record(r)
        for r in conn.execute(f"SELECT {ROUTE_VERSIONS.names} FROM {ROUTE_VERSIONS.name}")
    ]
    deployments = [
        ROUTE_DEPLOYMENTS.record(r)
        for r in conn.execute(f"SELECT {ROUTE_DEPLOYMENTS.names} FROM {ROUTE_DEPLOYMENTS.name}")
    ]
    return routes, versions, deployments


def delete_gateway_routes(conn: sqlite3.Connection, account_id: str, gateway_id: str) -> None:
    """Delete a gateway's routes, versions and deployments (within the gateway's deletion)."""
    for table in (ROUTES, ROUTE_VERSIONS, ROUTE_DEPLOYMENTS):
        conn.execute(
            f"DELETE FROM {table.name} WHERE account_id = ? AND gateway_id = ?",
            (account_id, gateway_id),
        )


__all__ = [
    "LiveRoute",
    "RouteBook",
    "delete_gateway_routes",
    "elements_text",
    "graph_of",
    "load_routes",
    "quoted",
]
