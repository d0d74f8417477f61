"""`aigateway serve`: run the local gateway in the foreground."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any


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
        help="the API token clients must send (default: $AIGATEWAY_API_TOKEN; none = any)",
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
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from aigateway_sdk.local import LocalGatewayConfig, create_app, routes_from_toml
    from aigateway_sdk.local.loopback import refuse_open_listen

    token = args.api_token or os.environ.get("AIGATEWAY_API_TOKEN") or None
    try:
        refuse_open_listen(args.host, token)
    except PermissionError as refused:
        print(f"aigateway serve: {refused}", file=sys.stderr)
        return 2
    try:
        routes = routes_from_toml(args.config) if args.config else ()
    except (OSError, ValueError) as error:
        print(f"aigateway serve: bad --config: {error}", file=sys.stderr)
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
    )
    base = f"http://{args.host}:{args.port}"
    print(f"AI Gateway (local) on {base}", file=sys.stderr)
    print(
        f"  data plane:    {base}/v1/{args.account_id}/default/workers-ai/@cf/...", file=sys.stderr
    )
    print(
        f"  control plane: {base}/client/v4/accounts/{args.account_id}/ai-gateway", file=sys.stderr
    )
    print(f"  database:      {args.db}", file=sys.stderr)
    if token is None:
        print("  no API token: any bearer token is accepted", file=sys.stderr)
    uvicorn.run(
        create_app(config),
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        loop="asyncio",
        timeout_graceful_shutdown=5,
    )
    return 0
