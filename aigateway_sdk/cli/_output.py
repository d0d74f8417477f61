"""What the command line shares: credentials from flags or the environment, human tables or
`--json` on stdout, progress on stderr, and one-line errors with a non-zero exit code.

Environment (a flag wins over its variable):

| variable | flag | used by |
|---|---|---|
| `CLOUDFLARE_ACCOUNT_ID` | `--account-id` | every command |
| `CLOUDFLARE_API_TOKEN` | `--api-token` | control plane (gateways, logs); Workers AI auth |
| `AIGATEWAY_GATEWAY_ID` | `--gateway` | logs, generate, stream (default `default`) |
| `CLOUDFLARE_GATEWAY_TOKEN` | `--gateway-token` | generate, stream (authenticated gateways) |
| `AIGATEWAY_API_BASE_URL` | `--base-url` | control-plane base (local: `.../client/v4`) |
| `AIGATEWAY_BASE_URL` | `--gateway-url` | data-plane base (local: `.../v1`) |
| `AIGATEWAY_DEBUG` | | `1`: a failure shows its traceback instead of one line |

Under `--json` a failure is one line on stderr too: `{"error": {"type", "message", ...}}`, with
`status`, `code` and `log_id` for gateway errors and `fields` for validation errors; stdout
then stays empty. JSON keys are snake_case in every command's output.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TextIO

import anyio

from aigateway_sdk._install import extra_for, install_line
from aigateway_sdk.control._api import DEFAULT_BASE_URL
from aigateway_sdk.control.admin import GatewayAdmin
from aigateway_sdk.control.loader import SpecLoadError
from aigateway_sdk.errors import AiError
from aigateway_sdk.validation import ValidationError

EXIT_OK = 0
EXIT_FAILURE = 1

ENV_ACCOUNT_ID = "CLOUDFLARE_ACCOUNT_ID"
ENV_API_TOKEN = "CLOUDFLARE_API_TOKEN"
ENV_GATEWAY_ID = "AIGATEWAY_GATEWAY_ID"
ENV_GATEWAY_TOKEN = "CLOUDFLARE_GATEWAY_TOKEN"
ENV_API_BASE_URL = "AIGATEWAY_API_BASE_URL"
ENV_DATA_BASE_URL = "AIGATEWAY_BASE_URL"
ENV_DEBUG = "AIGATEWAY_DEBUG"


class CliError(Exception):
    """A failure the command line reports as one line (missing credentials, bad arguments).

    `kind` is the `type` of the `--json` error object; `cause`, an `AiError` the message
    explains, lends it its status, code and log id."""

    def __init__(self, message: str, *, kind: str = "UsageError", cause: AiError | None = None):
        super().__init__(message)
        self.kind = kind
        self.cause = cause


# -- arguments ------------------------------------------------------------------------------


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print JSON on stdout (for scripts) instead of text"
    )


def add_account_flags(parser: argparse.ArgumentParser) -> None:
    """`--account-id`, `--api-token`, `--base-url` (control plane)."""
    group = parser.add_argument_group("account")
    group.add_argument("--account-id", help=f"Cloudflare account id (env {ENV_ACCOUNT_ID})")
    group.add_argument("--api-token", help=f"Cloudflare API token (env {ENV_API_TOKEN})")
    group.add_argument(
        "--base-url",
        help=f"control-plane base URL (env {ENV_API_BASE_URL}; default {DEFAULT_BASE_URL})",
    )


def add_gateway_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--gateway", "-g", help=f"gateway id (env {ENV_GATEWAY_ID}; default 'default')"
    )


def add_common_flags(parser: argparse.ArgumentParser, *, gateway: bool = True) -> None:
    """`--gateway` (unless `gateway=False`), the account flags and `--json`."""
    if gateway:
        add_gateway_flag(parser)
    add_account_flags(parser)
    add_json_flag(parser)


def from_env(args: argparse.Namespace, attribute: str, variable: str) -> str | None:
    value = getattr(args, attribute, None)
    if value:
        return str(value)
    return os.environ.get(variable) or None


def required(args: argparse.Namespace, attribute: str, variable: str) -> str:
    value = from_env(args, attribute, variable)
    if value is None:
        flag = "--" + attribute.replace("_", "-")
        raise CliError(f"missing {flag} (or set {variable})")
    return value


def gateway_id(args: argparse.Namespace) -> str:
    return from_env(args, "gateway", ENV_GATEWAY_ID) or "default"


def make_admin(args: argparse.Namespace) -> GatewayAdmin:
    """A `GatewayAdmin` from the account flags and the environment."""
    return GatewayAdmin(
        required(args, "account_id", ENV_ACCOUNT_ID),
        required(args, "api_token", ENV_API_TOKEN),
        from_env(args, "base_url", ENV_API_BASE_URL) or DEFAULT_BASE_URL,
    )


# -- running --------------------------------------------------------------------------------


def run_async(
    command: Callable[[argparse.Namespace], Awaitable[int]],
) -> Callable[[argparse.Namespace], int]:
    """Wrap an async command: run it on anyio; every failure is one line on stderr and exit
    code 1 (see `handle_failure`)."""

    def run(args: argparse.Namespace) -> int:
        async def main() -> int:
            return await command(args)

        try:
            return anyio.run(main)
        except Exception as error:
            return handle_failure(error, args)

    return run


def handle_failure(error: Exception, args: argparse.Namespace) -> int:
    """Report a command's failure in one line and return exit code 1; re-raise it when
    debugging (`AIGATEWAY_DEBUG=1`) or when stdout is gone (`main` ends quietly)."""
    if debugging() or isinstance(error, BrokenPipeError):
        raise error
    as_json = bool(getattr(args, "json", False))
    return report_failure(error, as_json=as_json, command=command_name(args))


def command_name(args: argparse.Namespace) -> str:
    """The command words on the line (`gateways plan`), from the parsers' `dest`s."""
    words = [getattr(args, "command", None)]
    words += [v for k, v in vars(args).items() if k.endswith("_command") and isinstance(v, str)]
    return " ".join(w for w in words if isinstance(w, str))


def debugging() -> bool:
    """`AIGATEWAY_DEBUG=1`: failures show their traceback instead of one line."""
    return os.environ.get(ENV_DEBUG, "") not in ("", "0")


def describe_failure(error: Exception, command: str | None = None) -> dict[str, Any]:
    """A failure as `{"type", "message", ...}`: what `--json` prints under `"error"`, and whose
    `message` is the one line printed otherwise."""
    if isinstance(error, AiError):
        return _ai_error(error.reason.tag, str(error), error)
    if isinstance(error, CliError):
        if error.cause is not None:
            return _ai_error(error.kind, str(error), error.cause)
        return {"type": error.kind, "message": str(error)}
    if isinstance(error, ValidationError):
        return {"type": "ValidationError", "message": str(error), "fields": list(error.fields)}
    if isinstance(error, SpecLoadError):
        return {"type": "SpecLoadError", "message": str(error)}
    if isinstance(error, ImportError) and (extra := extra_for(error)) is not None:
        what = f"`aigateway {command}`" if command else "this command"
        return {
            "type": "MissingDependency",
            "message": f"{what} needs the {extra!r} extra (no module named {error.name!r}); "
            f"install it with: {install_line(extra)}",
            "install": install_line(extra),
        }
    if isinstance(error, OSError):
        return {"type": type(error).__name__, "message": f"{type(error).__name__}: {error}"}
    return {
        "type": "InternalError",
        "message": f"unexpected {type(error).__name__}: {error} "
        f"(set {ENV_DEBUG}=1 to see the traceback)",
    }


def _ai_error(kind: str, message: str, error: AiError) -> dict[str, Any]:
    return {
        "type": kind,
        "message": message,
        "status": error.status,
        "code": error.code,
        "log_id": error.log_id,
    }


def report_failure(error: Exception, *, as_json: bool, command: str | None = None) -> int:
    """One line on stderr for `error` (text, or a JSON object under `--json`); exit code 1."""
    described = describe_failure(error, command)
    if as_json:
        line = json.dumps({"error": described}, ensure_ascii=False, default=str)
        print(line, file=sys.stderr)
        return EXIT_FAILURE
    return fail(described["message"])


def fail(message: str, stream: TextIO | None = None) -> int:
    """Print `aigateway: error: <message>` (one line) on stderr and return the failure code."""
    line = " ".join(message.split())
    print(f"aigateway: error: {line}", file=stream or sys.stderr)
    return EXIT_FAILURE


# -- output ---------------------------------------------------------------------------------


def print_json(value: Any) -> None:
    """`value` as indented JSON on stdout (one document). Keys are snake_case in every
    command's output: build values with snake_case keys, or pass them through `snake_keys`."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def snake_keys(value: Any) -> Any:
    """`value` with every mapping key turned from camelCase to snake_case (`logId` ->
    `log_id`), at any depth. For SDK values whose JSON follows a JavaScript shape."""
    if isinstance(value, dict):
        return {_snake(str(k)): snake_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [snake_keys(v) for v in value]
    return value


def _snake(key: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in key).lstrip("_")


def cell(value: object) -> str:
    """A value as a table cell: booleans as yes/no, None as '-'."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain aligned table on stdout (no colours: it is meant to be read and grepped)."""
    text_rows = [[cell(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in text_rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    lines = [headers, *text_rows]
    for line in lines:
        print("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())


def print_fields(pairs: Sequence[tuple[str, object]]) -> None:
    """`name: value` lines, names aligned."""
    width = max((len(k) for k, _ in pairs), default=0)
    for key, value in pairs:
        print(f"{key.ljust(width)}  {cell(value)}")


class Progress:
    """A counter on stderr (`fetched 250 logs`), redrawn in place, only when stderr is a
    terminal: stdout stays clean for `--json` and pipes."""

    def __init__(self, noun: str, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stderr
        self._noun = noun
        self._count = 0
        self._enabled = self._stream.isatty()

    def step(self, count: int = 1) -> None:
        self._count += count
        if self._enabled and self._count % 50 == 0:
            self._stream.write(f"\rfetched {self._count} {self._noun}")
            self._stream.flush()

    def done(self) -> None:
        if self._enabled and self._count >= 50:
            self._stream.write("\r\x1b[K")
            self._stream.flush()


__all__ = [
    "ENV_ACCOUNT_ID",
    "ENV_API_BASE_URL",
    "ENV_API_TOKEN",
    "ENV_DATA_BASE_URL",
    "ENV_DEBUG",
    "ENV_GATEWAY_ID",
    "ENV_GATEWAY_TOKEN",
    "EXIT_FAILURE",
    "EXIT_OK",
    "CliError",
    "Progress",
    "add_account_flags",
    "add_common_flags",
    "add_gateway_flag",
    "add_json_flag",
    "command_name",
    "debugging",
    "describe_failure",
    "fail",
    "from_env",
    "gateway_id",
    "handle_failure",
    "make_admin",
    "print_fields",
    "print_json",
    "print_table",
    "report_failure",
    "required",
    "run_async",
    "snake_keys",
]
