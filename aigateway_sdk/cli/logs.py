"""`aigateway logs list|get|delete`: a gateway's request log.

aigateway logs list --gateway prod-gateway --filter success=eq:false --limit 20
aigateway logs list --filter model=contains:llama --filter tokens_out=gt:100 --json
aigateway logs get 01J... --request --response
aigateway logs delete --filter created_at=lt:2026-01-01T00:00:00Z
"""

from __future__ import annotations

import argparse
from typing import Any

from aigateway_sdk.cli._commands import add_resource, print_listing
from aigateway_sdk.cli._output import (
    EXIT_OK,
    CliError,
    Progress,
    add_common_flags,
    gateway_id,
    make_admin,
    print_fields,
    print_json,
    run_async,
)
from aigateway_sdk.control.logs import DIRECTIONS, OPERATORS, ORDER_BY, LogFilter
from aigateway_sdk.control.models import LogBody, LogEntry
from aigateway_sdk.errors import AiError, NotFound


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    commands = add_resource(
        subparsers,
        "logs",
        help="list, show and delete a gateway's request logs",
        description="A gateway's request log on the control plane.",
    )

    listing = commands.add_parser("list", help="list log entries, newest first")
    _add_filters(listing)
    _add_order(listing, default_order="created_at", default_direction="desc")
    listing.add_argument(
        "--limit", type=int, default=50, help="at most this many entries (0: all; default 50)"
    )
    listing.add_argument("--per-page", type=int, default=50, help="page size (default 50)")
    listing.add_argument("--search", help="free-text search")
    add_common_flags(listing)
    listing.set_defaults(run=run_async(_list))

    get = commands.add_parser("get", help="show one log entry")
    get.add_argument("log_id", help="log id")
    get.add_argument("--request", action="store_true", help="also show the stored request body")
    get.add_argument("--response", action="store_true", help="also show the stored response body")
    add_common_flags(get)
    get.set_defaults(run=run_async(_get))

    delete = commands.add_parser("delete", help="delete log entries matching the filters")
    _add_filters(delete)
    _add_order(delete, default_order=None, default_direction=None)
    delete.add_argument("--limit", type=int, help="delete at most this many entries")
    delete.add_argument(
        "--all", action="store_true", help="allow deleting with no filter (every entry)"
    )
    add_common_flags(delete)
    delete.set_defaults(run=run_async(_delete))


def _add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--filter",
        "-f",
        dest="filters",
        action="append",
        default=[],
        metavar="KEY=OP:VALUE",
        help=f"repeatable; OP is one of {', '.join(OPERATORS)} (e.g. success=eq:false)",
    )


def _add_order(
    parser: argparse.ArgumentParser, *, default_order: str | None, default_direction: str | None
) -> None:
    parser.add_argument(
        "--order-by",
        choices=ORDER_BY,
        default=default_order,
        metavar="FIELD",
        help=f"one of {', '.join(ORDER_BY)}"
        + (f" (default {default_order})" if default_order else ""),
    )
    parser.add_argument(
        "--direction",
        choices=DIRECTIONS,
        default=default_direction,
        help="asc or desc" + (f" (default {default_direction})" if default_direction else ""),
    )


def _filters(args: argparse.Namespace) -> list[LogFilter]:
    return [LogFilter.parse(text) for text in args.filters]


_COLUMNS = ("id", "created_at", "model", "status", "ok", "cached", "ms", "in", "out")


def _row(entry: LogEntry) -> list[object]:
    return [
        entry.id,
        entry.created_at.isoformat(timespec="seconds"),
        entry.model,
        entry.status_code,
        entry.success,
        entry.cached,
        entry.duration,
        entry.tokens_in,
        entry.tokens_out,
    ]


async def _list(args: argparse.Namespace) -> int:
    if args.limit < 0 or args.per_page < 1:
        raise CliError("--limit must be >= 0 and --per-page >= 1")
    filters = _filters(args)
    entries: list[LogEntry] = []
    progress = Progress("logs")
    async with make_admin(args) as admin:
        logs = admin.logs(gateway_id(args))
        async for entry in logs.list(
            filters=filters,
            order_by=args.order_by,
            direction=args.direction,
            per_page=args.per_page,
            limit=args.limit or None,
            search=args.search,
        ):
            entries.append(entry)
            progress.step()
    progress.done()
    return print_listing(args, _COLUMNS, _row, entries)


async def _get(args: argparse.Namespace) -> int:
    async with make_admin(args) as admin:
        logs = admin.logs(gateway_id(args))
        try:
            entry = await logs.get(args.log_id)
            request = await logs.request_body(args.log_id) if args.request else None
            response = await logs.response_body(args.log_id) if args.response else None
        except AiError as error:
            if not isinstance(error.reason, NotFound):
                raise
            where = f"gateway {gateway_id(args)!r} of account {admin.account_id!r}"
            raise CliError(
                f"no log {args.log_id!r} in {where} ({error})", kind="NotFound", cause=error
            ) from error
    body: dict[str, Any] = entry.to_json()
    stored = {"request": request, "response": response}
    for name, value in stored.items():
        if value is not None:
            body[name] = _decoded(value)
    if args.json:
        print_json(body)
        return EXIT_OK
    print_fields([(k, v) for k, v in body.items() if k not in stored])
    for name, value in stored.items():
        if value is not None:
            truncated = " (truncated)" if value.truncated else ""
            print(f"\n{name} ({value.content_type or 'unknown type'}){truncated}:")
            decoded = body[name]
            if isinstance(decoded, str):
                print(decoded)
            else:
                print_json(decoded)
    return EXIT_OK


def _decoded(body: LogBody) -> Any:
    """JSON bodies as JSON values, anything else (an SSE stream) as text."""
    try:
        return body.json()
    except AiError:
        return body.text


async def _delete(args: argparse.Namespace) -> int:
    filters = _filters(args)
    if not filters and not args.all:
        raise CliError("refusing to delete every log entry without --all (or give --filter)")
    if args.limit is not None and args.limit < 1:
        raise CliError("--limit must be >= 1")
    async with make_admin(args) as admin:
        deleted = await admin.logs(gateway_id(args)).delete(
            filters=filters, limit=args.limit, order_by=args.order_by, direction=args.direction
        )
    described = ", ".join(str(f) for f in filters) or "all entries"
    if args.json:
        print_json({"deleted": deleted, "gateway": gateway_id(args), "filters": args.filters})
    else:
        count = "" if deleted is None else f"{deleted} "
        print(f"deleted {count}logs of gateway {gateway_id(args)!r} matching {described}")
    return EXIT_OK


__all__ = ["register"]
