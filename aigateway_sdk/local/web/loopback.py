"""Whether a host to listen on is loopback-only: beyond it, the local gateway needs a token."""

from __future__ import annotations

import ipaddress

LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def refuse_open_listen(host: str, api_token: str | None) -> None:
    """Raise `PermissionError` for a non-loopback `host` without an API token."""
    if api_token is None and not is_loopback(host):
        raise PermissionError(
            f"refusing to listen on {host} without an API token "
            "(set api_token, or --api-token / AIGATEWAY_API_TOKEN)"
        )
