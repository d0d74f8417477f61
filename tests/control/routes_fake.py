"""An in-memory routes API in Cloudflare's shapes behind `httpx.MockTransport`, for what the
local gateway cannot be made to do on cue: another process stepping in between two of the
SDK's requests (`before_request`, `after_version_created`, `create_now`), and a server that
allows two routes of one name (`unique_names=False`). Everything a server can produce is
tested against the local gateway instead (test_routes_admin.py, test_routes_e2e.py).

Just the calls `RouteAdmin.apply` makes, in the local gateway's shapes: envelopes, lists under
`result.data.<key>`, a version reply shaped like a route, `active` as "true"/"false", 404s and
409s with Cloudflare's error body.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import anyio.lowlevel
import httpx

BASE = "https://api.test/client/v4"
ACCOUNT = "acct"
_PATH = re.compile(
    r"^/client/v4/accounts/(?P<account>[^/]+)/ai-gateway/gateways/(?P<gateway>[^/]+)/routes"
    r"(?:/(?P<route>[^/]+)(?:/(?P<kind>versions|deployments)(?:/(?P<version>[^/]+))?)?)?$"
)

Hook = Callable[["FakeRoutes", str], None]


def _error(status: int, code: int, message: str) -> httpx.Response:
    body = {"success": False, "errors": [{"code": code, "message": message}], "result": None}
    return httpx.Response(status, json=body)


def _ok(result: Any) -> httpx.Response:
    return httpx.Response(
        200, json={"success": True, "errors": [], "messages": [], "result": result}
    )


class FakeRoutes:
    """The routes of every gateway of account `acct`, and the requests seen."""

    def __init__(self, *, unique_names: bool = True) -> None:
        self.unique_names = unique_names
        self.routes: dict[str, dict[str, Any]] = {}
        self.requests: list[httpx.Request] = []
        self.after_version_created: Hook | None = None
        self.before_request: Callable[[httpx.Request], Awaitable[None]] | None = None
        self._ids = itertools.count(1)
        self._clock = datetime(2026, 1, 1, tzinfo=UTC)

    # -- state --------------------------------------------------------------------------

    def _now(self) -> str:
        self._clock += timedelta(seconds=1)
        return self._clock.isoformat()

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):04d}"

    def versions_of(self, route_id: str) -> list[dict[str, Any]]:
        return list(self.routes[route_id]["versions"])

    def deployed(self, route_id: str) -> dict[str, Any]:
        route = self.routes[route_id]
        version_id = route["deployments"][-1]["version_id"]
        return next(v for v in route["versions"] if v["version_id"] == version_id)

    def add_version(self, route_id: str, elements: list[Any]) -> str:
        version = {"version_id": self._new_id("v"), "elements": elements, "created_at": self._now()}
        self.routes[route_id]["versions"].append(version)
        return str(version["version_id"])

    def deploy(self, route_id: str, version_id: str) -> None:
        route = self.routes[route_id]
        route["deployments"].append(
            {
                "deployment_id": self._new_id("d"),
                "version_id": version_id,
                "created_at": self._now(),
            }
        )
        route["modified_at"] = self._now()

    def route_named(self, gateway: str, name: str) -> list[dict[str, Any]]:
        return [r for r in self.routes.values() if r["gateway_id"] == gateway and r["name"] == name]

    # -- JSON ---------------------------------------------------------------------------

    def _version_json(self, route: dict[str, Any], version: dict[str, Any]) -> dict[str, Any]:
        active = (
            route["deployments"] and route["deployments"][-1]["version_id"] == version["version_id"]
        )
        return {
            "version_id": version["version_id"],
            "active": "true" if active else "false",
            "created_at": version["created_at"],
            "data": json.dumps(version["elements"]),
        }

    def route_json(self, route: dict[str, Any], *, full: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": route["id"],
            "account_tag": ACCOUNT,
            "name": route["name"],
            "gateway_id": route["gateway_id"],
            "created_at": route["created_at"],
            "modified_at": route["modified_at"],
            "elements": self.deployed(route["id"])["elements"],
        }
        if full:
            deployment = route["deployments"][-1]
            body["deployment"] = dict(deployment)
            body["version"] = self._version_json(route, self.deployed(route["id"]))
        return body

    def _list(self, key: str, items: list[Any], page: int, per_page: int) -> httpx.Response:
        data = {
            key: items,
            "order_by": "created_at",
            "order_by_direction": "asc",
            "page": page,
            "per_page": per_page,
        }
        return _ok({"data": data})

    # -- HTTP ---------------------------------------------------------------------------

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.before_request is not None:
            await self.before_request(request)
        await anyio.lowlevel.checkpoint()  # let a racing task run between requests
        match = _PATH.match(request.url.path)
        if match is None:
            return _error(404, 7003, "No route for that URI")
        body = json.loads(request.content) if request.content else None
        return self._dispatch(request.method, match.groupdict(), body, request.url.params)

    def _dispatch(
        self, method: str, where: dict[str, Any], body: Any, params: httpx.QueryParams
    ) -> httpx.Response:
        gateway, route_id, kind = where["gateway"], where["route"], where["kind"]
        if route_id is None:
            if method == "GET":
                page, per_page = int(params.get("page", 1)), int(params.get("per_page", 20))
                mine = [r for r in self.routes.values() if r["gateway_id"] == gateway]
                chunk = mine[(page - 1) * per_page : page * per_page]
                return self._list("routes", [self.route_json(r) for r in chunk], page, per_page)
            if method == "POST":
                return self._create(gateway, body)
            return _error(405, 10405, "method not allowed")
        route = self.routes.get(route_id)
        if route is None or route["gateway_id"] != gateway:
            return _error(404, 7002, "route not found")
        if kind is None:
            return self._route_call(method, route, body)
        if kind == "versions":
            return self._versions_call(method, route, where["version"], body)
        if method == "GET":
            items = [dict(d) for d in route["deployments"]]
            return self._list("deployments", items, 1, len(items) or 1)
        version_id = body.get("version_id") if isinstance(body, dict) else None
        if not any(v["version_id"] == version_id for v in route["versions"]):
            return _error(404, 7002, "version not found")
        self.deploy(route["id"], str(version_id))
        return _ok(self.route_json(route, full=False))

    def create_now(self, gateway: str, body: dict[str, Any]) -> None:
        """Create a route as another client would, between two of the SDK's requests."""
        assert self._create(gateway, body).status_code == 200

    def _create(self, gateway: str, body: Any) -> httpx.Response:
        if self.unique_names and self.route_named(gateway, body["name"]):
            return _error(409, 7004, "a route with this name already exists")
        now = self._now()
        route_id = self._new_id("r")
        self.routes[route_id] = {
            "id": route_id,
            "name": body["name"],
            "gateway_id": gateway,
            "created_at": now,
            "modified_at": now,
            "versions": [],
            "deployments": [],
        }
        self.deploy(route_id, self.add_version(route_id, body["elements"]))
        return _ok(self.route_json(self.routes[route_id]))

    def _route_call(self, method: str, route: dict[str, Any], body: Any) -> httpx.Response:
        if method == "GET":
            return _ok(self.route_json(route))
        if method == "DELETE":
            body = self.route_json(route, full=False)
            del self.routes[route["id"]]
            return _ok(body)
        return _error(405, 10405, "method not allowed")

    def _versions_call(
        self, method: str, route: dict[str, Any], version_id: str | None, body: Any
    ) -> httpx.Response:
        if version_id is not None:
            return _error(404, 7002, "version not found")
        if method == "GET":
            items = [self._version_json(route, v) for v in route["versions"]]
            return self._list("versions", items, 1, len(items) or 1)
        self.add_version(route["id"], body["elements"])
        if self.after_version_created is not None:
            self.after_version_created(self, route["id"])
        return _ok(self.route_json(route, full=False))

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handle))
