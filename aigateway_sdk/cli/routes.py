"""`aigateway routes plan|apply|list|get|delete`: dynamic routes as code, and plain CRUD.

aigateway routes plan                        # the [[route]] tables of gateway.toml
aigateway routes apply infra/gateway.toml
aigateway routes apply myapp.infra:Routes --json
aigateway routes plan --detailed-exitcode    # 0 up to date, 2 changes pending, 1 error
aigateway routes list --gateway prod-gateway
aigateway routes get support --gateway prod-gateway      # by name or id
aigateway routes delete support --gateway prod-gateway --missing-ok
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aigateway_sdk.cli._commands import (
    Outcomes,
    add_plan_apply,
    add_resource,
    add_source_argument,
    print_listing,
    print_plans,
)
from aigateway_sdk.cli._output import (
    EXIT_OK,
    CliError,
    add_common_flags,
    gateway_id,
    make_admin,
    print_fields,
    print_json,
    run_async,
)
from aigateway_sdk.control._api import or_none
from aigateway_sdk.control.routes_admin import RouteAdmin, RouteApplyResult
from aigateway_sdk.control.routes_loader import load_routes
from aigateway_sdk.control.routes_models import Route
from aigateway_sdk.control.routes_plan import RoutePlan
from aigateway_sdk.control.routes_spec import AiRoute, describe_element
from aigateway_sdk.errors import AiError, NotFound


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    commands = add_resource(
        subparsers,
        "routes",
        help="plan and apply dynamic route specs; list, show and delete routes",
        description="Dynamic routes as code (plan/apply a TOML file or module:Object) and CRUD.",
    )

    add_plan_apply(
        commands,
        add_source=_add_source,
        plan=_plan,
        apply=_apply,
        apply_help="create routes, or deploy a new version where the graph changed",
    )

    listing = commands.add_parser("list", help="list a gateway's routes")
    listing.add_argument("--per-page", type=int, default=50, help="page size (default 50)")
    add_common_flags(listing)
    listing.set_defaults(run=run_async(_list))

    get = commands.add_parser("get", help="show one route, its graph and its versions")
    get.add_argument("route", help="route name or id")
    add_common_flags(get)
    get.set_defaults(run=run_async(_get))

    delete = commands.add_parser("delete", help="delete routes by name or id")
    delete.add_argument("routes", nargs="+", metavar="ROUTE", help="route name or id")
    delete.add_argument(
        "--missing-ok", action="store_true", help="succeed when a route does not exist"
    )
    add_common_flags(delete)
    delete.set_defaults(run=run_async(_delete))


def _add_source(parser: argparse.ArgumentParser) -> None:
    add_source_argument(parser)
    add_common_flags(parser, gateway=False)


def _specs(args: argparse.Namespace) -> tuple[AiRoute, ...]:
    return load_routes(args.source, search_path=os.getcwd())


async def _plan(args: argparse.Namespace) -> int:
    specs = _specs(args)
    async with make_admin(args) as admin:
        plans = []
        for spec in specs:
            with _gateway_must_exist(spec.gateway_id, _apply_first(args)):
                plans.append(await admin.routes(spec.gateway_id).plan(spec))
    return print_plans(args, plans, _summary(plans))


def _summary(plans: list[RoutePlan]) -> str:
    created = sum(p.action == "create" for p in plans)
    versioned = sum(p.action == "new-version" for p in plans)
    unchanged = len(plans) - created - versioned
    return f"Plan: {created} to create, {versioned} to version and deploy, {unchanged} unchanged."


async def _apply(args: argparse.Namespace) -> int:
    specs = _specs(args)
    outcomes = Outcomes(args)
    async with make_admin(args) as admin:
        for spec in specs:
            with _gateway_must_exist(spec.gateway_id, _apply_first(args)):
                result = await admin.routes(spec.gateway_id).apply(spec)
            outcomes.add(result.to_json(), _applied(result))
    return outcomes.finish()


def _applied(result: RouteApplyResult) -> str:
    route = result.route
    where = f"route {route.name!r} of gateway {route.gateway_id!r}"
    version = route.deployed_version_id
    if result.action == "unchanged":
        return f"= {where} unchanged (version {version})"
    changes = "".join(f"\n    {change}" for change in result.plan.changes)
    head = f"+ created {where}" if result.action == "created" else f"~ {where}"
    return f"{head}: version {version} deployed{changes}"


_COLUMNS = ("id", "name", "elements", "version", "modified_at")


def _row(route: Route) -> list[object]:
    return [
        route.id,
        route.name,
        len(route.elements_json),
        route.deployed_version_id,
        route.modified_at.isoformat(timespec="seconds"),
    ]


async def _list(args: argparse.Namespace) -> int:
    async with make_admin(args) as admin:
        gateway = gateway_id(args)
        with _gateway_must_exist(gateway, _GATEWAY_FLAG):
            routes = [r async for r in admin.routes(gateway).list(per_page=args.per_page)]
    return print_listing(args, _COLUMNS, _row, routes)


async def _lookup(routes: RouteAdmin, key: str) -> Route | None:
    """The route named `key`, else the route whose id is `key`, else None."""
    with _gateway_must_exist(routes.gateway_id, _GATEWAY_FLAG):
        found = await routes.find(key)
    return found if found is not None else await or_none(routes.get(key))


_GATEWAY_FLAG = "pass --gateway/-g or set AIGATEWAY_GATEWAY_ID"


def _apply_first(args: argparse.Namespace) -> str:
    return f"apply the gateway first, e.g. `aigateway gateways apply {args.source}`"


@contextmanager
def _gateway_must_exist(gateway: str, hint: str) -> Iterator[None]:
    """The server's 404 for a gateway that does not exist says what to do: routes live in a
    gateway, and `routes apply` never creates one."""
    try:
        yield
    except AiError as error:
        if not isinstance(error.reason, NotFound) or error.status != 404:
            raise
        message = f"{error} (routes need their gateway {gateway!r}: {hint})"
        raise CliError(message, kind=error.reason.tag, cause=error) from error


def _not_found(routes: RouteAdmin, key: str) -> AiError:
    return AiError(NotFound(message=f"no route named {key!r} in gateway {routes.gateway_id!r}"))


async def _get(args: argparse.Namespace) -> int:
    async with make_admin(args) as admin:
        routes = admin.routes(gateway_id(args))
        route = await _lookup(routes, args.route)
        if route is None:
            raise _not_found(routes, args.route)
        versions = await routes.list_versions(route)
    body: dict[str, Any] = {**route.to_json(), "versions": [v.to_json() for v in versions]}
    if args.json:
        print_json(body)
        return EXIT_OK
    print_fields(
        [
            ("id", route.id),
            ("name", route.name),
            ("gateway_id", route.gateway_id),
            ("deployed_version", route.deployed_version_id),
            ("versions", len(versions)),
            ("created_at", route.created_at.isoformat()),
            ("modified_at", route.modified_at.isoformat()),
        ]
    )
    graph = route.elements
    lines = [describe_element(e) for e in graph] or ["(a graph this SDK does not read)"]
    print("elements:")
    for line in lines:
        print(f"    {line}")
    return EXIT_OK


async def _delete(args: argparse.Namespace) -> int:
    outcomes = Outcomes(args)
    async with make_admin(args) as admin:
        routes = admin.routes(gateway_id(args))
        for key in args.routes:
            route = await _lookup(routes, key)
            if route is None and not args.missing_ok:
                raise _not_found(routes, key)
            existed = route is not None
            if route is not None:
                try:
                    await routes.delete(route)
                except AiError as error:
                    if not (args.missing_ok and isinstance(error.reason, NotFound)):
                        raise
                    existed = False
            outcomes.add(
                {"route": key, "id": None if route is None else route.id, "deleted": existed},
                f"- deleted route {key!r}" if existed else f"route {key!r} was absent",
            )
    return outcomes.finish()


__all__ = ["register"]
