"""`aigateway serve`: run the local gateway in the foreground."""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
from collections.abc import Callable
from typing import Any

from aigateway_sdk.cli._output import debugging


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve",
        help="run the local AI Gateway (data plane, control plane, logs)",
        description=(
            "Run a local Cloudflare AI Gateway. Data plane at http://HOST:PORT/v1/{account}/"
            "{gateway}/..., control plane at http://HOST:PORT/client/v4/accounts/{account}/"
            "ai-gateway/...; see docs/local-gateway.md."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8787, help="port (0 picks a free one)")
    parser.add_argument(
        "--db", default=".aigateway/gateway.db", help="SQLite file for gateways and logs"
    )
    parser.add_argument(
        "--api-token",
        default=None,
        help=(
            "the API token clients must send (default: $AIGATEWAY_API_TOKEN, which is safer: "
            "a flag's value is visible to other users in `ps`; none = any)"
        ),
    )
    parser.add_argument("--config", default=None, help="TOML file with [[upstreams]] routes")
    parser.add_argument(
        "--account-id", default="local", help="account id shown in the startup message"
    )
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="built-in model: delay before the reply"
    )
    parser.add_argument(
        "--log-durability",
        choices=("commit", "background"),
        default="commit",
        help="commit each log before answering (default) or in the background",
    )
    parser.add_argument(
        "--allow-unknown-models",
        action="store_true",
        help="let the built-in model answer any @cf/... id (default: an id missing from "
        "`aigateway models` is refused with Workers AI's 'No such model' error)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from aigateway_sdk.cli._output import CliError, fail
    from aigateway_sdk.local import LocalGatewayConfig, create_app, routes_from_toml
    from aigateway_sdk.local.web.connections import server_settings
    from aigateway_sdk.local.web.loopback import refuse_open_listen

    token = args.api_token or os.environ.get("AIGATEWAY_API_TOKEN") or None
    try:
        refuse_open_listen(args.host, token)
    except PermissionError as refused:
        fail(str(refused))
        return 2
    try:
        routes = routes_from_toml(args.config) if args.config else ()
    except (OSError, ValueError) as error:
        fail(f"bad --config: {error}")
        return 2
    config = LocalGatewayConfig(
        host=args.host,
        port=args.port,
        db_path=args.db,
        api_token=token,
        default_account_id=args.account_id,
        upstreams=routes,
        builtin_latency_ms=args.latency_ms,
        log_durability=args.log_durability,
        allow_unknown_models=args.allow_unknown_models,
    )
    sock = _listen(args.host, args.port)
    app = create_app(config)
    server = _server_class()(
        uvicorn.Config(app, **server_settings(config), log_level="warning"),
        banner=lambda: _banner(args, sock.getsockname()[1], token),
    )
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    if not server.started:
        cause = getattr(app.state, "startup_error", None)
        why = f"{type(cause).__name__}: {cause}" if cause is not None else "see the log above"
        raise CliError(
            f"the local gateway did not start ({why}; database {args.db})", kind="StartupError"
        )
    return 0


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything is announced: a port in use is one line."""
    from aigateway_sdk.cli._output import CliError
    from aigateway_sdk.local.server import listening_socket

    try:
        return listening_socket(host, port)
    except OSError as error:
        raise CliError(
            f"cannot listen on {host}:{port}: {error.strerror or error}", kind="StartupError"
        ) from error


def _banner(args: argparse.Namespace, port: int, token: str | None) -> None:
    host = f"[{args.host}]" if ":" in args.host else args.host
    base = f"http://{host}:{port}"
    lines = [
        f"AI Gateway (local) on {base}",
        f"  data plane:    {base}/v1/{args.account_id}/default/workers-ai/@cf/...",
        f"  control plane: {base}/client/v4/accounts/{args.account_id}/ai-gateway",
        f"  database:      {args.db}",
    ]
    if token is None:
        lines.append(
            "  no API token: any bearer token (or Cloudflare credential header) is accepted"
        )
    print("\n".join(lines), file=sys.stderr, flush=True)


def _server_class() -> type[Any]:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, announcing itself once it accepts connections (not before: a
        failed start prints no banner). Startup errors are left to `run` (one line)."""

        def __init__(self, config: uvicorn.Config, banner: Callable[[], None]) -> None:
            super().__init__(config)
            self._banner = banner

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            error_log = logging.getLogger("uvicorn.error")
            level = error_log.level
            if not debugging():  # a failed lifespan logs a traceback: `run` says it in one line
                error_log.setLevel(logging.CRITICAL)
            try:
                await super().startup(sockets=sockets)
            except SystemExit:  # recent uvicorn exits on a failed lifespan; `run` reports it
                self.should_exit = True
            finally:
                error_log.setLevel(level)
            if self.started:
                self._banner()

    return Server
