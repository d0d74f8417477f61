"""Bearer-token checks: the control plane's API token, a gateway's `cf-aig-authorization`,
and Workers AI's provider `Authorization`. Constant-time comparisons."""

from __future__ import annotations

import hmac


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


__all__ = ["TokenCheck", "bearer_token", "secret_repr"]
