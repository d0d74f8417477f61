"""The SDK against a misbehaving server: every fault ends in the right typed `AiError`, retries
happen exactly as configured (counted at the server), and a stream is never retried once a
part has reached the caller. Core paths run on both anyio backends."""

from __future__ import annotations

import errno
import json
import math
import time
from collections.abc import Callable, Iterator
from email.utils import formatdate
from typing import Any

import anyio
import httpx
import pytest

from aigateway_sdk import (
    AiError,
    AuthenticationFailed,
    Conflict,
    Finish,
    GatewayAdmin,
    GatewayBinding,
    InvalidRequest,
    MalformedOutput,
    NetworkError,
    ProviderError,
    RateLimited,
    ResponseMetadata,
    RetryPolicy,
    StreamPart,
    TextDelta,
    TextStart,
    Timeout,
)
from aigateway_sdk.gateway_model import GatewayLanguageModel

from .faultserver import (
    Action,
    FaultServer,
    Flood,
    close_before_headers,
    gzip_blocks,
    gzip_bomb,
    never_answer,
    ok_text,
    refused_port,
    reply,
    reset_before_headers,
    reset_mid_body,
    sse,
    sse_frames,
    trickle,
    trickle_body,
)

pytestmark = pytest.mark.anyio
BACKENDS = pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
MODEL = "@cf/meta/llama-3.1-8b-instruct"
PATH = f"/v1/acct/gw/workers-ai/{MODEL}"


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


def model_for(url: str, *, retries: int = 2, **binding_options: Any) -> GatewayLanguageModel:
    binding = GatewayBinding(
        account_id="acct",
        gateway_id="gw",
        api_token="tok",
        base_url=f"{url}/v1",
        retry=RetryPolicy(max_retries=retries, initial_delay=0.01, jitter=0),
        **binding_options,
    )
    return binding.model(MODEL)


async def close(lm: GatewayLanguageModel) -> None:
    """Close the client of the binding `lm` came from (a model holds only its endpoint)."""
    await lm._endpoint.client().aclose()


async def generate_error(lm: GatewayLanguageModel) -> AiError:
    try:
        await lm.generate_text(prompt="hi")
    except AiError as error:
        return error
    finally:
        await close(lm)
    raise AssertionError("expected an AiError")


async def stream_parts(lm: GatewayLanguageModel) -> tuple[list[StreamPart], AiError | None]:
    parts: list[StreamPart] = []
    try:
        async for part in lm.stream_text(prompt="hi"):
            parts.append(part)
    except AiError as error:
        return parts, error
    finally:
        await close(lm)
    return parts, None


def deltas(parts: list[StreamPart]) -> list[str]:
    return [p.delta for p in parts if isinstance(p, TextDelta)]


def rate_limited(headers: dict[str, str]) -> Action:
    return reply(
        429, {"success": False, "errors": [{"code": 2003, "message": "Rate limited"}]}, headers
    )


# -- 429 and Retry-After ---------------------------------------------------------------------


@BACKENDS
async def test_429_retry_after_ms_is_honoured_then_succeeds(server: FaultServer) -> None:
    server.script(rate_limited({"retry-after-ms": "250"}))
    response = await model_for(server.url).generate_text(prompt="hi")
    assert response.text == "hello"
    assert len(server.requests) == 2
    gap = server.requests[1].at - server.requests[0].at
    assert gap >= 0.24, f"retried after {gap:.3f}s, the server asked for 0.25s"


async def test_429_retry_after_seconds_is_honoured(server: FaultServer) -> None:
    server.script(rate_limited({"retry-after": "1"}))
    response = await model_for(server.url).generate_text(prompt="hi")
    assert response.text == "hello"
    assert server.requests[1].at - server.requests[0].at >= 0.98


async def test_429_retry_after_http_date_is_honoured(server: FaultServer) -> None:
    # An HTTP date has one-second resolution: a whole second at least one second ahead.
    when = math.ceil(time.time() + 1.0)
    server.script(rate_limited({"retry-after": formatdate(when, usegmt=True)}))
    response = await model_for(server.url).generate_text(prompt="hi")
    assert response.text == "hello"
    assert server.requests[1].at - server.requests[0].at >= 0.9


@BACKENDS
async def test_429_exhausted_is_rate_limited_with_code_and_retry_after(server: FaultServer) -> None:
    server.default = rate_limited({"retry-after-ms": "10", "cf-aig-log-id": "LOG429"})
    error = await generate_error(model_for(server.url, retries=2))
    assert isinstance(error.reason, RateLimited)
    assert error.is_retryable
    assert error.status == 429
    assert error.code == 2003
    assert error.retry_after == pytest.approx(0.01)
    assert error.log_id == "LOG429"
    assert len(server.requests) == 3  # the first attempt and exactly max_retries more


async def test_retry_after_over_the_cap_fails_at_once(server: FaultServer) -> None:
    server.default = rate_limited({"retry-after": "3600"})
    started = time.monotonic()
    error = await generate_error(model_for(server.url, retries=5))
    assert isinstance(error.reason, RateLimited)
    assert error.retry_after == pytest.approx(3600, abs=1)
    assert len(server.requests) == 1
    assert time.monotonic() - started < 1


# -- 5xx, 4xx ---------------------------------------------------------------------------------


@BACKENDS
async def test_500_502_503_then_success(server: FaultServer) -> None:
    server.script(reply(500, b"<html>oops</html>", {"content-type": "text/html"}))
    server.script(reply(502, {"success": False, "errors": [{"code": 1, "message": "bad gw"}]}))
    server.script(reply(503, b""))
    response = await model_for(server.url, retries=3).generate_text(prompt="hi")
    assert response.text == "hello"
    assert len(server.requests) == 4
    assert all(r.path == PATH and r.method == "POST" for r in server.requests)


@BACKENDS
async def test_5xx_exhausted_is_provider_error_after_exactly_max_retries(
    server: FaultServer,
) -> None:
    server.default = reply(
        503,
        {"success": False, "errors": [{"code": 7, "message": "upstream down"}]},
        {"cf-aig-log-id": "LOG503"},
    )
    error = await generate_error(model_for(server.url, retries=2))
    assert isinstance(error.reason, ProviderError)
    assert error.is_retryable
    assert (error.status, error.code, error.log_id) == (503, 7, "LOG503")
    assert "upstream down" in error.message
    assert len(server.requests) == 3


async def test_no_retries_means_one_request(server: FaultServer) -> None:
    server.default = reply(500, b"")
    error = await generate_error(model_for(server.url, retries=0))
    assert isinstance(error.reason, ProviderError)
    assert len(server.requests) == 1


@BACKENDS
async def test_4xx_is_not_retried(server: FaultServer) -> None:
    server.default = reply(
        400, {"success": False, "errors": [{"code": 5006, "message": "bad input", "path": ["x"]}]}
    )
    error = await generate_error(model_for(server.url, retries=3))
    assert isinstance(error.reason, InvalidRequest)
    assert not error.is_retryable
    assert error.reason.details[0].path == ("x",)
    assert len(server.requests) == 1


async def test_401_in_cloudflare_error_shape(server: FaultServer) -> None:
    server.default = reply(
        401,
        {
            "success": False,
            "result": [],
            "messages": [],
            "error": [{"code": 2009, "message": "Unauthorized"}],
        },
    )
    error = await generate_error(model_for(server.url, retries=3))
    assert isinstance(error.reason, AuthenticationFailed)
    assert (error.code, error.is_retryable) == (2009, False)
    assert error.message.startswith("Unauthorized: the gateway token")
    assert "gateway_token" in error.message
    assert "cf-aig-authorization" in error.message
    assert len(server.requests) == 1


# -- connection faults ------------------------------------------------------------------------


class CountingTransport(httpx.AsyncBaseTransport):
    """Counts attempts where no server can (connection refused)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.attempts = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@BACKENDS
async def test_connection_refused_is_network_error_retried_as_configured() -> None:
    transport = CountingTransport()
    lm = model_for(f"http://127.0.0.1:{refused_port()}", retries=2, transport=transport)
    error = await generate_error(lm)
    assert isinstance(error.reason, NetworkError)
    assert error.is_retryable
    assert error.status is None
    assert transport.attempts == 3


@BACKENDS
async def test_connection_refused_on_stream() -> None:
    transport = CountingTransport()
    lm = model_for(f"http://127.0.0.1:{refused_port()}", retries=1, transport=transport)
    parts, error = await stream_parts(lm)
    assert parts == []
    assert error is not None
    assert isinstance(error.reason, NetworkError)
    assert transport.attempts == 2


@BACKENDS
async def test_reset_before_headers_then_success(server: FaultServer) -> None:
    server.script(reset_before_headers(), reset_before_headers())
    response = await model_for(server.url, retries=2).generate_text(prompt="hi")
    assert response.text == "hello"
    assert len(server.requests) == 3


@BACKENDS
async def test_reset_before_headers_exhausted(server: FaultServer) -> None:
    server.default = reset_before_headers()
    error = await generate_error(model_for(server.url, retries=2))
    assert isinstance(error.reason, NetworkError)
    assert error.is_retryable
    assert len(server.requests) == 3


@BACKENDS
async def test_reset_mid_body_then_success(server: FaultServer) -> None:
    server.script(reset_mid_body())
    response = await model_for(server.url, retries=1).generate_text(prompt="hi")
    assert response.text == "hello"
    assert len(server.requests) == 2


@BACKENDS
async def test_reset_mid_body_exhausted(server: FaultServer) -> None:
    server.default = reset_mid_body()
    error = await generate_error(model_for(server.url, retries=1))
    assert isinstance(error.reason, NetworkError)
    assert len(server.requests) == 2


# -- bad replies ------------------------------------------------------------------------------


@BACKENDS
@pytest.mark.parametrize(
    ("action", "what"),
    [
        (reply(200, b'{"result": {"response": "hi"'), "truncated JSON"),
        (reply(200, b"\xff\xfe not json"), "bytes that are not JSON"),
        (reply(200, b"<html>hi</html>", {"content-type": "text/html"}), "wrong content type"),
        (reply(200, {"result": 5}), "wrong shape"),
        # an object or array `response` is JSON mode's reply (its JSON text); a number is not text
        (reply(200, {"result": {"response": 5}}), "response not text"),
        (reply(200, [1, 2]), "an array"),
        (reply(200, b""), "an empty body"),
    ],
)
async def test_bad_reply_is_malformed_output_and_not_retried(
    server: FaultServer, action: Action, what: str
) -> None:
    server.default = action
    error = await generate_error(model_for(server.url, retries=3))
    assert isinstance(error.reason, MalformedOutput), what
    assert not error.is_retryable
    assert error.status == 200
    assert len(server.requests) == 1


# -- streams ----------------------------------------------------------------------------------


@BACKENDS
async def test_stream_happy_path(server: FaultServer) -> None:
    server.default = sse(sse_frames(["a", "b", "c"]), headers={"cf-aig-log-id": "L1"})
    parts, error = await stream_parts(model_for(server.url))
    assert error is None
    assert isinstance(parts[0], ResponseMetadata)
    assert parts[0].log_id == "L1"
    assert deltas(parts) == ["a", "b", "c"]
    assert isinstance(parts[-1], Finish)
    assert parts[-1].usage.output_tokens.total == 2


@BACKENDS
@pytest.mark.parametrize("cut", ["reset", "close"])
async def test_stream_cut_after_n_parts_delivers_them_then_fails_without_retry(
    server: FaultServer, cut: str
) -> None:
    server.default = sse(sse_frames(["one", "two", "three"], done=False), then=cut)
    parts, error = await stream_parts(model_for(server.url, retries=3))
    assert deltas(parts) == ["one", "two", "three"]
    assert not any(isinstance(p, Finish) for p in parts)
    assert error is not None
    assert isinstance(error.reason, NetworkError)
    assert len(server.requests) == 1, "a stream must never be retried after parts were seen"


@BACKENDS
async def test_stream_503_before_any_part_is_retried(server: FaultServer) -> None:
    server.script(reply(503, b""), reset_before_headers())
    server.default = sse(sse_frames(["x"]))
    parts, error = await stream_parts(model_for(server.url, retries=2))
    assert error is None
    assert deltas(parts) == ["x"]
    assert len(server.requests) == 3


@BACKENDS
async def test_stream_error_status_exhausted(server: FaultServer) -> None:
    server.default = rate_limited({"retry-after-ms": "5"})
    parts, error = await stream_parts(model_for(server.url, retries=2))
    assert parts == []
    assert error is not None
    assert isinstance(error.reason, RateLimited)
    assert error.code == 2003
    assert len(server.requests) == 3


@BACKENDS
async def test_truncated_sse_event_is_malformed(server: FaultServer) -> None:
    frames = [*sse_frames(["ok"], done=False), b'data: {"response": "cu']
    server.default = sse(frames, then="end")
    parts, error = await stream_parts(model_for(server.url, retries=3))
    assert deltas(parts) == ["ok"]
    assert error is not None
    assert isinstance(error.reason, MalformedOutput)
    assert len(server.requests) == 1


@BACKENDS
async def test_stream_ending_without_done_or_finish_is_network_error(server: FaultServer) -> None:
    server.default = sse(sse_frames(["ok"], done=False), then="end")
    parts, error = await stream_parts(model_for(server.url, retries=3))
    assert deltas(parts) == ["ok"]
    assert error is not None
    assert isinstance(error.reason, NetworkError)
    assert len(server.requests) == 1


@BACKENDS
@pytest.mark.parametrize(
    "bad",
    [b"data: {oops\n\n", b'data: {"response": 5}\n\n', b"data: [1]\n\n", b"data: \xff\xfe\n\n"],
)
async def test_bad_stream_event_is_malformed_after_good_parts(
    server: FaultServer, bad: bytes
) -> None:
    server.default = sse([*sse_frames(["good"], done=False), bad, *sse_frames([])])
    parts, error = await stream_parts(model_for(server.url, retries=3))
    assert deltas(parts) == ["good"]
    assert error is not None
    assert isinstance(error.reason, MalformedOutput)
    assert not error.is_retryable
    assert len(server.requests) == 1


@BACKENDS
async def test_stream_wrong_content_type_is_malformed(server: FaultServer) -> None:
    server.default = sse(sse_frames(["x"]), content_type="text/html")
    parts, error = await stream_parts(model_for(server.url, retries=3))
    assert [type(p) for p in parts] == [ResponseMetadata]
    assert error is not None
    assert isinstance(error.reason, MalformedOutput)
    assert len(server.requests) == 1


async def test_stream_answered_with_json_gives_parts(server: FaultServer) -> None:
    server.default = ok_text("whole")
    parts, error = await stream_parts(model_for(server.url))
    assert error is None
    assert deltas(parts) == ["whole"]
    assert isinstance(parts[1], TextStart)


async def test_stream_answered_with_bad_json_is_malformed(server: FaultServer) -> None:
    server.default = reply(200, b"{nope")
    _parts, error = await stream_parts(model_for(server.url))
    assert error is not None
    assert isinstance(error.reason, MalformedOutput)


@BACKENDS
async def test_event_over_size_limit_is_malformed(server: FaultServer) -> None:
    big = b"data: " + b'{"response": "' + b"x" * 5000 + b'"}\n\n'
    server.default = sse([*sse_frames(["small"], done=False), big, *sse_frames([])])
    parts, error = await stream_parts(model_for(server.url, max_event_bytes=1024))
    assert deltas(parts) == ["small"]
    assert error is not None
    assert isinstance(error.reason, MalformedOutput)
    assert "1024" in error.message
    assert len(server.requests) == 1


@BACKENDS
async def test_line_that_never_ends_is_cut_at_the_size_limit(server: FaultServer) -> None:
    server.default = sse([b"data: " + b"y" * 700 for _ in range(10)], then="hold")
    started = time.monotonic()
    _parts, error = await stream_parts(model_for(server.url, max_event_bytes=2048))
    assert error is not None
    assert isinstance(error.reason, MalformedOutput)
    assert time.monotonic() - started < 3


# -- time limits ------------------------------------------------------------------------------


@BACKENDS
async def test_server_that_never_answers_times_out_and_is_retried(server: FaultServer) -> None:
    server.default = never_answer()
    lm = model_for(server.url, retries=1, timeout=httpx.Timeout(5.0, read=0.2))
    error = await generate_error(lm)
    assert isinstance(error.reason, Timeout)
    assert error.is_retryable
    assert len(server.requests) == 2


@BACKENDS
async def test_stream_that_never_answers_times_out(server: FaultServer) -> None:
    server.default = never_answer()
    lm = model_for(server.url, retries=0, timeout=httpx.Timeout(5.0, read=0.2))
    parts, error = await stream_parts(lm)
    assert parts == []
    assert error is not None
    assert isinstance(error.reason, Timeout)


@BACKENDS
async def test_total_timeout_bounds_a_call_that_never_answers(server: FaultServer) -> None:
    server.default = never_answer()
    started = time.monotonic()
    error = await generate_error(model_for(server.url, total_timeout=0.25))
    assert isinstance(error.reason, Timeout)
    assert time.monotonic() - started < 2


@BACKENDS
async def test_trickled_reply_hits_the_total_timeout(server: FaultServer) -> None:
    server.default = trickle(every=0.02)
    lm = model_for(server.url, total_timeout=0.25, timeout=httpx.Timeout(10.0))
    started = time.monotonic()
    error = await generate_error(lm)
    assert isinstance(error.reason, Timeout)
    assert time.monotonic() - started < 2


@BACKENDS
async def test_trickled_stream_headers_hit_the_total_timeout(server: FaultServer) -> None:
    server.default = trickle(every=0.02)
    lm = model_for(server.url, total_timeout=0.25, timeout=httpx.Timeout(10.0))
    started = time.monotonic()
    _parts, error = await stream_parts(lm)
    assert error is not None
    assert isinstance(error.reason, Timeout)
    assert time.monotonic() - started < 2


@BACKENDS
async def test_trickled_stream_body_hits_the_total_timeout(server: FaultServer) -> None:
    server.default = trickle_body(every=0.02)
    lm = model_for(server.url, total_timeout=0.25, timeout=httpx.Timeout(10.0))
    started = time.monotonic()
    _parts, error = await stream_parts(lm)
    assert error is not None
    assert isinstance(error.reason, Timeout)
    assert time.monotonic() - started < 2


@BACKENDS
async def test_stalled_stream_body_hits_the_total_timeout(server: FaultServer) -> None:
    server.default = sse(sse_frames(["a"], done=False), then="hold")
    lm = model_for(server.url, total_timeout=0.6, timeout=httpx.Timeout(10.0))
    started = time.monotonic()
    parts, error = await stream_parts(lm)
    assert deltas(parts) == ["a"]
    assert error is not None
    assert isinstance(error.reason, Timeout)
    assert time.monotonic() - started < 2


@BACKENDS
async def test_stream_with_cr_line_ends_completes(server: FaultServer) -> None:
    """The SSE spec allows a bare CR as the line end; the last event ends the stream."""
    frames = [f.replace(b"\n", b"\r") for f in sse_frames(["a", "b"])]
    server.default = sse(frames)
    parts, error = await stream_parts(model_for(server.url))
    assert error is None
    assert deltas(parts) == ["a", "b"]
    assert isinstance(parts[-1], Finish)


@BACKENDS
async def test_cr_terminated_event_is_delivered_without_waiting_for_more_bytes(
    server: FaultServer,
) -> None:
    server.default = sse([b'data: {"response": "now"}\r\r'], then="hold")
    lm = model_for(server.url, total_timeout=2.0)
    got: list[str] = []
    started = time.monotonic()
    async for part in lm.stream_text(prompt="hi"):
        if isinstance(part, TextDelta):
            got.append(part.delta)
            break
    await close(lm)
    assert got == ["now"]
    assert time.monotonic() - started < 1


# -- odd but possible replies -----------------------------------------------------------------


@BACKENDS
async def test_bad_gzip_is_malformed_on_both_paths(server: FaultServer) -> None:
    server.default = reply(200, b"\x1f\x8b not really gzip", {"content-encoding": "gzip"})
    error = await generate_error(model_for(server.url, retries=2))
    assert isinstance(error.reason, MalformedOutput)
    assert len(server.requests) == 1
    server.default = sse([b"\x1f\x8b not really gzip"], headers={"content-encoding": "gzip"})
    _parts, stream_error = await stream_parts(model_for(server.url, retries=2))
    assert stream_error is not None
    assert isinstance(stream_error.reason, MalformedOutput)
    assert len(server.requests) == 2


@pytest.mark.parametrize("value", ["soon", "-5", "nan", "", "Wed, 99 Foo 2026"])
async def test_unusable_retry_after_falls_back_to_backoff(server: FaultServer, value: str) -> None:
    server.script(rate_limited({"retry-after": value}))
    started = time.monotonic()
    response = await model_for(server.url).generate_text(prompt="hi")
    assert response.text == "hello"
    assert len(server.requests) == 2
    assert time.monotonic() - started < 1


async def test_infinite_retry_after_is_not_waited_for(server: FaultServer) -> None:
    server.default = rate_limited({"retry-after": "inf"})
    error = await generate_error(model_for(server.url, retries=3))
    assert isinstance(error.reason, RateLimited)
    assert len(server.requests) == 1


@BACKENDS
async def test_result_and_or_die_carry_the_same_reason(server: FaultServer) -> None:
    from aigateway_sdk import Defect, Err

    server.default = reply(503, b"")
    lm = model_for(server.url, retries=0)
    outcome = await lm.generate_text(prompt="hi").result()
    assert isinstance(outcome, Err)
    assert isinstance(outcome.error.reason, ProviderError)
    with pytest.raises(Defect) as died:
        await lm.generate_text(prompt="hi").or_die()
    assert isinstance(died.value.error.reason, ProviderError)
    assert len(server.requests) == 2
    await close(lm)


def openai_frames(deltas: list[str]) -> list[bytes]:
    frames = [
        b"data: "
        + json.dumps({"id": "c1", "choices": [{"index": 0, "delta": {"content": d}}]}).encode()
        + b"\n\n"
        for d in deltas
    ]
    return frames


@BACKENDS
@pytest.mark.parametrize("cut", ["reset", "close"])
async def test_compat_stream_cut_after_n_parts(server: FaultServer, cut: str) -> None:
    server.default = sse(openai_frames(["x", "y"]), then=cut)
    binding = GatewayBinding(
        account_id="acct",
        gateway_id="gw",
        api_token="tok",
        base_url=f"{server.url}/v1",
        retry=RetryPolicy(max_retries=3, initial_delay=0.01),
    )
    lm = binding.model("openai/gpt-4o-mini")
    parts, error = await stream_parts(lm)
    assert deltas(parts) == ["x", "y"]
    assert error is not None
    assert isinstance(error.reason, NetworkError)
    assert len(server.requests) == 1
    assert server.requests[0].path == "/v1/acct/gw/compat/chat/completions"


@BACKENDS
async def test_compat_stream_bad_frame_is_malformed(server: FaultServer) -> None:
    bad = b'data: {"choices": [{"delta": {"content": 5}}]}\n\n'
    server.default = sse([*openai_frames(["ok"]), bad, b"data: [DONE]\n\n"])
    binding = GatewayBinding(account_id="acct", gateway_id="gw", base_url=f"{server.url}/v1")
    parts, error = await stream_parts(binding.model("openai/gpt-4o-mini"))
    assert deltas(parts) == ["ok"]
    assert error is not None
    assert isinstance(error.reason, MalformedOutput)


@BACKENDS
@pytest.mark.parametrize(
    "error_frame",
    [
        b'data: {"error": "upstream overloaded"}\n\n',
        b'data: {"errors": [{"code": 3040, "message": "out of capacity"}], "success": false}\n\n',
        b'event: error\ndata: {"message": "upstream overloaded"}\n\n',
        b'data: {"error": {"message": "upstream overloaded", "type": "server_error"}}\n\n',
    ],
)
async def test_an_error_inside_a_stream_is_not_reported_as_success(
    server: FaultServer, error_frame: bytes
) -> None:
    """A provider that fails after some parts says so in the stream; the caller must get an
    `AiError` after the parts, not a `Finish` (even when `[DONE]` follows)."""
    server.default = sse(
        [*sse_frames(["partial"], done=False), error_frame, b"data: [DONE]\n\n"],
        headers={"cf-aig-log-id": "LOGERR"},
    )
    parts, error = await stream_parts(model_for(server.url, retries=3))
    assert deltas(parts) == ["partial"]
    assert not any(isinstance(p, Finish) for p in parts)
    assert error is not None
    assert isinstance(error.reason, ProviderError)
    assert "overloaded" in error.message or "capacity" in error.message
    assert error.log_id == "LOGERR"
    assert len(server.requests) == 1


# -- size limits ------------------------------------------------------------------------------

CAP = 256 * 1024


def assert_cut_early(server: FaultServer, flood: Flood, *, check_sent: bool = True) -> None:
    """The client closed the connection (a body that never ends can end no other way), long
    before the server ran out of bytes to send (when the limit is far above what the client read
    plus what loopback socket buffers may hold, here up to 4 + 32 MiB)."""
    assert flood.closed.wait(5), "the client never closed the connection"
    if check_sent:
        assert flood.sent < flood.limit // 4
    assert server.wait_until(lambda: server.open_connections == 0)


@BACKENDS
async def test_endless_json_reply_is_cut_at_max_response_bytes(server: FaultServer) -> None:
    server.default = flood = Flood()
    with anyio.fail_after(20):  # without a cap the call would wait for the rest forever
        error = await generate_error(model_for(server.url, retries=3, max_response_bytes=CAP))
    assert isinstance(error.reason, MalformedOutput)
    assert not error.is_retryable
    assert f"{CAP} bytes" in error.message
    assert "max_response_bytes" in error.message
    assert error.status == 200
    assert len(server.requests) == 1
    assert_cut_early(server, flood)


@BACKENDS
async def test_endless_json_reply_to_a_stream_request_is_cut(server: FaultServer) -> None:
    server.default = flood = Flood()
    with anyio.fail_after(20):
        parts, error = await stream_parts(model_for(server.url, max_response_bytes=CAP))
    assert [type(p) for p in parts] == [ResponseMetadata]
    assert error is not None
    assert isinstance(error.reason, MalformedOutput)
    assert "max_response_bytes" in error.message
    assert len(server.requests) == 1
    assert_cut_early(server, flood)


@BACKENDS
async def test_endless_gzip_reply_is_cut_by_its_inflated_size(server: FaultServer) -> None:
    """Each block is about 1 KB on the wire and 1 MiB inflated: the limit counts the latter."""
    first, block = gzip_blocks()
    server.default = flood = Flood(
        first, block, headers={"content-encoding": "gzip"}, limit=64 * len(block)
    )
    with anyio.fail_after(20):
        error = await generate_error(model_for(server.url, retries=3, max_response_bytes=CAP))
    assert isinstance(error.reason, MalformedOutput)
    assert "max_response_bytes" in error.message
    assert len(server.requests) == 1
    assert_cut_early(server, flood, check_sent=False)  # 64 KB on the wire fit in the buffers


@BACKENDS
@pytest.mark.parametrize("call", ["generate", "stream"])
async def test_gzip_bomb_error_reply_is_malformed_and_not_retried(
    server: FaultServer, call: str
) -> None:
    """A 500 whose 16 KB gzip body inflates to 16 MiB: over the limit, so `MalformedOutput`
    (status 500) at once, where a 500 is otherwise retried."""
    server.default = reply(500, gzip_bomb(16), {"content-encoding": "gzip", "cf-aig-log-id": "B"})
    lm = model_for(server.url, retries=3, max_response_bytes=1 << 20)
    if call == "generate":
        error: AiError | None = await generate_error(lm)
    else:
        _parts, error = await stream_parts(lm)
    assert error is not None
    assert isinstance(error.reason, MalformedOutput)
    assert (error.status, error.log_id) == (500, "B")
    assert len(server.requests) == 1


async def test_a_reply_at_the_limit_is_read_and_one_byte_more_is_not(server: FaultServer) -> None:
    body = {"result": {"response": "y" * 1000}}
    size = len(json.dumps(body, separators=(",", ":")).encode())
    server.default = reply(200, body)
    response = await model_for(server.url, max_response_bytes=size).generate_text(prompt="hi")
    assert response.text == "y" * 1000
    error = await generate_error(model_for(server.url, max_response_bytes=size - 1))
    assert isinstance(error.reason, MalformedOutput)


async def test_the_control_plane_has_the_same_default_cap(server: FaultServer) -> None:
    from aigateway_sdk import GatewayAdmin
    from aigateway_sdk.transport.http import DEFAULT_MAX_RESPONSE_BYTES

    server.default = flood = Flood(b'{"success": true, "result": {"id": "', limit=128 << 20)
    async with GatewayAdmin("acct", "tok", f"{server.url}/client/v4") as admin:
        with anyio.fail_after(20), pytest.raises(AiError) as caught:
            await admin.get("gw")
    assert isinstance(caught.value.reason, MalformedOutput)
    assert f"{DEFAULT_MAX_RESPONSE_BYTES} bytes" in caught.value.message
    assert len(server.requests) == 1
    assert_cut_early(server, flood, check_sent=False)  # 32 MiB read + socket buffers


# -- total_timeout on a stream answered with JSON ---------------------------------------------


@BACKENDS
async def test_trickled_json_reply_to_a_stream_hits_the_total_timeout(
    server: FaultServer,
) -> None:
    """docs/reliability.md: bytes trickled forever end in `Timeout` once `total_timeout` has
    passed, also when the stream request is answered with a (never ending) JSON body."""
    server.default = trickle_body(every=0.02, content_type="application/json")
    lm = model_for(server.url, total_timeout=0.25, timeout=httpx.Timeout(10.0))
    with anyio.fail_after(10):
        parts, error = await stream_parts(lm)
    assert [type(p) for p in parts] == [ResponseMetadata]
    assert error is not None
    assert isinstance(error.reason, Timeout)


# -- the retry budget -------------------------------------------------------------------------


@BACKENDS
async def test_retry_waits_stop_at_max_total_delay(server: FaultServer) -> None:
    """Waits of 0.1 s: two fit in a budget of 0.25 s, the third would not, so the third 429 is
    raised at once (three attempts, where max_retries allows six)."""
    server.default = rate_limited({"retry-after-ms": "100"})
    binding = GatewayBinding(
        account_id="acct",
        gateway_id="gw",
        base_url=f"{server.url}/v1",
        retry=RetryPolicy(max_retries=5, max_total_delay=0.25),
    )
    error = await generate_error(binding.model(MODEL))
    assert isinstance(error.reason, RateLimited)
    assert error.retry_after == pytest.approx(0.1)
    assert len(server.requests) == 3


async def test_a_default_call_does_not_wait_out_a_long_retry_after(server: FaultServer) -> None:
    """With the default policy a `Retry-After` of 45 s is not waited for (it used to be, twice):
    the 429 is raised at once with `retry_after`, for the caller to decide."""
    server.default = rate_limited({"retry-after": "45"})
    binding = GatewayBinding(account_id="acct", gateway_id="gw", base_url=f"{server.url}/v1")
    with anyio.fail_after(10):
        error = await generate_error(binding.model(MODEL))
    assert isinstance(error.reason, RateLimited)
    assert error.retry_after == pytest.approx(45, abs=1)
    assert len(server.requests) == 1


@BACKENDS
async def test_a_retry_that_would_pass_total_timeout_is_not_waited_for(
    server: FaultServer,
) -> None:
    """A 429 asking for 5 s under a total_timeout of 2 s: the `RateLimited` reason at once,
    not a `Timeout` two seconds later (the stream path already did this)."""
    server.default = rate_limited({"retry-after": "5"})
    with anyio.fail_after(10):
        error = await generate_error(model_for(server.url, retries=3, total_timeout=2.0))
    assert isinstance(error.reason, RateLimited)
    assert error.retry_after == pytest.approx(5, abs=1)
    assert len(server.requests) == 1


# -- error messages that help -----------------------------------------------------------------


@BACKENDS
@pytest.mark.parametrize("call", ["generate", "stream"])
async def test_unreachable_server_names_host_port_and_os_error(call: str) -> None:
    port = refused_port()
    lm = model_for(f"http://127.0.0.1:{port}", retries=0)
    if call == "generate":
        error: AiError | None = await generate_error(lm)
    else:
        _parts, error = await stream_parts(lm)
    assert error is not None
    assert isinstance(error.reason, NetworkError)
    assert f"127.0.0.1:{port}" in error.message
    assert f"[Errno {errno.ECONNREFUSED}]" in error.message
    assert isinstance(error.__cause__, httpx.ConnectError)


# -- 408 and 409 are retried ------------------------------------------------------------------


@pytest.mark.parametrize(("status", "reason"), [(408, Timeout), (409, Conflict)])
async def test_408_and_409_are_retried_then_succeed(
    server: FaultServer, status: int, reason: type
) -> None:
    server.script(reply(status, b""), reply(status, b""))
    response = await model_for(server.url, retries=2).generate_text(prompt="hi")
    assert response.text == "hello"
    assert len(server.requests) == 3
    server.clear()
    server.default = reply(status, b"")
    error = await generate_error(model_for(server.url, retries=1))
    assert type(error.reason) is reason
    assert error.is_retryable
    assert len(server.requests) == 2


# -- SSE framing (WHATWG) ---------------------------------------------------------------------


@BACKENDS
async def test_stream_opening_with_a_byte_order_mark_keeps_its_first_event(
    server: FaultServer,
) -> None:
    """A leading UTF-8 BOM is dropped (WHATWG); the first event used to be lost with it."""
    frames = sse_frames(["first", "second"])
    frames[0] = b"\xef\xbb\xbf" + frames[0]
    server.default = sse(frames)
    parts, error = await stream_parts(model_for(server.url))
    assert error is None
    assert deltas(parts) == ["first", "second"]


# -- one error map: the control plane and the data plane agree ---------------------------------

PARITY_FAULTS: dict[str, Callable[[], Action]] = {
    "429 with retry-after-ms and a log id": lambda: rate_limited(
        {"retry-after-ms": "10", "cf-aig-log-id": "01PARITY"}
    ),
    "401 of the gateway token (error list)": lambda: reply(
        401, {"success": False, "error": [{"code": 2009, "message": "Unauthorized"}]}
    ),
    "400 with field paths": lambda: reply(
        400, {"success": False, "errors": [{"code": 7003, "message": "bad", "path": ["a", 1]}]}
    ),
    "503 with an OpenAI error object": lambda: reply(
        503, {"error": {"message": "overloaded", "type": "server", "code": "busy"}}
    ),
    "502 with a text body": lambda: reply(502, b"<html>bad gateway</html>"),
    "404 without a body": lambda: reply(404, b""),
    "reset before the headers": reset_before_headers,
    "closed before the headers": close_before_headers,
    "reset in the middle of the body": reset_mid_body,
    "200 that is not JSON": lambda: reply(200, b"{not json"),
}


def _facts(error: AiError) -> tuple[object, ...]:
    r = error.reason
    return (type(r), r.status, r.code, r.message, r.log_id, r.retry_after, r.details)


@BACKENDS
@pytest.mark.parametrize("fault", list(PARITY_FAULTS))
async def test_the_control_plane_and_the_data_plane_give_the_same_reason(
    server: FaultServer, fault: str
) -> None:
    """The same fault, once retried (when retryable), through a model call, a stream's opening
    and a control-plane call: the same reason, field for field, after as many requests (a
    stream already handed to the caller excepted: it is never retried)."""
    server.default = PARITY_FAULTS[fault]()
    seen: dict[str, tuple[tuple[object, ...], int]] = {}

    error = await generate_error(model_for(server.url, retries=1))
    seen["generate"] = _facts(error), len(server.requests)
    server.clear()

    _parts, stream_error = await stream_parts(model_for(server.url, retries=1))
    assert stream_error is not None
    seen["stream"] = _facts(stream_error), len(server.requests)
    server.clear()

    policy = RetryPolicy(max_retries=1, initial_delay=0.01, jitter=0)
    async with GatewayAdmin("acct", "tok", f"{server.url}/client/v4", retry=policy) as admin:
        with pytest.raises(AiError) as caught:
            await admin.get("gw")
    seen["control"] = _facts(caught.value), len(server.requests)

    assert seen["generate"] == seen["control"]
    assert seen["control"][1] == (2 if caught.value.is_retryable else 1)
    facts, requests = seen["stream"]
    assert facts == seen["control"][0]
    if fault == "reset in the middle of the body":
        assert requests == 1  # a stream whose 2xx head has reached the caller is not retried
    else:
        assert requests == seen["control"][1]
