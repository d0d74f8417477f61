"""`aigateway keys list|plan|apply|delete`: a gateway's provider keys (BYOK). No command
prints a secret: configs show their `secret_preview`, specs their secret's source.

aigateway keys list -g prod-gateway
aigateway keys plan myapp.infra:KEYS            # ProviderKey(s) in a module
aigateway keys apply myapp.infra:KEYS --rotate  # also send each key's secret again
aigateway keys delete openai prod -g prod-gateway
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from aigateway_sdk.cli._commands import (
    Outcomes,
    add_plan_apply,
    add_resource,
    print_listing,
    print_plans,
)
from aigateway_sdk.cli._output import (
    EXIT_OK,
    CliError,
    add_common_flags,
    gateway_id,
    make_admin,
    print_json,
    run_async,
)
from aigateway_sdk.contract.provider_keys import DEFAULT_ALIAS
from aigateway_sdk.control._source import instances, resolve_object
from aigateway_sdk.control.provider_keys import ProviderConfig, ProviderKey
from aigateway_sdk.control.provider_keys_client import KeyApplyResult, KeyPlan
from aigateway_sdk.validation import ValidationError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    commands = add_resource(
        subparsers,
        "keys",
        help="provider keys (BYOK) of a gateway: list, plan, apply, delete",
        description="Provider keys stored in a gateway (BYOK). Secrets are never printed.",
    )

    listing = commands.add_parser("list", help="list a gateway's provider keys")
    add_common_flags(listing)
    listing.set_defaults(run=run_async(_list))

    add_plan_apply(
        commands,
        add_source=_add_source,
        plan=_plan,
        apply=_apply,
        apply_help="create or replace keys to match the specs",
        plan_help="show what apply would change (no secret is read)",
    )

    delete = commands.add_parser("delete", help="delete a key by provider and alias")
    delete.add_argument("provider", help="provider slug, e.g. openai")
    delete.add_argument("alias", nargs="?", default=DEFAULT_ALIAS, help="the key's alias")
    delete.add_argument("--missing-ok", action="store_true", help="succeed when it is absent")
    add_common_flags(delete)
    delete.set_defaults(run=run_async(_delete))


def _add_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", help="module:object holding a ProviderKey or a list of them")
    parser.add_argument(
        "--rotate", action="store_true", help="send each existing key's secret again (PUT)"
    )
    add_common_flags(parser)


def load_keys(target: str, *, search_path: str | None = None) -> tuple[ProviderKey, ...]:
    """The `ProviderKey`s of `package.module:attribute` (one, or a list/tuple/dict of them)."""
    value = resolve_object(target, search_path=search_path)
    return instances(target, value, ProviderKey, what="a ProviderKey", noun="ProviderKey")


def _keys(args: argparse.Namespace) -> list[tuple[str, ProviderKey]]:
    """Each key with the gateway it goes to: its own, else `--gateway` (or the env)."""
    fallback = gateway_id(args)
    return [
        (key.gateway or fallback, key) for key in load_keys(args.source, search_path=os.getcwd())
    ]


async def _plan(args: argparse.Namespace) -> int:
    plans: list[KeyPlan] = []
    async with make_admin(args) as admin:
        for gateway, key in _keys(args):
            plans.append(await admin.provider_keys(gateway).plan(key, rotate=args.rotate))
    return print_plans(args, plans)


async def _apply(args: argparse.Namespace) -> int:
    keys = _keys(args)
    outcomes = Outcomes(args)
    async with make_admin(args) as admin:
        # Every secret an apply will send is read before anything changes, so a missing
        # environment variable stops the command with nothing half-applied.
        for gateway, key in keys:
            plan = await admin.provider_keys(gateway).plan(key, rotate=args.rotate)
            if plan.action != "no-change":
                _check_secret(key)
        for gateway, key in keys:
            result = await admin.provider_keys(gateway).apply(key, rotate=args.rotate)
            outcomes.add(result.to_json(), _applied(result))
    return outcomes.finish()


def _check_secret(key: ProviderKey) -> None:
    try:
        key.resolve_secret()
    except ValidationError as error:
        raise CliError(f"provider key {key.name!r}: {error}; nothing was applied") from None


def _applied(result: KeyApplyResult) -> str:
    plan, config = result.plan, result.config
    where = f"provider key {config.name!r} on gateway {plan.gateway_id!r}"
    done = {
        "create": f"+ created {where} ({config.secret_preview})",
        "replace": f"-/+ replaced {where} ({config.secret_preview})",
        "rotate": f"~ rotated the secret of {where} ({config.secret_preview})",
        "no-change": f"= {where} unchanged",
    }[plan.action]
    return "".join([done, *(f"\n    {change}" for change in plan.changes)])


_COLUMNS = ("id", "provider", "alias", "default", "secret", "rate_limit", "modified_at")


def _row(config: ProviderConfig) -> list[object]:
    rate = (
        f"{config.rate_limit:g}/{config.rate_limit_period:g}s"
        if config.rate_limit and config.rate_limit_period
        else None
    )
    return [
        config.id,
        config.provider_slug,
        config.alias,
        config.default_config,
        config.secret_preview,
        rate,
        config.modified_at.isoformat(timespec="seconds"),
    ]


async def _list(args: argparse.Namespace) -> int:
    async with make_admin(args) as admin:
        configs = [c async for c in admin.provider_keys(gateway_id(args)).list()]
    return print_listing(args, _COLUMNS, _row, configs)


async def _delete(args: argparse.Namespace) -> int:
    gateway = gateway_id(args)
    async with make_admin(args) as admin:
        keys = admin.provider_keys(gateway)
        found = await keys.find(args.provider, args.alias)
        if found is not None:
            await keys.delete(found)
    name = f"{args.provider}/{args.alias}"
    if found is None and not args.missing_ok:
        raise CliError(f"no provider key {name!r} on gateway {gateway!r}", kind="NotFound")
    outcome: dict[str, Any] = {"gateway_id": gateway, "key": name, "deleted": found is not None}
    if args.json:
        print_json(outcome)
    else:
        print(f"- deleted provider key {name!r}" if found else f"provider key {name!r} was absent")
    return EXIT_OK


__all__ = ["load_keys", "register"]
