"""stream_text over a mock transport: part order, both codecs, failures and early exit."""

from __future__ import annotations

import httpx
import pytest

from aigateway_sdk import (
    AiError,
    Defect,
    Finish,
    InvalidRequest,
    MalformedOutput,
    NetworkError,
    ResponseMetadata,
    TextDelta,
    TextEnd,
    TextStart,
)

from .helpers import MODEL, Recorder, binding_for, sse

pytestmark = pytest.mark.anyio

SSE = {
    "content-type": "text/event-stream",
    "cf-aig-log-id": "01STREAM",
    "cf-aig-cache-status": "MISS",
}
USAGE = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}


def workers_stream() -> httpx.Response:
    body = sse({"response": "Hel"}, {"response": "lo"}, {"response": "", "usage": USAGE}, "[DONE]")
    return httpx.Response(200, content=body, headers=SSE)


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_workers_ai_stream_parts_in_order() -> None:
    recorder = Recorder(workers_stream())
    lm = binding_for(recorder).model(MODEL)
    parts = [part async for part in lm.stream_text(prompt="hi")]
    assert [type(p) for p in parts] == [
        ResponseMetadata,
        TextStart,
        TextDelta,
        TextDelta,
        TextEnd,
        Finish,
    ]
    meta = parts[0]
    assert isinstance(meta, ResponseMetadata)
    assert (meta.log_id, meta.cache_status) == ("01STREAM", "MISS")
    assert "".join(p.delta for p in parts if isinstance(p, TextDelta)) == "Hello"
    finish = parts[-1]
    assert isinstance(finish, Finish)
    assert finish.reason == "stop"
    assert (finish.usage.input_tokens.total, finish.usage.output_tokens.total) == (3, 2)
    assert recorder.bodies()[0]["stream"] is True


async def test_compat_stream_with_usage_chunk() -> None:
    def chunk(content: str | None, finish: str | None = None) -> dict[str, object]:
        delta = {} if content is None else {"content": content}
        return {"id": "c1", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    body = sse(
        chunk(""),
        chunk("Hi"),
        chunk(" you"),
        chunk(None, "length"),
        {"id": "c1", "choices": [], "usage": USAGE},
        "[DONE]",
    )
    recorder = Recorder(httpx.Response(200, content=body, headers=SSE))
    lm = binding_for(recorder).model("workers-ai/@cf/meta/llama-3.1-8b-instruct")
    response = await lm.stream_text(prompt="hi").collect()
    assert response.text == "Hi you"
    assert response.finish_reason == "length"
    assert response.usage.output_tokens.total == 2
    assert response.log_id == "01STREAM"
    sent = recorder.bodies()[0]
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}


async def test_frames_split_anywhere_still_decode() -> None:
    body = sse({"response": "abc"}, {"response": "def"}, "[DONE]").replace(b"\n", b"\r\n")

    async def dribble() -> object:
        for i in range(len(body)):
            yield body[i : i + 1]

    def reply(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=dribble(), headers=SSE)  # type: ignore[arg-type]

    lm = binding_for(Recorder(reply)).model(MODEL)
    assert (await lm.stream_text(prompt="x").collect()).text == "abcdef"


async def test_failure_before_any_part_is_retried() -> None:
    recorder = Recorder(httpx.Response(429, headers={"retry-after-ms": "1"}), workers_stream())
    lm = binding_for(recorder).model(MODEL)
    assert (await lm.stream_text(prompt="hi").collect()).text == "Hello"
    assert len(recorder.requests) == 2


async def test_failure_after_parts_is_not_retried_and_parts_were_delivered() -> None:
    async def cut() -> object:
        yield sse({"response": "one"}, {"response": "two"})
        raise httpx.ReadError("connection reset")

    recorder = Recorder(lambda request: httpx.Response(200, content=cut(), headers=SSE))  # type: ignore[arg-type]
    lm = binding_for(recorder).model(MODEL)
    seen: list[str] = []
    with pytest.raises(AiError) as caught:
        async for part in lm.stream_text(prompt="hi"):
            if isinstance(part, TextDelta):
                seen.append(part.delta)
    assert seen == ["one", "two"]
    assert isinstance(caught.value.reason, NetworkError)
    assert caught.value.log_id == "01STREAM"
    assert len(recorder.requests) == 1


async def test_stream_without_done_or_usage_is_an_error() -> None:
    recorder = Recorder(httpx.Response(200, content=sse({"response": "x"}), headers=SSE))
    lm = binding_for(recorder).model(MODEL)
    with pytest.raises(AiError) as caught:
        await lm.stream_text(prompt="hi").collect()
    assert isinstance(caught.value.reason, NetworkError)


@pytest.mark.parametrize(
    "body",
    [
        b"data: {broken\n\n",
        b'data: {"response": 5}\n\n',
        b'data: {"response": "x"}\n\ndata: {"resp',
    ],
)
async def test_bad_events_are_malformed_output(body: bytes) -> None:
    lm = binding_for(Recorder(httpx.Response(200, content=body, headers=SSE))).model(MODEL)
    with pytest.raises(AiError) as caught:
        await lm.stream_text(prompt="hi").collect()
    assert isinstance(caught.value.reason, MalformedOutput)


async def test_event_over_the_size_limit_is_malformed_output() -> None:
    body = sse({"response": "x" * 5000}, "[DONE]")
    binding = binding_for(
        Recorder(httpx.Response(200, content=body, headers=SSE)), max_event_bytes=1024
    )
    with pytest.raises(AiError) as caught:
        await binding.model(MODEL).stream_text(prompt="hi").collect()
    assert isinstance(caught.value.reason, MalformedOutput)
    assert "larger than 1024" in caught.value.message


async def test_wrong_content_type_is_malformed_output() -> None:
    reply = httpx.Response(200, content=b"hello", headers={"content-type": "text/plain"})
    lm = binding_for(Recorder(reply)).model(MODEL)
    with pytest.raises(AiError) as caught:
        await lm.stream_text(prompt="hi").collect()
    assert isinstance(caught.value.reason, MalformedOutput)


async def test_a_json_reply_to_a_stream_request_becomes_parts() -> None:
    reply = httpx.Response(200, json={"result": {"response": "whole", "usage": USAGE}})
    lm = binding_for(Recorder(reply)).model(MODEL)
    parts = [p async for p in lm.stream_text(prompt="hi")]
    assert [type(p) for p in parts] == [ResponseMetadata, TextStart, TextDelta, TextEnd, Finish]


async def test_stream_or_die_raises_defect() -> None:
    lm = binding_for(Recorder(httpx.Response(400))).model(MODEL)
    with pytest.raises(Defect) as caught:
        async for _ in lm.stream_text(prompt="hi").or_die():
            pass
    assert isinstance(caught.value.error.reason, InvalidRequest)


async def test_breaking_out_closes_the_http_stream() -> None:
    closed: list[bool] = []

    class Body(httpx.AsyncByteStream):
        async def __aiter__(self):  # type: ignore[no-untyped-def]
            for i in range(1000):
                yield sse({"response": f"t{i} "})

        async def aclose(self) -> None:
            closed.append(True)

    recorder = Recorder(lambda request: httpx.Response(200, stream=Body(), headers=SSE))
    lm = binding_for(recorder).model(MODEL)
    async with lm.stream_text(prompt="hi") as parts:
        async for part in parts:
            if isinstance(part, TextDelta):
                break
    assert closed == [True]


async def test_text_helper_yields_only_deltas() -> None:
    lm = binding_for(Recorder(workers_stream())).model(MODEL)
    assert [t async for t in lm.stream_text(prompt="hi").text()] == ["Hel", "lo"]


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_total_timeout_bounds_a_trickling_stream() -> None:
    import anyio

    from aigateway_sdk import Timeout

    async def trickle() -> object:
        yield sse({"response": "first"})
        while True:
            await anyio.sleep(0.05)
            yield b": still here\n"

    recorder = Recorder(lambda request: httpx.Response(200, content=trickle(), headers=SSE))  # type: ignore[arg-type]
    lm = binding_for(recorder, total_timeout=0.3).model(MODEL)
    seen: list[str] = []
    with pytest.raises(AiError) as caught:
        async for part in lm.stream_text(prompt="hi"):
            if isinstance(part, TextDelta):
                seen.append(part.delta)
    assert seen == ["first"]
    assert isinstance(caught.value.reason, Timeout)


async def test_stream_result_gives_ok_or_err_instead_of_raising() -> None:
    from aigateway_sdk import Err, Ok

    lm = binding_for(Recorder(workers_stream())).model(MODEL)
    outcome = await lm.stream_text(prompt="hi").result()
    assert isinstance(outcome, Ok)
    assert outcome.value.text == "Hello"

    failing = binding_for(Recorder(httpx.Response(400, json={"errors": []}))).model(MODEL)
    outcome = await failing.stream_text(prompt="hi").result()
    assert isinstance(outcome, Err)
    assert isinstance(outcome.error.reason, InvalidRequest)
