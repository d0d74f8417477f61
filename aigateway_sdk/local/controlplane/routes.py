"""The control plane for dynamic routes: `.../ai-gateway/gateways/{gateway_id}/routes...`.

Shapes are those of the `cloudflare` package's `ai_gateway/dynamic_routing_*` models. Most
replies are the usual envelope (`result`); the four the package reads without unwrapping
carry their own top-level key as it expects (`route` for the update, `data` for the lists)
and the same value under `result` as well. A route's `elements`, `version` and `deployment`
are those of its deployed version. Creating a route creates version 1 and deploys it;
creating a version does not deploy it (a deployment names the version).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aigateway_sdk._json import dumps, loads
from aigateway_sdk.contract.routes import Element, check_graph, check_route_name, parse_elements
from aigateway_sdk.local.clock import rfc3339
from aigateway_sdk.local.controlplane.gateways import PREFIX, guarded
from aigateway_sdk.local.state import AppState
from aigateway_sdk.local.storage.routerecords import DeploymentRecord, VersionRecord
from aigateway_sdk.local.storage.routes import Job, LiveRoute, quoted
from aigateway_sdk.local.web.body import read_json
from aigateway_sdk.local.web.errors import CODE_INVALID, JSON, ApiError, ErrorItem, ok
from aigateway_sdk.local.web.params import int_param
from aigateway_sdk.validation import FieldError

MAX_PER_PAGE = 100
ORDER_BY = "created_at"


def _invalid(errors: Sequence[FieldError]) -> ApiError:
    """A 400 listing every problem, each message naming its whole path (the element)."""
    items = [ErrorItem(CODE_INVALID, str(error), error.path) for error in errors]
    return ApiError(400, CODE_INVALID, items[0].message, items=items)


def _object(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, dict):
        raise _invalid([FieldError(("body",), "must be a JSON object")])
    return body


def _name(body: Mapping[str, Any]) -> str:
    problem = check_route_name(body.get("name"))
    if problem is not None:
        raise _invalid([FieldError(("name",), problem)])
    return str(body["name"])


def _elements(body: Mapping[str, Any]) -> tuple[Element, ...]:
    """The body's elements, checked as `AiRoute` checks them: shapes, then the graph."""
    elements, errors = parse_elements(body.get("elements"))
    if not errors:
        errors = check_graph(elements)
    if errors:
        raise _invalid(errors)
    return elements


def version_json(route: LiveRoute, version: VersionRecord) -> dict[str, Any]:
    deployed = route.deployment
    return {
        "version_id": version.id,
        "active": "true" if deployed is not None and deployed.version_id == version.id else "false",
        "created_at": rfc3339(version.created_at),
        "data": version.elements,
        "is_valid": True,
    }


def deployment_json(deployment: DeploymentRecord) -> dict[str, Any]:
    return {
        "deployment_id": deployment.id,
        "version_id": deployment.version_id,
        "created_at": rfc3339(deployment.created_at),
    }


def route_json(route: LiveRoute, version: VersionRecord | None = None) -> dict[str, Any]:
    """The route with its deployed version (or `version`, for a version just created)."""
    record = route.record
    shown = version or route.deployed
    body: dict[str, Any] = {
        "id": record.id,
        "name": record.name,
        "account_tag": record.account_id,
        "gateway_id": record.gateway_id,
        "created_at": rfc3339(record.created_at),
        "modified_at": rfc3339(record.modified_at),
        "elements": loads(shown.elements) if shown is not None else [],
    }
    if route.deployment is not None:
        body["deployment"] = deployment_json(route.deployment)
    if shown is not None:
        body["version"] = version_json(route, shown)
    return body


def _listing(key: str, items: list[Any], page: int, per_page: int, direction: str) -> Response:
    """A list reply as the `cloudflare` package reads it (`{success, data: {...}}`), with the
    same object under `result`."""
    data = {
        key: items,
        "order_by": ORDER_BY,
        "order_by_direction": direction,
        "page": page,
        "per_page": per_page,
    }
    envelope = {"success": True, "errors": [], "messages": [], "data": data, "result": data}
    return Response(dumps(envelope), media_type=JSON)


def _page(request: Request) -> tuple[int, int]:
    query = request.query_params
    page = int_param(query, "page", 1, 1, 1_000_000)
    return page, int_param(query, "per_page", 20, 1, MAX_PER_PAGE)


def _chunk(items: list[Any], page: int, per_page: int) -> list[Any]:
    return items[(page - 1) * per_page : page * per_page]


class RoutesApi:
    def __init__(self, state: AppState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        def g(handler: Any) -> Any:
            return guarded(self.state, handler)

        base = PREFIX + "/gateways/{gateway_id}/routes"
        one = base + "/{route_id}"
        return [
            Route(base, g(self.list_routes), methods=["GET"]),
            Route(base, g(self.create_route), methods=["POST"]),
            Route(one, g(self.get_route), methods=["GET"]),
            Route(one, g(self.update_route), methods=["PATCH"]),
            Route(one, g(self.delete_route), methods=["DELETE"]),
            Route(one + "/versions", g(self.list_versions), methods=["GET"]),
            Route(one + "/versions", g(self.create_version), methods=["POST"]),
            Route(one + "/versions/{version_id}", g(self.get_version), methods=["GET"]),
            Route(one + "/deployments", g(self.list_deployments), methods=["GET"]),
            Route(one + "/deployments", g(self.create_deployment), methods=["POST"]),
        ]

    def _scope(self, request: Request) -> tuple[str, str]:
        params = request.path_params
        live = self.state.control_gateway(params["account_id"], params["gateway_id"])
        return live.scope

    def _route(self, request: Request) -> LiveRoute:
        return self.state.routes.get(self._scope(request), request.path_params["route_id"])

    async def _body(self, request: Request) -> Mapping[str, Any]:
        return _object(await read_json(request, self.state.config.max_body_bytes))

    async def _persist(self, job: Job, undo: Any) -> None:
        try:
            await self.state.store.call(job)
        except Exception:
            undo()
            raise

    # routes ----------------------------------------------------------------------------------

    async def list_routes(self, request: Request) -> Response:
        page, per_page = _page(request)
        routes = self.state.routes.list(self._scope(request))
        chunk = [route_json(route) for route in _chunk(routes, page, per_page)]
        return _listing("routes", chunk, page, per_page, "asc")

    async def create_route(self, request: Request) -> Response:
        scope = self._scope(request)
        body = await self._body(request)
        name, elements = _name(body), _elements(body)
        scope = self._scope(request)  # the gateway may have gone while the body was read
        book = self.state.routes
        route, job = book.create(scope, name, elements, self.state.clock.now())
        await self._persist(job, lambda: book.remove(route))
        return ok(route_json(route))

    async def get_route(self, request: Request) -> Response:
        return ok(route_json(self._route(request)))

    async def update_route(self, request: Request) -> Response:
        body = await self._body(request)
        name = _name(body)
        route = self._route(request)
        old = route.record
        book = self.state.routes
        job = book.rename(route, name, self.state.clock.now())

        def undo() -> None:
            book.remove(route)
            route.record = old
            book.restore(route)

        await self._persist(job, undo)
        shown = route_json(route)
        envelope = {"success": True, "errors": [], "messages": [], "route": shown, "result": shown}
        return Response(dumps(envelope), media_type=JSON)

    async def delete_route(self, request: Request) -> Response:
        route = self._route(request)
        book = self.state.routes
        job = book.remove(route)
        await self._persist(job, lambda: book.restore(route))
        return ok(route_json(route))

    # versions --------------------------------------------------------------------------------

    async def list_versions(self, request: Request) -> Response:
        page, per_page = _page(request)
        route = self._route(request)
        newest = list(reversed(route.versions))
        chunk = [version_json(route, v) for v in _chunk(newest, page, per_page)]
        return _listing("versions", chunk, page, per_page, "desc")

    async def create_version(self, request: Request) -> Response:
        body = await self._body(request)
        elements = _elements(body)
        route = self._route(request)
        version, job = self.state.routes.add_version(route, elements, self.state.clock.now())

        def undo() -> None:
            if version in route.versions:
                route.versions.remove(version)

        await self._persist(job, undo)
        return ok(route_json(route, version))

    async def get_version(self, request: Request) -> Response:
        route = self._route(request)
        version_id = request.path_params["version_id"]
        version = route.version(version_id)
        if version is None:
            raise ApiError.not_found(f"Version {quoted(version_id)}")
        shown = route_json(route, version)
        shown.pop("version")
        shown.pop("deployment", None)
        shown.update(version_json(route, version))
        return ok(shown)

    # deployments -----------------------------------------------------------------------------

    async def list_deployments(self, request: Request) -> Response:
        page, per_page = _page(request)
        route = self._route(request)
        newest = list(reversed(route.deployments))
        chunk = [deployment_json(d) for d in _chunk(newest, page, per_page)]
        return _listing("deployments", chunk, page, per_page, "desc")

    async def create_deployment(self, request: Request) -> Response:
        body = await self._body(request)
        version_id = body.get("version_id")
        if not isinstance(version_id, str) or not version_id:
            raise _invalid([FieldError(("version_id",), "must be a version id (a string)")])
        route = self._route(request)
        version = route.version(version_id)
        if version is None:
            raise ApiError.not_found(f"Version {quoted(version_id)}")
        graph = route.graph
        deployment, job = self.state.routes.deploy(route, version, self.state.clock.now())

        def undo() -> None:
            if deployment in route.deployments:
                route.deployments.remove(deployment)
            route.graph = graph

        await self._persist(job, undo)
        return ok(route_json(route))


__all__ = ["RoutesApi", "deployment_json", "route_json", "version_json"]
