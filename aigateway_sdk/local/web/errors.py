"""Cloudflare-shaped replies: the `{"success", "errors", "messages", "result"}` envelope.

Codes marked "seen" come from Cloudflare; the others are this gateway's own choice (Cloudflare
does not document numeric codes for them) and are listed in docs/local-gateway.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from starlette.responses import Response

from aigateway_sdk._json import dumps
from aigateway_sdk.errors import GATEWAY_UNAUTHORIZED_CODE
from aigateway_sdk.validation import FieldError

JSON = "application/json"

# seen at Cloudflare
CODE_RATE_LIMITED = 2003
CODE_UNAUTHORIZED = GATEWAY_UNAUTHORIZED_CODE  # the SDK reads it to name the refused token
CODE_AUTH_ERROR = 10000  # api.cloudflare.com: bad or missing API token
CODE_NO_ROUTE = 7000  # api.cloudflare.com: "No route for that URI"
CODE_METHOD_NOT_ALLOWED = 7001
# this gateway's own
CODE_NOT_FOUND = 7002
CODE_INVALID = 7400
CODE_BAD_JSON = 7401
CODE_ALREADY_EXISTS = 7409
CODE_TOO_MANY_GATEWAYS = 7410
CODE_TOO_LARGE = 7413
CODE_REQUEST_TIMEOUT = 7408
CODE_TOO_MANY_CONNECTIONS = 7503
CODE_UPSTREAM = 2005
CODE_TIMEOUT = 2006
CODE_INTERNAL = 2000


_NOT_FOUND_ECHO = 200
"""The characters of a 404's subject (with the id it quotes) kept in its message (ours)."""


@attrs.frozen(slots=True)
class ErrorItem:
    code: int
    message: str
    path: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        item: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.path is not None:
            item["path"] = list(self.path)
        return item


class ApiError(Exception):
    """Raised anywhere in a handler; the app turns it into an error envelope."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        path: tuple[str, ...] | None = None,
        items: Sequence[ErrorItem] = (),
        headers: Mapping[str, str] | None = None,
        raw: bytes | None = None,
    ) -> None:
        super().__init__(message)
        self.raw = raw
        self.status = status
        self.items: tuple[ErrorItem, ...] = tuple(items) or (ErrorItem(code, message, path),)
        self.headers = dict(headers or {})

    @classmethod
    def invalid(cls, errors: Sequence[FieldError]) -> ApiError:
        items = [
            ErrorItem(CODE_INVALID, f"{e.path[-1] if e.path else 'body'} {e.message}", e.path)
            for e in errors
        ]
        return cls(400, CODE_INVALID, items[0].message, items=items)

    @classmethod
    def bad_json(cls, detail: str = "Malformed JSON in request body") -> ApiError:
        return cls(400, CODE_BAD_JSON, detail)

    @classmethod
    def not_found(cls, what: str) -> ApiError:
        """`what` names the thing, quoting the caller's id: a long one is cut (ids come from
        the URL, which may be tens of kilobytes long)."""
        if len(what) > _NOT_FOUND_ECHO:
            what = f"{what[:_NOT_FOUND_ECHO]}..."
        return cls(404, CODE_NOT_FOUND, f"{what} not found")

    def body(self) -> bytes:
        return self.raw if self.raw is not None else error_body(self.items)

    def response(self, extra_headers: Mapping[str, str] | None = None) -> Response:
        headers = dict(self.headers)
        if extra_headers:
            headers.update(extra_headers)
        return Response(self.body(), status_code=self.status, media_type=JSON, headers=headers)


def error_body(items: Sequence[ErrorItem]) -> bytes:
    return dumps(
        {
            "success": False,
            "errors": [item.to_json() for item in items],
            "messages": [],
            "result": None,
        }
    )


def ok_body(result: Any, result_info: Mapping[str, Any] | None = None) -> bytes:
    envelope: dict[str, Any] = {"success": True, "errors": [], "messages": [], "result": result}
    if result_info is not None:
        envelope["result_info"] = dict(result_info)
    return dumps(envelope)


def ok(result: Any, result_info: Mapping[str, Any] | None = None, status: int = 200) -> Response:
    return Response(ok_body(result, result_info), status_code=status, media_type=JSON)


def gateway_unauthorized() -> ApiError:
    return ApiError(401, CODE_UNAUTHORIZED, "Unauthorized", raw=gateway_unauthorized_body())


def rate_limited(retry_after: int) -> ApiError:
    return ApiError(
        429,
        CODE_RATE_LIMITED,
        "Rate limited",
        headers={"retry-after": str(retry_after)},
        raw=rate_limited_body(),
    )


def gateway_unauthorized_body() -> bytes:
    """The data plane's 401 for a gateway with `authentication: true` (note `error`, singular)."""
    return dumps(
        {
            "success": False,
            "result": [],
            "messages": [],
            "error": [{"code": CODE_UNAUTHORIZED, "message": "Unauthorized"}],
            "name": "AiGatewayError",
            "httpCode": 401,
            "internalCode": CODE_UNAUTHORIZED,
        }
    )


def rate_limited_body() -> bytes:
    return dumps(
        {
            "success": False,
            "result": [],
            "messages": [],
            "errors": [{"code": CODE_RATE_LIMITED, "message": "Rate limited"}],
        }
    )


__all__ = [
    "JSON",
    "ApiError",
    "ErrorItem",
    "error_body",
    "gateway_unauthorized",
    "gateway_unauthorized_body",
    "ok",
    "ok_body",
    "rate_limited",
    "rate_limited_body",
]
