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
    add_common_flags,
    make_admin,
    print_fields,
    print_json,
    run_async,
)
from aigateway_sdk.control.admin import ApplyResult
from aigateway_sdk.control.loader import load_specs
from aigateway_sdk.control.models import Gateway
from aigateway_sdk.control.plan import Plan
from aigateway_sdk.control.spec import AiGateway


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    commands = add_resource(
        subparsers,
        "gateways",
        help="plan and apply gateway specs; list, show and delete gateways",
        description="Gateways as code (plan/apply a TOML file or module:Object) and CRUD.",
    )

    add_plan_apply(
        commands,
        add_source=_add_source,
        plan=_plan,
        apply=_apply,
        apply_help="create or update gateways in place to match",
    )

    listing = commands.add_parser("list", help="list the account's gateways")
    listing.add_argument("--search", help="only ids containing this text")
    listing.add_argument("--per-page", type=int, default=50, help="page size (default 50)")
    add_common_flags(listing, gateway=False)
    listing.set_defaults(run=run_async(_list))

    get = commands.add_parser("get", help="show one gateway")
    get.add_argument("id", help="gateway id")
    add_common_flags(get, gateway=False)
    get.set_defaults(run=run_async(_get))

    delete = commands.add_parser("delete", help="delete gateways by id")
    delete.add_argument("ids", nargs="+", metavar="ID", help="gateway id")
    delete.add_argument(
        "--missing-ok", action="store_true", help="succeed when a gateway does not exist"
    )
    add_common_flags(delete, gateway=False)
    delete.set_defaults(run=run_async(_delete))


def _add_source(parser: argparse.ArgumentParser) -> None:
    add_source_argument(parser)
    add_common_flags(parser, gateway=False)


def _specs(args: argparse.Namespace) -> tuple[AiGateway, ...]:
    return load_specs(args.source, search_path=os.getcwd())


async def _plan(args: argparse.Namespace) -> int:
    specs = _specs(args)
    async with make_admin(args) as admin:
        plans = [await admin.plan(spec) for spec in specs]
    return print_plans(args, plans, _summary(plans))


def _summary(plans: list[Plan]) -> str:
    counts = {action: sum(p.action == action for p in plans) for action in ("create", "update")}
    unchanged = len(plans) - counts["create"] - counts["update"]
    return (
        f"Plan: {counts['create']} to create, {counts['update']} to update in place, "
        f"{unchanged} unchanged."
    )


async def _apply(args: argparse.Namespace) -> int:
    specs = _specs(args)
    outcomes = Outcomes(args)
    async with make_admin(args) as admin:
        for spec in specs:
            result = await admin.apply(spec)
            outcomes.add(result.to_json(), _applied(result))
    return outcomes.finish()


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
    return print_listing(args, _COLUMNS, _row, gateways)


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
    outcomes = Outcomes(args)
    async with make_admin(args) as admin:
        for gateway_id in args.ids:
            if args.missing_ok:
                existed = await admin.destroy(gateway_id)
            else:
                await admin.delete(gateway_id)
                existed = True
            outcomes.add(
                {"id": gateway_id, "deleted": existed},
                f"- deleted gateway {gateway_id!r}"
                if existed
                else f"gateway {gateway_id!r} was absent",
            )
    return outcomes.finish()


__all__ = ["register"]
