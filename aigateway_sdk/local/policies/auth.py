"""Token checks: the control plane's API token (as a bearer token or one of Cloudflare's legacy
credential headers), a gateway's `cf-aig-authorization`, and Workers AI's provider
`Authorization`. Constant-time comparisons; secrets are never logged or echoed."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

LEGACY_KEY = "x-auth-key"
LEGACY_EMAIL = "x-auth-email"
SERVICE_KEY = "x-auth-user-service-key"
"""Cloudflare's credential headers besides `Authorization: Bearer`: the legacy global API key
(`X-Auth-Email` + `X-Auth-Key`) and the Origin CA key (`X-Auth-User-Service-Key`), see
https://developers.cloudflare.com/fundamentals/api/get-started/keys/ and
https://developers.cloudflare.com/fundamentals/api/get-started/ca-keys/."""


def secret_repr(value: object) -> str:
    """How a secret field shows in a repr: `***` when set (as the SDK's reprs do), else None."""
    return "***" if value else "None"


def bearer_token(header: str | None) -> str | None:
    """The token of `Bearer <token>`, or None when the header is missing or another scheme."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = token.strip()
    return token or None


class TokenCheck:
    """Accepts `Bearer <api_token>`; with no api token configured, any bearer token."""

    __slots__ = ("_expected",)

    def __init__(self, api_token: str | None) -> None:
        self._expected = api_token.encode() if api_token is not None else None

    @property
    def open(self) -> bool:
        return self._expected is None

    def accepts(self, header: str | None) -> bool:
        token = bearer_token(header)
        if token is None:
            return False
        if self._expected is None:
            return True
        return hmac.compare_digest(token.encode(), self._expected)

    def accepts_api(self, headers: Mapping[str, str]) -> bool:
        """The control plane's check, as api.cloudflare.com takes credentials.

        With no api token configured, any of Cloudflare's credential headers is accepted with
        its value unchecked (`Authorization: Bearer`, `X-Auth-Key`, `X-Auth-Email` alone, as some
        generated clients send it, or `X-Auth-User-Service-Key`). With one, the bearer token,
        `X-Auth-Key` beside an `X-Auth-Email` (the pair Cloudflare's legacy API key needs; the
        email's value is not checked) or `X-Auth-User-Service-Key` must equal it."""
        if self.accepts(headers.get("authorization")):
            return True
        email = headers.get(LEGACY_EMAIL)
        keys = [headers.get(LEGACY_KEY), headers.get(SERVICE_KEY)]
        if self._expected is None:
            return any(keys) or bool(email)
        expected = self._expected
        # Both compared, so the time taken does not tell which header was checked.
        matches = [hmac.compare_digest((key or "").encode(), expected) for key in keys]
        legacy = matches[0] and bool(keys[0]) and bool(email)  # a key alone is not the pair
        return legacy or (matches[1] and bool(keys[1]))


__all__ = [
    "LEGACY_EMAIL",
    "LEGACY_KEY",
    "SERVICE_KEY",
    "TokenCheck",
    "bearer_token",
    "secret_repr",
]
