"""The official `openai` client works unmodified against the `compat` route."""

from __future__ import annotations

import openai
import pytest

from aigateway_sdk.local import LocalGateway
from tests.local.helpers import MODEL, TOKEN

pytestmark = pytest.mark.anyio


def client(gw: LocalGateway, account: str, gateway_id: str = "default") -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        base_url=f"{gw.data_url}/{account}/{gateway_id}/compat",
        api_key=TOKEN,
        default_headers={"cf-aig-authorization": f"Bearer {TOKEN}"},
        max_retries=0,
    )


async def test_chat_completion(gw: LocalGateway, account: str) -> None:
    async with client(gw, account) as ai:
        raw = await ai.chat.completions.with_raw_response.create(
            model=f"workers-ai/{MODEL}",
            messages=[{"role": "user", "content": "Name a colour, please"}],
            max_tokens=64,
        )
        completion = raw.parse()
    assert raw.headers["cf-aig-cache-status"] == "MISS"
    assert completion.choices[0].message.role == "assistant"
    assert "colour" in (completion.choices[0].message.content or "")
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 5  # Name, a, colour, ",", please


async def test_streamed_chat_completion(gw: LocalGateway, account: str) -> None:
    async with client(gw, account) as ai:
        stream = await ai.chat.completions.create(
            model=f"workers-ai/{MODEL}",
            messages=[{"role": "user", "content": "stream a story"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        parts = []
        usage = None
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                parts.append(chunk.choices[0].delta.content)
            if chunk.usage is not None:
                usage = chunk.usage
    assert len(parts) > 3
    assert "story" in "".join(parts)
    assert usage is not None
    assert usage.completion_tokens == len(parts)


async def test_errors_map_to_openai_exceptions(gw: LocalGateway, account: str) -> None:
    async with client(gw, account, "missing-gateway") as ai:
        with pytest.raises(openai.NotFoundError):
            await ai.chat.completions.create(
                model=f"workers-ai/{MODEL}", messages=[{"role": "user", "content": "x"}]
            )
    async with openai.AsyncOpenAI(
        base_url=f"{gw.data_url}/{account}/default/compat",
        api_key="wrong",
        max_retries=0,
    ) as ai:
        with pytest.raises(openai.AuthenticationError):
            await ai.chat.completions.create(
                model=f"workers-ai/{MODEL}", messages=[{"role": "user", "content": "x"}]
            )


async def test_embeddings_create(gw: LocalGateway, account: str) -> None:
    """The client's default (`encoding_format` base64) and `float` give the same unit vectors,
    of the model's dimension, the same for the same text."""
    model = "workers-ai/@cf/baai/bge-small-en-v1.5"
    async with client(gw, account) as ai:
        packed = await ai.embeddings.create(model=model, input=["a cat", "a dog", "a cat"])
        floats = await ai.embeddings.create(model=model, input="a dog", encoding_format="float")
    assert [item.index for item in packed.data] == [0, 1, 2]
    vectors = [item.embedding for item in packed.data]
    assert {len(v) for v in vectors} == {384}
    assert all(abs(sum(x * x for x in v) - 1) < 1e-5 for v in vectors)
    assert vectors[0] == vectors[2] != vectors[1]
    assert floats.data[0].embedding == pytest.approx(vectors[1], abs=1e-6)
    assert packed.model == model
    assert packed.usage.prompt_tokens == 6
    assert packed.usage.total_tokens == 6


async def test_sampling_parameters_and_stop_are_accepted(gw: LocalGateway, account: str) -> None:
    async with client(gw, account) as ai:

        async def ask(stop: str | list[str] | None = None) -> str:
            completion = await ai.chat.completions.create(
                model=f"workers-ai/{MODEL}",
                messages=[{"role": "user", "content": "tell me about rivers"}],
                seed=7,
                frequency_penalty=0.5,
                presence_penalty=-0.5,
                temperature=0.2,
                stop=stop,
                extra_headers={"cf-aig-skip-cache": "true"},
            )
            assert completion.choices[0].finish_reason == "stop"
            return completion.choices[0].message.content or ""

        full = await ask()
        cut = await ask(stop=["rivers"])
        single = await ask(stop="about")
    assert cut == 'You said: "tell me about '
    assert single == 'You said: "tell me '
    assert full.startswith(cut)
    assert full != cut
