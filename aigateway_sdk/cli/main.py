"""`aigateway`: one entry point; each command group lives in its own module.

A command module exposes `register(subparsers)`, adding its parsers with `set_defaults(run=...)`
where `run(args) -> int` is the exit code. Modules are imported here only when the command line
is built, so `import aigateway_sdk` stays light.

What every command shares, here: `--version`; defaults shown in `--help`; an unknown flag gets
a "did you mean"; a failure is one line on stderr (a JSON object under `--json`) and exit 1,
never a traceback unless `AIGATEWAY_DEBUG=1`; a closed stdout (`aigateway ... | head`) ends
the command quietly with exit code 141, as SIGPIPE would.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import json
import os
import re
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from aigateway_sdk.cli._output import ENV_DEBUG, handle_failure

COMMAND_MODULES = (
    "aigateway_sdk.cli.serve",
    "aigateway_sdk.cli.demo",
    "aigateway_sdk.cli.gateways",
    "aigateway_sdk.cli.routes",
    "aigateway_sdk.cli.logs",
    "aigateway_sdk.cli.generate",
    "aigateway_sdk.cli.models",
)

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell shows for `yes | head`


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, adding `(default: X)` to options whose help does not say it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            default is None
            or default is False
            or default is argparse.SUPPRESS
            or default == []
            or "default" in text
            or (not action.option_strings and action.nargs not in ("?", "*"))
        ):
            return action.help
        return f"{text} (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """An `ArgumentParser` whose usage errors can be JSON (`--json` on the command line)."""

    json_errors = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        message = _suggest_choice(message)
        if Parser.json_errors:
            failure = {"type": "UsageError", "message": f"{self.prog}: {message}"}
            print(json.dumps({"error": failure}), file=sys.stderr)
            self.exit(EXIT_USAGE)
        super().error(message)


def build_parser() -> Parser:
    parser = Parser(
        prog="aigateway",
        description="Cloudflare AI Gateway from Python: a local gateway, gateways as code, logs.",
        epilog=f"Failures print one line; set {ENV_DEBUG}=1 to see the traceback.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name == name:  # command not built yet
                continue
            raise
        module.register(subparsers)
    for each in _parsers(parser):
        each.set_defaults(cli_parser=each)  # the innermost one chosen wins
    return parser


def _version() -> str:
    from aigateway_sdk import __version__

    return __version__


def _parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """`parser` and every parser under it, parents first."""
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):  # aliases repeat a parser
                found += _parsers(child)
    return found


_INVALID_CHOICE = re.compile(r"invalid choice: '(?P<given>[^']*)' \(choose from (?P<known>.*)\)")


def _suggest_choice(message: str) -> str:
    """argparse's "invalid choice" (a mistyped command) with the closest choice suggested."""
    match = _INVALID_CHOICE.search(message)
    if match is None:
        return message
    known = [choice.strip().strip("'") for choice in match["known"].split(",")]
    close = difflib.get_close_matches(match["given"], known, n=1, cutoff=0.6)
    return f"{message} (did you mean {close[0]}?)" if close else message


def _unknown_flag(extras: Sequence[str], parser: argparse.ArgumentParser) -> str:
    """argparse's message for leftover arguments, with a suggestion for a mistyped flag."""
    message = f"unrecognized arguments: {' '.join(extras)}"
    for extra in extras:
        flag = extra.split("=", 1)[0]
        if not flag.startswith("--"):
            continue
        known = [s for a in parser._actions for s in a.option_strings if s.startswith("--")]
        close = difflib.get_close_matches(flag, known, n=1, cutoff=0.6)
        if close:
            return f"{message} (did you mean {close[0]}?)"
    return message


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            return _main(list(sys.argv[1:] if argv is None else argv))
        finally:
            sys.stdout.flush()
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_BROKEN_PIPE


def _main(argv: list[str]) -> int:
    Parser.json_errors = "--json" in argv
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    leaf: argparse.ArgumentParser = getattr(args, "cli_parser", parser)
    if extras:
        leaf.error(_unknown_flag(extras, leaf))
    run = getattr(args, "run", None)
    if run is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        code: int = run(args)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as error:  # a synchronous command (serve, demo)
        return handle_failure(error, args)
    return code


def _quiet_stdout() -> None:
    """The reader of stdout went away: point stdout at /dev/null so that the interpreter's
    last flush does not complain (the recipe in Python's `signal` docs)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # not a real file (a test's capture): nothing to flush
        pass


if __name__ == "__main__":
    sys.exit(main())
