"""Every failure is an AiError with the right reason; or_die and result(); retries."""

from __future__ import annotations

import httpx
import pytest

from aigateway_sdk import (
    NO_RETRY,
    AiError,
    AuthenticationFailed,
    Conflict,
    Defect,
    Err,
    InvalidRequest,
    MalformedOutput,
    NetworkError,
    NotFound,
    Ok,
    PermissionDenied,
    ProviderError,
    RateLimited,
    Timeout,
    UnexpectedStatus,
)

from .helpers import MODEL, Recorder, binding_for, workers_ai_reply

pytestmark = pytest.mark.anyio

UNAUTHORIZED_2009 = {
    "success": False,
    "result": [],
    "messages": [],
    "error": [{"code": 2009, "message": "Unauthorized"}],
}


@pytest.mark.parametrize(
    ("status", "reason", "retryable"),
    [
        (400, InvalidRequest, False),
        (401, AuthenticationFailed, False),
        (403, PermissionDenied, False),
        (404, NotFound, False),
        (408, Timeout, True),
        (409, Conflict, True),
        (413, InvalidRequest, False),
        (418, UnexpectedStatus, False),
        (429, RateLimited, True),
        (500, ProviderError, True),
        (502, ProviderError, True),
        (503, ProviderError, True),
        (504, Timeout, True),
    ],
)
async def test_status_maps_to_reason(status: int, reason: type, retryable: bool) -> None:
    recorder = Recorder(
        httpx.Response(
            status,
            json={"success": False, "errors": [{"code": 7000 + status, "message": "nope"}]},
            headers={"cf-aig-log-id": "01FAIL"},
        )
    )
    lm = binding_for(recorder, retry=NO_RETRY).model(MODEL)
    with pytest.raises(AiError) as caught:
        await lm.generate_text(prompt="hi")
    error = caught.value
    assert type(error.reason) is reason
    assert error.is_retryable is retryable
    assert error.status == status
    assert error.code == 7000 + status
    assert error.message == "nope" or (status == 401 and error.message.startswith("nope: "))
    assert error.log_id == "01FAIL"
    assert f"status {status}" in str(error)


async def test_cloudflare_401_with_error_key_is_authentication_with_code_2009() -> None:
    recorder = Recorder(httpx.Response(401, json=UNAUTHORIZED_2009))
    lm = binding_for(recorder).model(MODEL)
    with pytest.raises(AiError) as caught:
        await lm.generate_text(prompt="hi")
    assert isinstance(caught.value.reason, AuthenticationFailed)
    assert caught.value.code == 2009
    assert len(recorder.requests) == 1  # not retried
    assert "cf-token-secret" not in str(caught.value) + repr(caught.value)


@pytest.mark.parametrize(
    ("body", "named", "not_named"),
    [
        (UNAUTHORIZED_2009, "gateway_token", "api_token"),
        (
            {"success": False, "errors": [{"code": 10000, "message": "Authentication error"}]},
            "api_token",
            "gateway_token",
        ),
    ],
)
async def test_a_401_says_which_credential_was_refused(
    body: dict[str, object], named: str, not_named: str
) -> None:
    """Cloudflare's 2009 is the gateway's own authentication (`cf-aig-authorization`); any
    other code on a 401 (10000 for instance) is the API token or the provider key."""
    lm = binding_for(Recorder(httpx.Response(401, json=body))).model(MODEL)
    with pytest.raises(AiError) as caught:
        await lm.generate_text(prompt="hi")
    assert isinstance(caught.value.reason, AuthenticationFailed)
    assert named in caught.value.message
    assert not_named not in caught.value.message
    assert "cf-token-secret" not in str(caught.value)


async def test_a_401_without_a_code_names_every_credential() -> None:
    lm = binding_for(Recorder(httpx.Response(401))).model(MODEL)
    with pytest.raises(AiError) as caught:
        await lm.generate_text(prompt="hi")
    assert caught.value.message.startswith("HTTP 401 Unauthorized: ")
    assert all(word in caught.value.message for word in ("API token", "gateway token"))


@pytest.mark.parametrize(("status", "reason"), [(408, Timeout), (409, Conflict)])
async def test_408_and_409_are_retried(status: int, reason: type) -> None:
    recorder = Recorder(httpx.Response(status))
    lm = binding_for(recorder).model(MODEL)
    with pytest.raises(AiError) as caught:
        await lm.generate_text(prompt="hi")
    assert type(caught.value.reason) is reason
    assert len(recorder.requests) == 3  # 1 + 2 retries


async def test_validation_error_details_keep_field_paths() -> None:
    body = {
        "success": False,
        "errors": [{"code": 7001, "message": "must be >= 0", "path": ["cache_ttl"]}],
    }
    lm = binding_for(Recorder(httpx.Response(400, json=body))).model(MODEL)
    with pytest.raises(AiError) as caught:
        await lm.generate_text(prompt="hi")
    assert caught.value.reason.details[0].path == ("cache_ttl",)


async def test_retries_then_succeeds_counting_attempts() -> None:
    recorder = Recorder(
        httpx.Response(503, text="busy"),
        httpx.Response(429, json={"errors": [{"code": 2003, "message": "Rate limited"}]}),
        httpx.Response(200, json=workers_ai_reply("finally")),
    )
    lm = binding_for(recorder).model(MODEL)
    response = await lm.generate_text(prompt="hi")
    assert response.text == "finally"
    assert len(recorder.requests) == 3


async def test_gives_up_after_max_retries_with_the_last_reason() -> None:
    recorder = Recorder(httpx.Response(429, headers={"retry-after-ms": "1"}))
    lm = binding_for(recorder).model(MODEL)
    with pytest.raises(AiError) as caught:
        await lm.generate_text(prompt="hi")
    assert isinstance(caught.value.reason, RateLimited)
    assert caught.value.retry_after == pytest.approx(0.001)
    assert len(recorder.requests) == 3  # 1 + 2 retries


async def test_retry_after_longer_than_the_policy_allows_raises_at_once() -> None:
    recorder = Recorder(httpx.Response(429, headers={"retry-after": "3600"}))
    lm = binding_for(recorder).model(MODEL)
    with pytest.raises(AiError) as caught:
        await lm.generate_text(prompt="hi")
    assert caught.value.retry_after == 3600
    assert len(recorder.requests) == 1


async def test_connection_errors_are_network_errors_and_retried() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    recorder = Recorder(refuse)
    lm = binding_for(recorder).model(MODEL)
    with pytest.raises(AiError) as caught:
        await lm.generate_text(prompt="hi")
    assert isinstance(caught.value.reason, NetworkError)
    assert caught.value.is_retryable
    assert len(recorder.requests) == 3


async def test_read_timeout_is_a_timeout() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    lm = binding_for(Recorder(slow), retry=NO_RETRY).model(MODEL)
    with pytest.raises(AiError) as caught:
        await lm.generate_text(prompt="hi")
    assert isinstance(caught.value.reason, Timeout)


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(200, content=b"{not json", headers={"content-type": "application/json"}),
        httpx.Response(200, content=b"<html>hi</html>", headers={"content-type": "text/html"}),
        httpx.Response(200, json={"result": {}}),
        httpx.Response(200, json={"result": {"response": 42}}),
        httpx.Response(200, json=[1, 2, 3]),
    ],
)
async def test_malformed_replies_are_malformed_output(reply: httpx.Response) -> None:
    lm = binding_for(Recorder(reply)).model(MODEL)
    with pytest.raises(AiError) as caught:
        await lm.generate_text(prompt="hi")
    assert isinstance(caught.value.reason, MalformedOutput)
    assert not caught.value.is_retryable


@pytest.mark.parametrize(
    "prompt", [[], [{"role": "robot", "content": "x"}], [{"role": "user"}], 42]
)
async def test_bad_prompts_fail_before_sending(prompt: object) -> None:
    recorder = Recorder(httpx.Response(200, json=workers_ai_reply()))
    lm = binding_for(recorder).model(MODEL)
    with pytest.raises(AiError) as caught:
        await lm.generate_text(prompt=prompt)  # type: ignore[arg-type]
    assert isinstance(caught.value.reason, InvalidRequest)
    assert "invalid prompt" in caught.value.message
    assert recorder.requests == []


async def test_or_die_turns_ai_error_into_defect() -> None:
    lm = binding_for(Recorder(httpx.Response(401, json=UNAUTHORIZED_2009))).model(MODEL)
    with pytest.raises(Defect) as caught:
        await lm.generate_text(prompt="hi").or_die()
    assert isinstance(caught.value.error.reason, AuthenticationFailed)
    assert caught.value.__cause__ is caught.value.error


async def test_result_gives_ok_or_err_values() -> None:
    ok_lm = binding_for(Recorder(httpx.Response(200, json=workers_ai_reply("yes")))).model(MODEL)
    outcome = await ok_lm.generate_text(prompt="hi").result()
    assert isinstance(outcome, Ok)
    assert outcome.value.text == "yes"
    bad_lm = binding_for(Recorder(httpx.Response(404)), retry=NO_RETRY).model(MODEL)
    failed = await bad_lm.generate_text(prompt="hi").result()
    assert isinstance(failed, Err)
    assert isinstance(failed.error.reason, NotFound)


async def test_ai_error_survives_pickling_for_process_pools() -> None:
    import pickle

    error = AiError(RateLimited(message="slow down", status=429, retry_after=1.5))
    copy = pickle.loads(pickle.dumps(error))
    assert copy.reason == error.reason


@pytest.mark.parametrize("base_url", ["ftp://127.0.0.1/v1", "http://[::1/v1"])
async def test_a_bad_base_url_is_an_invalid_request_for_both_calls(base_url: str) -> None:
    from aigateway_sdk import GatewayBinding

    lm = GatewayBinding(account_id="a", gateway_id="g", api_token="t", base_url=base_url).model(
        MODEL
    )
    with pytest.raises(AiError) as generate_error:
        await lm.generate_text(prompt="hi")
    with pytest.raises(AiError) as stream_error:
        await lm.stream_text(prompt="hi").collect()
    for caught in (generate_error, stream_error):
        assert isinstance(caught.value.reason, InvalidRequest)
        assert "base_url" in caught.value.message
