"""The shape the resource commands share: `plan`/`apply` subcommands, the spec source argument,
plans printed with `--detailed-exitcode`, and outcomes or listings as text or `--json`."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

from aigateway_sdk.cli._output import EXIT_OK, print_json, print_table, run_async
from aigateway_sdk.control.loader import DEFAULT_SOURCE

EXIT_CHANGES_PENDING = 2
"""`plan --detailed-exitcode`: changes are pending (0: everything is up to date, 1: error)."""

Command = Callable[[argparse.Namespace], Awaitable[int]]


class ToJson(Protocol):
    """A value the `--json` output shows as its `to_json()`."""

    def to_json(self) -> dict[str, Any]: ...


class PlanLike(ToJson, Protocol):
    """A plan as the command line prints it."""

    @property
    def has_changes(self) -> bool: ...

    def describe(self) -> str: ...


T = TypeVar("T", bound=ToJson)


# -- arguments ------------------------------------------------------------------------------


def add_source_argument(parser: argparse.ArgumentParser) -> None:
    """The optional `source` positional: a TOML file or module:Object (default gateway.toml)."""
    parser.add_argument(
        "source",
        nargs="?",
        default=DEFAULT_SOURCE,
        help=f"a TOML file or module:Object (default {DEFAULT_SOURCE})",
    )


def add_resource(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    *,
    help: str,
    description: str,
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    """The command `name` and its subcommands (their word lands in `args.<name>_command`)."""
    parser = subparsers.add_parser(name, help=help, description=description)
    return parser.add_subparsers(dest=f"{name}_command", metavar="ACTION", required=True)


def add_plan_apply(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    *,
    add_source: Callable[[argparse.ArgumentParser], None],
    plan: Command,
    apply: Command,
    apply_help: str,
    plan_help: str = "show what apply would change (no change is made)",
) -> None:
    """`plan` (the source, then `--detailed-exitcode`) and `apply` (the source); `add_source`
    adds the source argument and the flags both take."""
    plan_parser = commands.add_parser("plan", help=plan_help)
    add_source(plan_parser)
    plan_parser.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 2 when changes are pending, 0 when everything is up to date",
    )
    plan_parser.set_defaults(run=run_async(plan))
    apply_parser = commands.add_parser("apply", help=apply_help)
    add_source(apply_parser)
    apply_parser.set_defaults(run=run_async(apply))


# -- output ---------------------------------------------------------------------------------


def print_plans(
    args: argparse.Namespace, plans: Sequence[PlanLike], summary: str | None = None
) -> int:
    """The plans (described, then `summary`; or a JSON list), and the exit code: 2 under
    `--detailed-exitcode` when any plan has changes, else 0."""
    if args.json:
        print_json([plan.to_json() for plan in plans])
    else:
        for plan in plans:
            print(plan.describe())
        if summary is not None:
            print(summary)
    pending = any(plan.has_changes for plan in plans)
    return EXIT_CHANGES_PENDING if args.detailed_exitcode and pending else EXIT_OK


def print_listing(
    args: argparse.Namespace,
    columns: Sequence[str],
    row: Callable[[T], Sequence[object]],
    items: Iterable[T],
) -> int:
    """`items` as a table (`columns`, a `row` each) or a JSON list of their `to_json()`."""
    if args.json:
        print_json([item.to_json() for item in items])
    else:
        print_table(columns, [row(item) for item in items])
    return EXIT_OK


class Outcomes:
    """What a command did, item by item: a line printed as each happens, or under `--json`
    one list printed at the end (`finish`)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self._json = bool(args.json)
        self._done: list[dict[str, Any]] = []

    def add(self, outcome: dict[str, Any], line: str) -> None:
        self._done.append(outcome)
        if not self._json:
            print(line)

    def finish(self) -> int:
        if self._json:
            print_json(self._done)
        return EXIT_OK


__all__ = [
    "EXIT_CHANGES_PENDING",
    "Outcomes",
    "PlanLike",
    "ToJson",
    "add_plan_apply",
    "add_resource",
    "add_source_argument",
    "print_listing",
    "print_plans",
]
