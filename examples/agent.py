"""An agent-style Starlette service: the model calls tools whose handlers come from the container.

    POST /ask         {"question": "..."} -> {"answer", "finishReason", "steps", "usage"}
    POST /ask/stream  {"question": "..."} -> text/event-stream of the tool loop's parts
                                            (tool-call and tool-result parts included)
    POST /extract     {"text": "..."}     -> {"order": {"customer", "item", "quantity"}, ...}

The tools look up and cancel orders in an in-memory `OrderRepository` that the container
provides. Each tool's handler is a provider of its own (`Container.get_order_handler`,
`Container.cancel_order_handler`), and `Container.toolkit` is built with `Toolkit.provider`, so a
test swaps one handler without touching the model (or the model without touching the handlers):

    container.get_order_handler.override(providers.Object(fake_get_order))
    with override_model(container.language_model, FakeLanguageModel(script=[...])): ...

Two ways to give a handler its dependency: `get_order` is a function whose `orders` parameter is
marked `Annotated[OrderRepository, Injected]` (left out of the schema the model sees; the
container binds it with `functools.partial`), and `cancel_order`'s handler is the repository's
bound method (`orders.provided.cancel`).

Bad input is a 400 naming the field; a failed model call (`AiError`) is a JSON error with the
reason's tag: 429 when rate limited, 504 on a timeout, 502 otherwise. A failed tool is not an
error of the service: its message goes back to the model (`on_tool_error="return"`), which
answers with it.

Run it against the local gateway, whose built-in model calls a tool named in the question with
the `name=value` pairs it gives (see docs/local-gateway.md):

    aigateway serve --port 8787 &
    aigateway gateways apply examples.agent:Gateway --account-id local --api-token dev \
        --base-url http://127.0.0.1:8787/client/v4
    CLOUDFLARE_ACCOUNT_ID=local CLOUDFLARE_API_TOKEN=dev \
    AIGATEWAY_BASE_URL=http://127.0.0.1:8787/v1 uvicorn examples.agent:app
    curl -s localhost:8000/ask -d '{"question": "Use get_order for order_id=A-1001"}'
"""

from __future__ import annotations

import functools
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

import attrs
from dependency_injector import containers, providers
from dependency_injector.wiring import Provide, inject
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from aigateway_sdk import (
    SSE_HEADERS,
    AiError,
    AiGateway,
    AiGatewayBinding,
    Constraints,
    Injected,
    LanguageModel,
    ModelParameters,
    RateLimited,
    Reason,
    Step,
    Timeout,
    Tool,
    ToolCall,
    ToolError,
    Toolkit,
    ToolResult,
    Usage,
    sse_encode,
    tool,
)

Gateway = AiGateway("AgentGateway", id="agent-gateway", collect_logs=True)

MAX_STEPS = 4
"""Model calls per question at most: tool calls, then an answer."""
TOOL_TIMEOUT = 10.0
"""Seconds a handler may take before its call fails (and the model is told so)."""
MAX_CHARS = 4000
"""The longest question or text the service takes."""


# -- the domain: orders in memory --------------------------------------------------------------


@attrs.frozen(slots=True)
class Order:
    id: str
    customer: str
    item: str
    quantity: int
    status: Literal["open", "shipped", "cancelled"]


@attrs.frozen(slots=True)
class CancelOrder:
    """Cancel an open order."""

    order_id: str = attrs.field(metadata={"description": "The order's id, e.g. A-1002."})
    reason: str = attrs.field(metadata={"description": "Why the customer cancels."})


SAMPLE_ORDERS = (
    Order("A-1001", "Ada", "teapot", 2, "shipped"),
    Order("A-1002", "Grace", "kettle", 1, "open"),
)


class OrderRepository:
    """Orders by id, in memory; `requests` records what the tools asked of it."""

    def __init__(self, orders: tuple[Order, ...] = SAMPLE_ORDERS) -> None:
        self._orders = {order.id: order for order in orders}
        self.requests: list[tuple[str, str]] = []

    async def get(self, order_id: str) -> Order | None:
        self.requests.append(("get", order_id))
        return self._orders.get(order_id)

    async def cancel(self, request: CancelOrder) -> Order:
        """The `cancel_order` tool's handler (a bound method provided by the container)."""
        self.requests.append(("cancel", request.order_id))
        order = self._orders.get(request.order_id)
        if order is None:
            raise ToolError(f"no order {request.order_id!r}")
        if order.status != "open":
            raise ToolError(
                f"order {order.id} is {order.status}; only open orders can be cancelled"
            )
        cancelled = self._orders[order.id] = attrs.evolve(order, status="cancelled")
        return cancelled


# -- the tools ---------------------------------------------------------------------------------


async def get_order(order_id: str, orders: Annotated[OrderRepository, Injected]) -> Order:
    """Look up an order: its customer, item, quantity and status.

    Args:
        order_id: The order's id, e.g. A-1001.
    """
    order = await orders.get(order_id)
    if order is None:
        raise ToolError(f"no order {order_id!r}")  # the model is told, and answers with it
    return order


TOOLKIT = Toolkit(tool(get_order), Tool("cancel_order", parameters=CancelOrder))


# -- structured output -------------------------------------------------------------------------


@attrs.frozen(slots=True)
class OrderRequest:
    """An order a customer asks for."""

    customer: str
    item: str
    quantity: Annotated[int, Constraints(minimum=1, maximum=100)]


# -- the container -----------------------------------------------------------------------------


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
        parameters=ModelParameters(temperature=0.2, max_tokens=512),
    )
    orders = providers.Singleton(OrderRepository)
    # One provider per handler: override one, and the next toolkit asked for uses it.
    get_order_handler = providers.Factory(functools.partial, get_order, orders=orders)
    cancel_order_handler = orders.provided.cancel
    toolkit = TOOLKIT.provider(get_order=get_order_handler, cancel_order=cancel_order_handler)


# -- HTTP --------------------------------------------------------------------------------------


class BadInput(Exception):
    """The request body is not what the route takes (a 400)."""


async def text_field(request: Request, name: str) -> str:
    """The body's `name` field: a non-blank string of at most MAX_CHARS characters."""
    try:
        body: Any = await request.json()
    except ValueError:  # not JSON, or not UTF-8
        body = None
    value = body.get(name) if isinstance(body, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise BadInput(f'body must be {{"{name}": "<text>"}} with a non-blank {name}')
    if len(value) > MAX_CHARS:
        raise BadInput(f"{name} is longer than {MAX_CHARS} characters")
    return value


def usage_json(usage: Usage) -> dict[str, int]:
    return {
        "inputTokens": usage.input_tokens.total,
        "outputTokens": usage.output_tokens.total,
    }


def call_json(call: ToolCall) -> dict[str, Any]:
    return {"id": call.id, "name": call.name, "arguments": call.arguments}


def result_json(result: ToolResult) -> dict[str, Any]:
    return {
        "id": result.call_id,
        "name": result.name,
        "content": result.content,
        "isError": result.is_error,
    }


def step_json(step: Step) -> dict[str, Any]:
    return {
        "text": step.text,
        "toolCalls": [call_json(c) for c in step.tool_calls],
        "toolResults": [result_json(r) for r in step.tool_results],
        "finishReason": step.finish_reason,
    }


@inject
async def ask(
    request: Request,
    lm: LanguageModel = Provide[Container.language_model],
    toolkit: Toolkit = Provide[Container.toolkit],
) -> JSONResponse:
    question = await text_field(request, "question")
    response = await lm.generate_text(
        question,
        toolkit=toolkit,
        max_steps=MAX_STEPS,
        on_tool_error="return",
        tool_timeout=TOOL_TIMEOUT,
    )
    return JSONResponse(
        {
            "answer": response.text,
            "finishReason": response.finish_reason,
            "steps": [step_json(s) for s in response.steps],
            "usage": usage_json(response.usage),
        }
    )


@inject
async def ask_stream(
    request: Request,
    lm: LanguageModel = Provide[Container.language_model],
    toolkit: Toolkit = Provide[Container.toolkit],
) -> StreamingResponse:
    question = await text_field(request, "question")
    parts = lm.stream_text(
        question,
        toolkit=toolkit,
        max_steps=MAX_STEPS,
        on_tool_error="return",
        tool_timeout=TOOL_TIMEOUT,
    )
    # A failure once streaming has begun is an `event: error` frame (the status is sent).
    return StreamingResponse(sse_encode(parts), headers=SSE_HEADERS)


@inject
async def extract(
    request: Request, lm: LanguageModel = Provide[Container.language_model]
) -> JSONResponse:
    text = await text_field(request, "text")
    response = await lm.generate_object(text, schema=OrderRequest, repairs=1)
    return JSONResponse(
        {
            "order": attrs.asdict(response.value),
            "attempts": response.attempts,
            "usage": usage_json(response.usage),
        }
    )


async def bad_input(request: Request, error: Exception) -> JSONResponse:
    return JSONResponse({"error": str(error)}, status_code=400)


STATUS_BY_REASON: dict[type[Reason], int] = {RateLimited: 429, Timeout: 504}
"""The status for a failed model call, by its reason; any other reason is a 502."""


async def ai_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, AiError)
    status = STATUS_BY_REASON.get(type(error.reason), 502)
    headers: dict[str, str] = {}
    if error.retry_after is not None:
        headers["retry-after"] = str(max(1, round(error.retry_after)))
    body = {"error": error.message, "reason": error.reason.tag}
    return JSONResponse(body, status_code=status, headers=headers)


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
        routes=[
            Route("/ask", ask, methods=["POST"]),
            Route("/ask/stream", ask_stream, methods=["POST"]),
            Route("/extract", extract, methods=["POST"]),
        ],
        exception_handlers={BadInput: bad_input, AiError: ai_error},
        lifespan=lifespan,
    )
    app.state.container = container
    return app


def __getattr__(name: str) -> Starlette:  # `uvicorn examples.agent:app`
    if name == "app":
        return create_app()
    raise AttributeError(name)
