"""The data plane's wire shapes: Workers AI native, OpenAI-compatible, streaming, Universal."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from aigateway_sdk.local.upstreams.builtin import count_tokens
from tests.local.helpers import AUTH, GW_AUTH, MODEL, Api

pytestmark = pytest.mark.anyio

ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def sse_data(text: str) -> list[str]:
    return [line[6:] for line in text.split("\n") if line.startswith("data: ")]


async def test_workers_ai_reply_envelope_usage_and_headers(api: Api) -> None:
    response = await api.run(prompt="Tell me about the ocean please", max_tokens=200)
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["errors"] == []
    assert body["messages"] == []
    result = body["result"]
    text = result["response"]
    assert "ocean" in text  # the reply quotes the prompt
    usage = result["usage"]
    assert usage["prompt_tokens"] == count_tokens("Tell me about the ocean please") == 6
    assert usage["completion_tokens"] == count_tokens(text)
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert response.headers["cf-aig-cache-status"] == "MISS"
    assert ULID.match(response.headers["cf-aig-log-id"])


async def test_builtin_model_is_deterministic_and_message_aware(api: Api) -> None:
    first = (await api.run(prompt="alpha question")).json()["result"]["response"]
    again = (await api.run(prompt="alpha question")).json()["result"]["response"]
    other = (await api.run(prompt="beta question")).json()["result"]["response"]
    hotter = (await api.run(prompt="alpha question", temperature=1.5)).json()["result"]["response"]
    assert first == again
    assert first != other
    assert "beta" in other
    assert hotter != first


async def test_messages_body_uses_the_last_user_message(api: Api, http: httpx.AsyncClient) -> None:
    response = await http.post(
        api.data("default", f"workers-ai/{MODEL}"),
        json={
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "first zebra"},
                {"role": "assistant", "content": "ok"},
                {"role": "user", "content": "second giraffe"},
            ]
        },
        headers={**AUTH, **GW_AUTH},
    )
    result = response.json()["result"]
    assert "giraffe" in result["response"]
    assert "zebra" not in result["response"]
    assert result["usage"]["prompt_tokens"] == 2 + 2 + 1 + 2


async def test_max_tokens_cuts_the_reply_with_finish_reason_length(api: Api) -> None:
    response = await api.chat(content="count to many", max_tokens=5)
    body = response.json()
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 5
    assert count_tokens(body["choices"][0]["message"]["content"]) == 5
    full = (await api.chat(content="count to many", max_tokens=500)).json()
    assert full["choices"][0]["finish_reason"] == "stop"
    assert full["usage"]["completion_tokens"] > 5


async def test_workers_ai_stream_frames(api: Api) -> None:
    response = await api.run(prompt="stream this please", stream=True, max_tokens=50)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert ULID.match(response.headers["cf-aig-log-id"])
    frames = sse_data(response.text)
    assert frames[-1] == "[DONE]"
    parts = [json.loads(frame) for frame in frames[:-1]]
    assert len(parts) > 3  # streamed in several parts
    last = parts[-1]
    assert last["response"] == ""
    assert last["usage"]["completion_tokens"] == len(parts) - 1
    streamed = "".join(part["response"] for part in parts)
    plain = (await api.run(prompt="stream this please", max_tokens=50)).json()["result"]
    assert streamed == plain["response"]


async def test_compat_chat_completion_shape(api: Api) -> None:
    response = await api.chat(content="What is a gateway?")
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-")
    assert isinstance(body["created"], int)
    assert body["model"] == f"workers-ai/{MODEL}"
    choice = body["choices"][0]
    assert choice["index"] == 0
    assert choice["message"]["role"] == "assistant"
    assert "gateway" in choice["message"]["content"]
    assert body["usage"]["prompt_tokens"] == 5


async def test_compat_stream_with_usage_chunk(api: Api) -> None:
    response = await api.chat(
        content="stream me", stream=True, stream_options={"include_usage": True}
    )
    frames = sse_data(response.text)
    assert frames[-1] == "[DONE]"
    chunks = [json.loads(frame) for frame in frames[:-1]]
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    usage_chunk = chunks[-1]
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"]["total_tokens"] > 0
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks[:-1])
    assert usage_chunk["usage"]["completion_tokens"] == count_tokens(text)


async def test_compat_stream_without_usage_has_no_usage_chunk(api: Api) -> None:
    frames = sse_data((await api.chat(content="stream me", stream=True)).text)
    chunks = [json.loads(frame) for frame in frames[:-1]]
    assert all(chunk["choices"] for chunk in chunks)
    assert "usage" not in chunks[-1]


async def test_workers_ai_openai_route(api: Api, http: httpx.AsyncClient) -> None:
    response = await http.post(
        api.data("default", "workers-ai/v1/chat/completions"),
        json={"model": MODEL, "messages": [{"role": "user", "content": "hi there"}]},
        headers={**AUTH, **GW_AUTH},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["model"] == MODEL
    assert body["object"] == "chat.completion"
    logs = await api.logs()
    assert logs[0]["provider"] == "workers-ai"
    assert logs[0]["model"] == MODEL


async def test_compat_model_must_name_a_provider(api: Api, http: httpx.AsyncClient) -> None:
    response = await http.post(
        api.data("default", "compat/chat/completions"),
        json={"model": "no-provider", "messages": [{"role": "user", "content": "x"}]},
        headers={**AUTH, **GW_AUTH},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == ["model"]


async def test_unknown_gateway_is_404_envelope(api: Api) -> None:
    response = await api.run("nope")
    assert response.status_code == 404
    body = response.json()
    assert body["success"] is False
    assert body["errors"][0]["message"]
    assert response.headers["cf-aig-cache-status"] == "MISS"


async def test_default_gateway_appears_on_first_use_with_authentication(
    api: Api, http: httpx.AsyncClient
) -> None:
    assert (await http.get(api.control("/default"), headers=AUTH)).status_code == 404
    await api.run()
    gateway = (await http.get(api.control("/default"), headers=AUTH)).json()["result"]
    assert gateway["id"] == "default"
    assert gateway["is_default"] is True
    assert gateway["authentication"] is True  # the server has an api token


async def test_state_is_per_account(api: Api, http: httpx.AsyncClient) -> None:
    await api.create("shared-name")
    await api.run("shared-name")
    other = Api(api.gw, http, account=api.account + "-b")
    assert (await http.get(other.control("/shared-name"), headers=AUTH)).status_code == 404
    assert (await other.run("shared-name")).status_code == 404
    await other.create("shared-name")
    assert await other.logs("shared-name") == []
    assert len(await api.logs("shared-name")) == 1


async def test_other_providers_openai_route(api: Api, http: httpx.AsyncClient) -> None:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello openai"}]}
    # another provider's key passes through: it is not the gateway's API token
    headers = {"authorization": "Bearer sk-provider-key", **GW_AUTH}
    for path in ("openai/chat/completions", "openai/v1/chat/completions"):
        response = await http.post(api.data("default", path), json=body, headers=headers)
        assert response.status_code == 200
        assert response.json()["model"] == "gpt-4o-mini"
    compat = await http.post(
        api.data("default", "compat/chat/completions"),
        json={**body, "model": "openai/gpt-4o-mini"},
        headers=headers,
    )
    assert compat.status_code == 200
    logs = await api.logs()
    assert {(log["provider"], log["model"]) for log in logs} == {("openai", "gpt-4o-mini")}
