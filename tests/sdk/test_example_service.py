"""The example Starlette service answers as the Worker does, with the model swapped by override."""

from __future__ import annotations

import json

import httpx
import pytest
from dependency_injector import providers

from aigateway_sdk import AiError, RateLimited
from aigateway_sdk.testing import FakeLanguageModel, override_model
from examples.service import Container, create_app

pytestmark = pytest.mark.anyio


def make_app() -> tuple[Container, httpx.AsyncClient]:
    container = Container()
    container.config.from_dict({"account_id": "acct", "api_token": "tok"})
    app = create_app(container)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")
    return container, client


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_json_route_returns_text_and_usage() -> None:
    container, client = make_app()
    fake = FakeLanguageModel(text="Hello from the fake")
    with override_model(container.language_model, fake):
        reply = await client.get("/")
    assert reply.status_code == 200
    assert reply.json() == {
        "text": "Hello from the fake",
        "usage": {"inputTokens": 2, "outputTokens": 4},
    }
    assert fake.calls[0].prompt[0].content == "Say hello."


async def test_stream_route_sends_sse_parts() -> None:
    container, client = make_app()
    with override_model(container.language_model, FakeLanguageModel(text="one two three")):
        reply = await client.post("/stream", json={"prompt": "count"})
    assert reply.headers["content-type"].startswith("text/event-stream")
    events = [json.loads(line[6:]) for line in reply.text.split("\n") if line.startswith("data: ")]
    assert [e["type"] for e in events] == [
        "response-metadata",
        "text-start",
        "text-delta",
        "text-delta",
        "text-delta",
        "text-end",
        "finish",
    ]
    assert "".join(e["delta"] for e in events if e["type"] == "text-delta") == "one two three"


async def test_or_die_makes_a_failed_call_a_500() -> None:
    container, _ = make_app()
    app = create_app(container)
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://svc"
    )
    error = AiError(RateLimited(message="Rate limited", status=429))
    with container.language_model.override(providers.Object(FakeLanguageModel(error=error))):
        reply = await client.get("/")
    assert reply.status_code == 500


async def test_stream_failure_mid_way_ends_with_an_error_event() -> None:
    container, client = make_app()
    from aigateway_sdk.testing import text_parts

    parts = text_parts("a b")[:3]
    error = AiError(RateLimited(message="slow", status=429))
    fake = FakeLanguageModel(script=[[*parts, error]])
    with override_model(container.language_model, fake):
        reply = await client.post("/stream", json={"prompt": "x"})
    assert "event: error" in reply.text
    assert '"reason":"RateLimited"' in reply.text


async def test_bad_body_is_a_400() -> None:
    _, client = make_app()
    assert (await client.post("/stream", json={"nope": 1})).status_code == 400


async def test_stream_route_rejects_a_body_that_is_not_json() -> None:
    container, client = make_app()
    fake = FakeLanguageModel(text="unused")
    with override_model(container.language_model, fake):
        reply = await client.post("/stream", content=b"{broken")
    assert reply.status_code == 400
    assert "prompt" in reply.json()["error"]
    assert fake.calls == []
