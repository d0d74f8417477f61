"""A Starlette service mirroring the Worker in alchemy's AiGateway docs.

    GET  /        -> {"text": ..., "usage": {"inputTokens": ..., "outputTokens": ...}}
    POST /stream  -> text/event-stream of the model's stream parts ({"prompt": "..."} body)

Run it against the local gateway (apply the gateway first: the service does not create it):

    aigateway serve --port 8787 &
    aigateway gateways apply examples.service:Gateway --account-id local --api-token dev \
        --base-url http://127.0.0.1:8787/client/v4
    CLOUDFLARE_ACCOUNT_ID=local CLOUDFLARE_API_TOKEN=dev \
    AIGATEWAY_BASE_URL=http://127.0.0.1:8787/v1 uvicorn examples.service:app
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from dependency_injector import containers, providers
from dependency_injector.wiring import Provide, inject
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from aigateway_sdk import (
    SSE_HEADERS,
    AiGateway,
    AiGatewayBinding,
    LanguageModel,
    ModelParameters,
    sse_encode,
)

Gateway = AiGateway(
    "Gateway",
    id="prod-gateway",
    cache_ttl=300,
    cache_invalidate_on_update=True,
    rate_limiting_interval=60,
    rate_limiting_limit=100,
    rate_limiting_technique="sliding",
    collect_logs=True,
)


class Container(containers.DeclarativeContainer):
    config = providers.Configuration()
    ai_gateway = AiGatewayBinding(
        Gateway,
        account_id=config.account_id,
        api_token=config.api_token,
        gateway_token=config.gateway_token,
        base_url=config.base_url,
    )
    language_model = ai_gateway.model(
        model="@cf/meta/llama-3.1-8b-instruct",
        parameters=ModelParameters(temperature=0.7, max_tokens=1024),
    )


@inject
async def hello(
    request: Request, lm: LanguageModel = Provide[Container.language_model]
) -> JSONResponse:
    response = await lm.generate_text(prompt="Say hello.").or_die()
    return JSONResponse(
        {
            "text": response.text,
            "usage": {
                "inputTokens": response.usage.input_tokens.total,
                "outputTokens": response.usage.output_tokens.total,
            },
        }
    )


@inject
async def stream(
    request: Request, lm: LanguageModel = Provide[Container.language_model]
) -> StreamingResponse:
    try:
        body: Any = await request.json()
    except ValueError:  # not JSON, or not UTF-8
        body = None
    prompt = body.get("prompt") if isinstance(body, dict) else None
    if not isinstance(prompt, str) or not prompt:
        return JSONResponse({"error": 'body must be {"prompt": "..."}'}, status_code=400)  # type: ignore[return-value]
    return StreamingResponse(
        sse_encode(lm.stream_text(prompt=prompt).or_die()), headers=SSE_HEADERS
    )


def create_app(container: Container | None = None) -> Starlette:
    container = container or Container()
    if container.config.account_id() is None:
        container.config.from_dict(
            {
                "account_id": os.environ.get("CLOUDFLARE_ACCOUNT_ID"),
                "api_token": os.environ.get("CLOUDFLARE_API_TOKEN"),
                "gateway_token": os.environ.get("CLOUDFLARE_GATEWAY_TOKEN"),
                "base_url": os.environ.get("AIGATEWAY_BASE_URL"),
            }
        )
    container.wire(modules=[__name__])

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await container.ai_gateway().aclose()

    app = Starlette(
        routes=[Route("/", hello), Route("/stream", stream, methods=["POST"])],
        lifespan=lifespan,
    )
    app.state.container = container
    return app


def __getattr__(name: str) -> Starlette:  # `uvicorn examples.service:app`
    if name == "app":
        return create_app()
    raise AttributeError(name)
