"""The example agent service (examples/agent.py): its tools' handlers come from the container.

Against the local gateway, whose built-in model calls the tool a question names with the
question's `name=value` pairs and then answers with the results: the handler runs on the
repository the container provides, streamed and not, and /extract returns a typed value. With
the container: one handler overridden without touching the model, and the model overridden
(a scripted fake) without any gateway. Bad input is a 400; a failed call a JSON error.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
from dependency_injector import providers

from aigateway_sdk import AiError, RateLimited, Schema, ToolCall
from aigateway_sdk.local import LocalGateway, LocalGatewayConfig
from aigateway_sdk.testing import FakeLanguageModel, override_model, tool_calls_reply
from examples.agent import (
    MAX_CHARS,
    MAX_STEPS,
    SAMPLE_ORDERS,
    Container,
    Gateway,
    OrderRequest,
    create_app,
)

pytestmark = pytest.mark.anyio

ACCOUNT = "acct-agent"
TOKEN = "agent-token"
BOTH = pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
ADA = attrs.asdict(SAMPLE_ORDERS[0])  # A-1001, shipped
GRACE = attrs.asdict(SAMPLE_ORDERS[1])  # A-1002, open


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalGateway]:
    db = Path(tmp_path_factory.mktemp("agent")) / "gw.db"
    with LocalGateway(LocalGatewayConfig(db_path=db, api_token=TOKEN)) as gw:
        # What `aigateway gateways apply examples.agent:Gateway` does: the service does not.
        reply = httpx.post(
            f"{gw.api_url}/accounts/{ACCOUNT}/ai-gateway/gateways",
            json=Gateway.create_json(),
            headers={"authorization": f"Bearer {TOKEN}"},
        )
        assert reply.status_code == 200, reply.text
        yield gw


def client_for(container: Container) -> httpx.AsyncClient:
    app = create_app(container)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")


@pytest.fixture
async def served(gateway: LocalGateway) -> AsyncIterator[tuple[Container, httpx.AsyncClient]]:
    """The service on a fresh container, its model the local gateway's."""
    container = Container()
    container.config.from_dict(
        {"account_id": ACCOUNT, "api_token": TOKEN, "base_url": gateway.data_url}
    )
    async with client_for(container) as client:
        yield container, client
    await container.ai_gateway().aclose()  # the app's lifespan would (ASGITransport skips it)


def offline() -> tuple[Container, httpx.AsyncClient]:
    """The service on a container whose binding is never built (the model is overridden)."""
    container = Container()
    container.config.from_dict({"account_id": "acct", "api_token": "tok"})
    return container, client_for(container)


def events_of(reply: httpx.Response) -> list[dict[str, Any]]:
    assert reply.headers["content-type"].startswith("text/event-stream")
    return [json.loads(line[6:]) for line in reply.text.split("\n") if line.startswith("data: ")]


# -- against the local gateway ------------------------------------------------------------------


@BOTH
async def test_a_question_naming_a_tool_runs_its_handler_and_the_answer_uses_the_result(
    served: tuple[Container, httpx.AsyncClient],
) -> None:
    container, client = served
    reply = await client.post("/ask", json={"question": "Use get_order for order_id=A-1001."})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert container.orders().requests == [("get", "A-1001")]
    first, last = body["steps"]
    (call,) = first["toolCalls"]
    assert (call["name"], call["arguments"]) == ("get_order", {"order_id": "A-1001"})
    (result,) = first["toolResults"]
    assert result["id"] == call["id"]
    assert json.loads(result["content"]) == ADA
    assert result["isError"] is False
    # The built-in model answers with the results: "Tool results: get_order returned {...}."
    assert body["answer"] == last["text"]
    assert body["answer"].startswith("Tool results: get_order returned {")
    assert '"customer":"Ada"' in body["answer"]
    assert '"status":"shipped"' in body["answer"]
    assert body["finishReason"] == "stop"
    assert body["usage"]["inputTokens"] > 0
    assert body["usage"]["outputTokens"] > 0


async def test_the_bound_method_handler_changes_the_repository_and_a_refusal_reaches_the_model(
    served: tuple[Container, httpx.AsyncClient],
) -> None:
    container, client = served
    question = "Please cancel_order order_id=A-1002 reason=moved"
    first = (await client.post("/ask", json={"question": question})).json()
    (call,) = first["steps"][0]["toolCalls"]
    assert call["arguments"] == {"order_id": "A-1002", "reason": "moved"}
    assert json.loads(first["steps"][0]["toolResults"][0]["content"])["status"] == "cancelled"
    assert '"status":"cancelled"' in first["answer"]

    # The handler's ToolError is sent to the model (on_tool_error="return"), not a 5xx.
    again = await client.post("/ask", json={"question": question})
    assert again.status_code == 200
    (result,) = again.json()["steps"][0]["toolResults"]
    assert result["isError"] is True
    assert "order A-1002 is cancelled" in result["content"]
    assert "only open orders can be cancelled" in again.json()["answer"]
    assert container.orders().requests == [("cancel", "A-1002"), ("cancel", "A-1002")]


async def test_an_unknown_order_is_an_error_result_the_model_answers_with(
    served: tuple[Container, httpx.AsyncClient],
) -> None:
    container, client = served
    reply = await client.post("/ask", json={"question": "get_order order_id=Z-9"})
    assert reply.status_code == 200
    assert reply.json()["answer"] == "Tool results: get_order returned Error: no order 'Z-9'."
    assert container.orders().requests == [("get", "Z-9")]


@BOTH
async def test_the_stream_shows_the_tool_call_then_its_result_then_the_answer(
    served: tuple[Container, httpx.AsyncClient],
) -> None:
    container, client = served
    reply = await client.post("/ask/stream", json={"question": "Use get_order for order_id=A-1001"})
    assert reply.status_code == 200
    events = events_of(reply)
    types = [e["type"] for e in events]
    assert "error" not in types
    call = events[types.index("tool-call")]
    result = events[types.index("tool-result")]
    assert (call["name"], call["params"]) == ("get_order", {"order_id": "A-1001"})
    assert result["id"] == call["id"]
    assert result["isFailure"] is False
    assert json.loads(result["result"]) == ADA
    # Two model calls (two metadata parts): the call, its result, then the streamed answer.
    starts = [i for i, t in enumerate(types) if t == "response-metadata"]
    assert len(starts) == 2
    assert types.index("tool-call") < types.index("tool-result") < starts[1]
    answer = "".join(e["delta"] for e in events[starts[1] :] if e["type"] == "text-delta")
    assert answer.startswith("Tool results: get_order returned")
    assert '"customer":"Ada"' in answer
    assert types[-1] == "finish"
    assert container.orders().requests == [("get", "A-1001")]


@BOTH
async def test_extract_returns_a_value_valid_for_the_class(
    served: tuple[Container, httpx.AsyncClient],
) -> None:
    _, client = served
    given = await client.post(
        "/extract", json={"text": "New order: customer=Ada item=teapot quantity=3"}
    )
    assert given.status_code == 200, given.text
    assert given.json()["order"] == {"customer": "Ada", "item": "teapot", "quantity": 3}
    assert given.json()["attempts"] == 1

    # Nothing to take from the text: the model still answers a value of the schema.
    free = (await client.post("/extract", json={"text": "Some tea, please."})).json()["order"]
    value = Schema.of(OrderRequest).decode(free)
    assert isinstance(value, OrderRequest)
    assert 1 <= value.quantity <= 100


# -- with the container -------------------------------------------------------------------------


async def test_overriding_one_handler_leaves_the_model_and_the_other_handlers(
    served: tuple[Container, httpx.AsyncClient],
) -> None:
    container, client = served
    seen: list[str] = []

    async def fake_get_order(order_id: str) -> dict[str, str]:
        seen.append(order_id)
        return {"id": order_id, "status": "lost in the post"}

    with container.get_order_handler.override(providers.Object(fake_get_order)):
        faked = await client.post("/ask", json={"question": "get_order order_id=A-1001"})
        cancelled = await client.post(
            "/ask", json={"question": "cancel_order order_id=A-1002 reason=x"}
        )
    assert seen == ["A-1001"]
    assert '"status":"lost in the post"' in faked.json()["answer"]  # the real model read it
    assert '"status":"cancelled"' in cancelled.json()["answer"]  # the other handler is real
    assert container.orders().requests == [("cancel", "A-1002")]

    real = await client.post("/ask", json={"question": "get_order order_id=A-1001"})
    assert '"customer":"Ada"' in real.json()["answer"]
    assert seen == ["A-1001"]


@BOTH
async def test_the_overridden_model_runs_the_real_handlers_without_any_gateway() -> None:
    container, client = offline()
    call = ToolCall.of("c1", "get_order", {"order_id": "A-1002"})
    fake = FakeLanguageModel(script=[tool_calls_reply(call), "Grace ordered one kettle."])
    with override_model(container.language_model, fake):
        reply = await client.post("/ask", json={"question": "What did Grace order?"})
    assert reply.status_code == 200
    body = reply.json()
    assert body["answer"] == "Grace ordered one kettle."
    assert [s["toolCalls"] for s in body["steps"]] == [
        [{"id": "c1", "name": "get_order", "arguments": {"order_id": "A-1002"}}],
        [],
    ]
    assert container.orders().requests == [("get", "A-1002")]
    assert len(fake.calls) == 2
    offered = fake.calls[0].tools
    assert offered is not None
    assert [d.name for d in offered.definitions] == ["get_order", "cancel_order"]
    assert "orders" not in offered.definitions[0].parameters["properties"]  # injected
    tool_message = fake.calls[1].prompt[-1]
    assert tool_message.role == "tool"
    assert json.loads(tool_message.text) == GRACE


async def test_the_stream_with_an_overridden_model_carries_the_tool_parts() -> None:
    container, client = offline()
    call = ToolCall.of("c1", "cancel_order", {"order_id": "A-1001", "reason": "late"})
    fake = FakeLanguageModel(script=[tool_calls_reply(call), "It had already shipped."])
    with override_model(container.language_model, fake):
        reply = await client.post("/ask/stream", json={"question": "Cancel A-1001"})
    events = events_of(reply)
    (result,) = [e for e in events if e["type"] == "tool-result"]
    assert result["isFailure"] is True
    assert result["result"] == "Error: order A-1001 is shipped; only open orders can be cancelled"
    assert [e["name"] for e in events if e["type"] == "tool-call"] == ["cancel_order"]
    text = "".join(e["delta"] for e in events if e["type"] == "text-delta")
    assert text == "It had already shipped."


async def test_a_model_that_never_stops_calling_tools_is_a_502_after_max_steps() -> None:
    container, client = offline()
    call = ToolCall.of("c1", "get_order", {"order_id": "A-1001"})
    fake = FakeLanguageModel(script=[tool_calls_reply(call)])  # the last entry repeats
    with override_model(container.language_model, fake):
        reply = await client.post("/ask", json={"question": "Loop"})
    assert reply.status_code == 502
    assert reply.json()["reason"] == "MaxStepsExceeded"
    assert len(fake.calls) == MAX_STEPS
    assert len(container.orders().requests) == MAX_STEPS - 1  # the last step's calls never ran


@pytest.mark.parametrize("route", ["/ask", "/extract"])
async def test_a_rate_limited_call_is_a_429_naming_the_reason(route: str) -> None:
    container, client = offline()
    error = AiError(RateLimited(message="Rate limited", status=429, retry_after=3))
    with override_model(container.language_model, FakeLanguageModel(error=error)):
        field = "question" if route == "/ask" else "text"
        reply = await client.post(route, json={field: "hi"})
    assert reply.status_code == 429
    assert reply.json() == {"error": "Rate limited", "reason": "RateLimited"}
    assert reply.headers["retry-after"] == "3"


async def test_extract_repairs_a_reply_outside_the_schema_once_then_fails() -> None:
    container, client = offline()
    bad = '{"customer": "Ada", "item": "tea", "quantity": 0}'
    good = '{"customer": "Ada", "item": "tea", "quantity": 2}'
    with override_model(container.language_model, FakeLanguageModel(script=[bad, good])):
        repaired = await client.post("/extract", json={"text": "Ada wants tea"})
    assert repaired.json()["order"] == {"customer": "Ada", "item": "tea", "quantity": 2}
    assert repaired.json()["attempts"] == 2

    with override_model(container.language_model, FakeLanguageModel(bad)):
        failed = await client.post("/extract", json={"text": "Ada wants tea"})
    assert failed.status_code == 502
    assert failed.json()["reason"] == "InvalidOutput"


# -- bad input ----------------------------------------------------------------------------------


BAD_BODIES = [
    pytest.param(b"{broken", id="not-json"),
    pytest.param(b"\xff\xfe", id="not-utf8"),
    pytest.param(b'["a list"]', id="not-an-object"),
    pytest.param(b"{}", id="missing"),
    pytest.param(b'{"FIELD": 42}', id="not-a-string"),
    pytest.param(b'{"FIELD": "   "}', id="blank"),
    pytest.param(b'{"FIELD": "' + b"x" * (MAX_CHARS + 1) + b'"}', id="too-long"),
]


@pytest.mark.parametrize(
    ("route", "field"),
    [("/ask", "question"), ("/ask/stream", "question"), ("/extract", "text")],
)
@pytest.mark.parametrize("body", BAD_BODIES)
async def test_bad_input_is_a_400_naming_the_field(route: str, field: str, body: bytes) -> None:
    container, client = offline()
    fake = FakeLanguageModel("unused")
    with override_model(container.language_model, fake):
        reply = await client.post(route, content=body.replace(b"FIELD", field.encode()))
    assert reply.status_code == 400
    assert field in reply.json()["error"]
    assert fake.calls == []
    assert container.orders().requests == []
