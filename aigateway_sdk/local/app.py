"""`create_app(config)`: the Starlette app with both planes, Cloudflare-shaped errors
everywhere, and a lifespan that opens the database and flushes it on shutdown."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from aigateway_sdk.local.config import LocalGatewayConfig
from aigateway_sdk.local.controlplane.gateways import ControlPlane
from aigateway_sdk.local.controlplane.logs import LogsApi
from aigateway_sdk.local.controlplane.models import ModelsApi
from aigateway_sdk.local.controlplane.routes import RoutesApi
from aigateway_sdk.local.dataplane.routes import DataPlane
from aigateway_sdk.local.state import AppState
from aigateway_sdk.local.web.errors import (
    CODE_INTERNAL,
    CODE_INVALID,
    CODE_METHOD_NOT_ALLOWED,
    CODE_NO_ROUTE,
    ApiError,
)

_log = logging.getLogger("aigateway_sdk.local")


async def _api_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        error = ApiError(404, CODE_NO_ROUTE, f"No route for {request.method} {request.url.path}")
    elif exc.status_code == 405:
        error = ApiError(
            405,
            CODE_METHOD_NOT_ALLOWED,
            f"Method {request.method} not allowed for {request.url.path}",
            headers=dict(exc.headers or {}),
        )
    else:
        error = ApiError(exc.status_code, exc.status_code, str(exc.detail))
    return error.response()


async def _crash(_request: Request, exc: Exception) -> Response:
    _log.exception("unhandled error in the local gateway", exc_info=exc)
    return ApiError(500, CODE_INTERNAL, "Internal error in the local gateway").response()


class FramingGuard:
    """A request with both `Content-Length` and `Transfer-Encoding` is refused (400) and its
    connection closed: the two could frame the body differently (request smuggling)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            names = [name for name, _ in scope["headers"]]
            if b"transfer-encoding" in names and b"content-length" in names:
                refused = ApiError(
                    400,
                    CODE_INVALID,
                    "Content-Length and Transfer-Encoding must not both be set",
                    headers={"connection": "close"},
                )
                await refused.response()(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app(config: LocalGatewayConfig | None = None) -> Starlette:
    """The local gateway as an ASGI app (serve it with uvicorn; it needs asyncio)."""
    config = config or LocalGatewayConfig()
    state = AppState(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            await state.startup()
        except Exception as error:
            app.state.startup_error = error  # LocalGateway.start() reports it
            raise
        try:
            yield
        finally:
            await state.shutdown()

    routes = [
        *DataPlane(state).routes(),
        *ControlPlane(state).routes(),
        *LogsApi(state).routes(),
        *RoutesApi(state).routes(),
        *ModelsApi(state).routes(),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(FramingGuard)],
        exception_handlers={
            ApiError: _api_error,
            HTTPException: _http_error,
            Exception: _crash,
        },
    )
    app.state.gateway = state
    return app


__all__ = ["create_app"]
