"""`aigateway gateways plan|apply|list|get|delete`: gateways as code, and plain CRUD.

aigateway gateways plan                      # gateway.toml in the current directory
aigateway gateways apply infra/gateways.toml
aigateway gateways apply myapp.infra:Gateway --json
aigateway gateways plan --detailed-exitcode  # 0 up to date, 2 changes pending, 1 error
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from aigateway_sdk.cli._output import (
    EXIT_OK,
    add_account_flags,
    add_json_flag,
    make_admin,
    print_fields,
    print_json,
    print_table,
    run_async,
)
from aigateway_sdk.control.admin import ApplyResult
from aigateway_sdk.control.loader import DEFAULT_SOURCE, load_specs
from aigateway_sdk.control.models import Gateway
from aigateway_sdk.control.plan import Plan
from aigateway_sdk.control.spec import AiGateway

EXIT_CHANGES_PENDING = 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "gateways",
        help="plan and apply gateway specs; list, show and delete gateways",
        description="Gateways as code (plan/apply a TOML file or module:Object) and CRUD.",
    )
    commands = parser.add_subparsers(dest="gateways_command", metavar="ACTION", required=True)

    plan = commands.add_parser("plan", help="show what apply would change (no change is made)")
    _add_source(plan)
    plan.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 2 when changes are pending, 0 when everything is up to date",
    )
    plan.set_defaults(run=run_async(_plan))

    apply = commands.add_parser("apply", help="create or update gateways in place to match")
    _add_source(apply)
    apply.set_defaults(run=run_async(_apply))

    listing = commands.add_parser("list", help="list the account's gateways")
    listing.add_argument("--search", help="only ids containing this text")
    listing.add_argument("--per-page", type=int, default=50, help="page size (default 50)")
    _add_common(listing)
    listing.set_defaults(run=run_async(_list))

    get = commands.add_parser("get", help="show one gateway")
    get.add_argument("id", help="gateway id")
    _add_common(get)
    get.set_defaults(run=run_async(_get))

    delete = commands.add_parser("delete", help="delete gateways by id")
    delete.add_argument("ids", nargs="+", metavar="ID", help="gateway id")
    delete.add_argument(
        "--missing-ok", action="store_true", help="succeed when a gateway does not exist"
    )
    _add_common(delete)
    delete.set_defaults(run=run_async(_delete))


def _add_common(parser: argparse.ArgumentParser) -> None:
    add_account_flags(parser)
    add_json_flag(parser)


def _add_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "source",
        nargs="?",
        default=DEFAULT_SOURCE,
        help=f"a TOML file or module:Object (default {DEFAULT_SOURCE})",
    )
    _add_common(parser)


def _specs(args: argparse.Namespace) -> tuple[AiGateway, ...]:
    return load_specs(args.source, search_path=os.getcwd())


async def _plan(args: argparse.Namespace) -> int:
    specs = _specs(args)
    async with make_admin(args) as admin:
        plans = [await admin.plan(spec) for spec in specs]
    if args.json:
        print_json([plan.to_json() for plan in plans])
    else:
        for plan in plans:
            print(plan.describe())
        print(_summary(plans))
    pending = any(plan.has_changes for plan in plans)
    return EXIT_CHANGES_PENDING if args.detailed_exitcode and pending else EXIT_OK


def _summary(plans: list[Plan]) -> str:
    counts = {action: sum(p.action == action for p in plans) for action in ("create", "update")}
    unchanged = len(plans) - counts["create"] - counts["update"]
    return (
        f"Plan: {counts['create']} to create, {counts['update']} to update in place, "
        f"{unchanged} unchanged."
    )


async def _apply(args: argparse.Namespace) -> int:
    specs = _specs(args)
    results: list[ApplyResult] = []
    async with make_admin(args) as admin:
        for spec in specs:
            results.append(await admin.apply(spec))
            if not args.json:
                print(_applied(results[-1]))
    if args.json:
        print_json([result.to_json() for result in results])
    return EXIT_OK


def _applied(result: ApplyResult) -> str:
    gateway_id = result.gateway.id
    if result.action == "unchanged":
        return f"= gateway {gateway_id!r} unchanged"
    changes = "".join(f"\n    {change}" for change in result.plan.changes)
    sign = "+" if result.action == "created" else "~"
    return f"{sign} {result.action} gateway {gateway_id!r}{changes}"


_COLUMNS = ("id", "cache_ttl", "rate_limit", "logs", "auth", "modified_at")


def _row(gateway: Gateway) -> list[object]:
    limit = gateway.rate_limiting_limit
    rate = (
        f"{limit}/{gateway.rate_limiting_interval}s {gateway.rate_limiting_technique}"
        if limit
        else None
    )
    return [
        gateway.id,
        gateway.cache_ttl,
        rate,
        gateway.collect_logs,
        gateway.authentication,
        gateway.modified_at.isoformat(timespec="seconds"),
    ]


async def _list(args: argparse.Namespace) -> int:
    async with make_admin(args) as admin:
        gateways = [g async for g in admin.list(per_page=args.per_page, search=args.search)]
    if args.json:
        print_json([g.to_json() for g in gateways])
    else:
        print_table(_COLUMNS, [_row(g) for g in gateways])
    return EXIT_OK


async def _get(args: argparse.Namespace) -> int:
    async with make_admin(args) as admin:
        gateway = await admin.get(args.id)
    body: dict[str, Any] = gateway.to_json()
    if args.json:
        print_json(body)
    else:
        if gateway.spend_limits is not None:  # what plans print, not a Python dict
            body["spend_limits"] = gateway.spend_limits.describe()
        print_fields(list(body.items()))
    return EXIT_OK


async def _delete(args: argparse.Namespace) -> int:
    deleted: list[dict[str, Any]] = []
    async with make_admin(args) as admin:
        for gateway_id in args.ids:
            if args.missing_ok:
                existed = await admin.destroy(gateway_id)
            else:
                await admin.delete(gateway_id)
                existed = True
            deleted.append({"id": gateway_id, "deleted": existed})
            if not args.json:
                print(
                    f"- deleted gateway {gateway_id!r}"
                    if existed
                    else f"gateway {gateway_id!r} was absent"
                )
    if args.json:
        print_json(deleted)
    return EXIT_OK


__all__ = ["register"]
