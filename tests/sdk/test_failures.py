"""The error map (`transport/failures.py`), table-driven and without I/O: a reply's status,
headers and body shape, an exception, or a stream's error frame -> the reason a user gets."""

from __future__ import annotations

import errno
from typing import Any

import anyio
import httpx
import pytest

from aigateway_sdk import _json
from aigateway_sdk.errors import (
    AuthenticationFailed,
    Conflict,
    ErrorDetail,
    InvalidRequest,
    MalformedOutput,
    NetworkError,
    NotFound,
    PermissionDenied,
    ProviderError,
    RateLimited,
    Reason,
    Timeout,
    UnexpectedStatus,
)
from aigateway_sdk.transport.failures import (
    MAX_MESSAGE_CHARS,
    conflict_if_taken,
    error_details,
    malformed,
    reason_from_body,
    reason_from_error_frame,
    reason_from_exception,
    reason_from_response,
    stream_interrupted,
)

URL = "http://127.0.0.1:8799/v1/acct/gw/workers-ai/@cf/m"


def cloudflare(code: int, message: str, **extra: Any) -> dict[str, Any]:
    return {"success": False, "errors": [{"code": code, "message": message, **extra}]}


# -- status -> reason class (whatever the body) -----------------------------------------------

STATUS_CLASSES = [
    (400, InvalidRequest),
    (401, AuthenticationFailed),
    (403, PermissionDenied),
    (404, NotFound),
    (405, InvalidRequest),
    (408, Timeout),
    (409, Conflict),
    (413, InvalidRequest),
    (415, InvalidRequest),
    (418, UnexpectedStatus),
    (422, InvalidRequest),
    (429, RateLimited),
    (500, ProviderError),
    (502, ProviderError),
    (503, ProviderError),
    (504, Timeout),
    (200, UnexpectedStatus),  # a 2xx envelope saying success: false
]


@pytest.mark.parametrize(("status", "cls"), STATUS_CLASSES)
@pytest.mark.parametrize("body", [b"", b"not json", _json.dumps(cloudflare(7001, "nope"))])
def test_the_status_decides_the_class(status: int, cls: type[Reason], body: bytes) -> None:
    reason = reason_from_response(status, httpx.Headers(), body)
    assert type(reason) is cls
    assert reason.status == status


# -- body shape -> message, code, details -----------------------------------------------------

BODY_SHAPES: list[tuple[str, object, str, int | None, tuple[ErrorDetail, ...]]] = [
    (
        "cloudflare errors list with a path",
        cloudflare(7003, "cache_ttl must be >= 0", path=["cache_ttl"]),
        "cache_ttl must be >= 0",
        7003,
        (ErrorDetail(7003, "cache_ttl must be >= 0", ("cache_ttl",)),),
    ),
    (
        "cloudflare: several errors are joined, the first code kept",
        {"errors": [{"code": 1, "message": "a"}, {"code": 2, "message": "b"}]},
        "a; b",
        1,
        (ErrorDetail(1, "a"), ErrorDetail(2, "b")),
    ),
    (
        "cloudflare's `error` list (seen on 401s)",
        {"success": False, "error": [{"code": 2009, "message": "Unauthorized"}]},
        "Unauthorized",
        2009,
        (ErrorDetail(2009, "Unauthorized"),),
    ),
    (
        "openai error object (a text code is not Cloudflare's code)",
        {"error": {"message": "bad key", "type": "auth", "code": "invalid_api_key"}},
        "bad key",
        None,
        (ErrorDetail(None, "bad key"),),
    ),
    (
        "a bare error string",
        {"error": "upstream broke"},
        "upstream broke",
        None,
        (ErrorDetail(None, "upstream broke"),),
    ),
    (
        "entries that are not objects are skipped; a bool is no code",
        {"errors": ["x", {"code": True, "message": "m"}]},
        "m",
        None,
        (ErrorDetail(None, "m"),),
    ),
    (
        "an error without a message: the status phrase",
        {"errors": [{"code": 5}]},
        "HTTP 503 Service Unavailable",
        5,
        (ErrorDetail(5, ""),),
    ),
    ("an empty errors list", {"errors": []}, "HTTP 503 Service Unavailable", None, ()),
    ("json that is not an object", ["a", "b"], "HTTP 503 Service Unavailable", None, ()),
    ("no body at all", None, "HTTP 503 Service Unavailable", None, ()),
]


@pytest.mark.parametrize(
    ("body", "message", "code", "details"),
    [case[1:] for case in BODY_SHAPES],
    ids=[case[0] for case in BODY_SHAPES],
)
def test_the_body_gives_message_code_and_details(
    body: object, message: str, code: int | None, details: tuple[ErrorDetail, ...]
) -> None:
    content = b"" if body is None else _json.dumps(body)
    reason = reason_from_response(503, httpx.Headers(), content)
    assert (reason.message, reason.code, reason.details) == (message, code, details)
    assert reason_from_body(503, None, body) == reason  # the parsed form gives the same


def test_headers_give_log_id_and_retry_after() -> None:
    headers = httpx.Headers({"cf-aig-log-id": "01LOG", "retry-after-ms": "1500"})
    reason = reason_from_response(429, headers, b"")
    assert (reason.log_id, reason.retry_after) == ("01LOG", 1.5)


@pytest.mark.parametrize(
    ("code", "names"),
    [(2009, "gateway_token"), (10000, "api_token or provider_api_keys"), (None, "is missing")],
)
def test_a_401_names_the_refused_credential(code: int | None, names: str) -> None:
    body = {"errors": [{"code": code, "message": "Unauthorized"}]}
    reason = reason_from_response(401, httpx.Headers(), _json.dumps(body))
    assert reason.message.startswith("Unauthorized: ")
    assert names in reason.message


def test_long_messages_are_cut() -> None:
    reason = reason_from_body(400, None, cloudflare(1, "x" * 10_000))
    assert len(reason.message) == MAX_MESSAGE_CHARS


def test_a_fallback_replaces_the_status_phrase() -> None:
    assert reason_from_body(200, None, {"success": False}, fallback="success: false").message == (
        "success: false"
    )
    assert reason_from_body(200, None, cloudflare(9, "m"), fallback="unused").message == "m"


def test_error_details_of_anything_else_is_empty() -> None:
    for body in (None, 3, "text", [], {"errors": None}, {"errors": 5}):
        assert error_details(body) == ()


# -- exception -> reason ----------------------------------------------------------------------


def _request() -> httpx.Request:
    return httpx.Request("POST", URL)


def _refused() -> httpx.ConnectError:
    error = httpx.ConnectError("All connection attempts failed", request=_request())
    error.__cause__ = ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
    return error


EXCEPTIONS: list[tuple[str, Exception, type[Reason], str]] = [
    ("httpx connect timeout", httpx.ConnectTimeout("t", request=_request()), Timeout, ":8799"),
    ("httpx read timeout", httpx.ReadTimeout("t", request=_request()), Timeout, "waiting for"),
    ("a bare TimeoutError", TimeoutError(), Timeout, "timed out"),
    ("refused", _refused(), NetworkError, f"[Errno {errno.ECONNREFUSED}]"),
    ("read error", httpx.ReadError("boom", request=_request()), NetworkError, "failed: boom"),
    ("remote protocol", httpx.RemoteProtocolError("cut"), NetworkError, "connection failed"),
    ("decoding", httpx.DecodingError("bad gzip"), MalformedOutput, "could not decode"),
    ("invalid url", httpx.InvalidURL("x"), InvalidRequest, "base_url"),
    ("unsupported protocol", httpx.UnsupportedProtocol("ftp"), InvalidRequest, "base_url"),
    ("anyio end of stream", anyio.EndOfStream(), NetworkError, "EndOfStream"),
    ("anyio broken", anyio.BrokenResourceError(), NetworkError, "BrokenResourceError"),
    ("an OS error", ConnectionResetError(errno.ECONNRESET, "reset"), NetworkError, "reset"),
]


@pytest.mark.parametrize(
    ("error", "cls", "says"), [case[1:] for case in EXCEPTIONS], ids=[c[0] for c in EXCEPTIONS]
)
def test_exceptions_map_to_reasons(error: Exception, cls: type[Reason], says: str) -> None:
    reason = reason_from_exception(error)
    assert type(reason) is cls
    assert says in reason.message
    assert reason.status is None


def test_the_os_error_is_found_inside_an_exception_group() -> None:
    error = httpx.ConnectError("failed", request=_request())
    error.__context__ = ExceptionGroup("all", [OSError(errno.EHOSTUNREACH, "No route to host")])
    assert f"[Errno {errno.EHOSTUNREACH}] No route to host" in reason_from_exception(error).message


def test_a_stream_interruption_keeps_the_class_and_says_so() -> None:
    reason = stream_interrupted(httpx.ReadError("boom", request=_request()), log_id="01L")
    assert type(reason) is NetworkError
    assert reason.message.startswith("stream interrupted: connection to 127.0.0.1:8799 failed")
    assert reason.log_id == "01L"


# -- a stream's error frame -> reason ---------------------------------------------------------

FRAMES: list[tuple[str, bytes, str | None, str | None, int | None]] = [
    ("event: error, cloudflare errors", b'{"errors":[{"code":3040,"message":"busy"}]}', "error",
     "the stream failed: busy", 3040),
    ("an openai error frame", b'{"error":{"message":"overloaded","code":"x"}}', None,
     "the stream failed: overloaded", None),
    ("event: error, plain text", b"upstream died", "error", "the stream failed: upstream died",
     None),
    ("error flag with a message", b'{"error":true,"message":"m"}', None,
     "the stream failed: m", None),
    ("an ordinary event", b'{"response":"hi"}', None, None, None),
    ("an empty errors list is no error", b'{"response":"","errors":[]}', None, None, None),
    ("not json", b"[DONE]", None, None, None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("data", "event", "message", "code"), [f[1:] for f in FRAMES], ids=[f[0] for f in FRAMES]
)
def test_stream_error_frames(
    data: bytes, event: str | None, message: str | None, code: int | None
) -> None:
    reason = reason_from_error_frame(data, event, log_id="01L")
    if message is None:
        assert reason is None
        return
    assert isinstance(reason, ProviderError)
    assert (reason.message, reason.code, reason.log_id) == (message, code, "01L")


def test_a_long_error_frame_is_cut() -> None:
    reason = reason_from_error_frame(b"x" * 10_000, "error")
    assert reason is not None
    assert len(reason.message) == MAX_MESSAGE_CHARS


# -- constructors -----------------------------------------------------------------------------


def test_malformed_takes_the_log_id_from_headers() -> None:
    reason = malformed("bad", status=200, headers=httpx.Headers({"cf-aig-log-id": "01L"}))
    assert reason == MalformedOutput(message="bad", status=200, log_id="01L")
    assert malformed("bad") == MalformedOutput(message="bad")


@pytest.mark.parametrize(
    ("reason", "conflict"),
    [
        (InvalidRequest(message="Gateway g already exists", status=400, code=7001), True),
        (InvalidRequest(message="duplicate id", status=400), True),
        (InvalidRequest(message="name already in use", status=400), True),
        (InvalidRequest(message="cache_ttl must be >= 0", status=400), False),
        (ProviderError(message="already exists", status=500), False),  # only a refused request
        (Conflict(message="exists", status=409), True),
    ],
)
def test_a_taken_id_is_a_conflict(reason: Reason, conflict: bool) -> None:
    mapped = conflict_if_taken(reason)
    assert isinstance(mapped, Conflict) is conflict
    assert (mapped.message, mapped.status, mapped.code) == (
        reason.message,
        reason.status,
        reason.code,
    )
    if not conflict:
        assert mapped is reason
