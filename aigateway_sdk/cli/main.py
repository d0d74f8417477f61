"""`aigateway`: one entry point; each command group lives in its own module.

A command module exposes `register(subparsers)`, adding its parsers with `set_defaults(run=...)`
where `run(args) -> int` is the exit code. Modules are imported here only when the command line
is built, so `import aigateway_sdk` stays light.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMAND_MODULES = (
    "aigateway_sdk.cli.serve",
    "aigateway_sdk.cli.demo",
    "aigateway_sdk.cli.gateways",
    "aigateway_sdk.cli.logs",
    "aigateway_sdk.cli.generate",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aigateway",
        description="Cloudflare AI Gateway from Python: a local gateway, gateways as code, logs.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name == name:  # command not built yet
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    run = getattr(args, "run", None)
    if run is None:
        parser.print_help()
        return 2
    try:
        code: int = run(args)
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
