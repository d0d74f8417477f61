"""Attacks on issue 13's surfaces (cassettes, logging, OpenTelemetry) that once broke
something: each test failed before its fix."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import anyio
import httpx
import pytest

from aigateway_sdk.cassettes import Cassette, CassetteFormatError

SECRET = "sk-live-provider-key-0123456789"
URL = "http://x.test/v1/acct/gw/openai/chat/completions"


def _record(path: Path, answer: httpx.MockTransport, *, secrets: tuple[str, ...] = ()) -> None:
    async def run() -> None:
        with Cassette.open(path, "record", inner=answer, secrets=secrets) as cassette:
            async with httpx.AsyncClient(transport=cassette.transport) as client:
                for n in range(2):
                    reply = await client.post(
                        URL, json={"n": n}, headers={"authorization": f"Bearer {SECRET}"}
                    )
                    await reply.aread()

    anyio.run(run)


def _decoded_base64(text: str) -> list[bytes]:
    return [base64.b64decode(found) for found in re.findall(r'"base64": "([^"]*)"', text)]


def test_a_credential_echoed_in_a_reply_that_is_not_utf8_is_not_written_as_base64(
    tmp_path: Path,
) -> None:
    """A reply (or a stream event) that is not UTF-8 is kept as base64, which the scrubber
    never looked into: an upstream quoting the key in a Latin-1 error wrote it to the file."""

    def echo(request: httpx.Request) -> httpx.Response:
        seen = request.headers["authorization"].encode()
        if json.loads(request.content)["n"] == 1:
            stream = b"data: caf\xe9 " + seen + b"\n\n"
            return httpx.Response(
                200, content=stream, headers={"content-type": "text/event-stream"}
            )
        body = b"cl\xe9 invalide: " + seen
        return httpx.Response(401, content=body, headers={"content-type": "text/plain"})

    path = tmp_path / "echo.json"
    _record(path, httpx.MockTransport(echo))
    text = path.read_text()
    found = _decoded_base64(text)
    assert len(found) == 2  # the body and the event: both still base64
    assert SECRET not in text
    assert all(SECRET.encode() not in data and b"<scrubbed>" in data for data in found)


def test_a_configured_secret_is_scrubbed_from_a_base64_reply_too(tmp_path: Path) -> None:
    account = "0123456789abcdef0123456789abcdef"

    def echo(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"\xff" + account.encode(), headers={})

    path = tmp_path / "account.json"
    _record(path, httpx.MockTransport(echo), secrets=(account,))
    assert all(account.encode() not in data for data in _decoded_base64(path.read_text()))


def test_a_cut_stream_with_a_long_unfinished_event_records_in_linear_time(
    tmp_path: Path,
) -> None:
    """Splitting a stream into events used a regular expression that took quadratic time over
    an unfinished last event (12 s for 40 KB; hours for this one megabyte): recording hung."""
    tail = b"data: " + b"x" * 1_000_000

    def stream(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            content=b'data: {"a":1}\n\n' + tail,
            headers={"content-type": "text/event-stream"},
        )

    path = tmp_path / "cut.json"
    _record(path, httpx.MockTransport(stream))

    async def replay() -> bytes:
        with Cassette.open(path, "replay") as cassette:
            async with httpx.AsyncClient(transport=cassette.transport) as client:
                reply = await client.post(URL, json={"n": 0})
                return await reply.aread()

    assert anyio.run(replay) == b'data: {"a":1}\n\n' + tail


def test_a_recorded_non_ascii_header_replays(tmp_path: Path) -> None:
    """httpx reads a reply header that is not ASCII as UTF-8 or Latin-1 text; the replay gave
    that text back to httpx, which encodes headers as ASCII: a UnicodeEncodeError."""

    def answer(_request: httpx.Request) -> httpx.Response:
        headers = [(b"content-disposition", 'attachment; filename="caf\u00e9.txt"'.encode())]
        return httpx.Response(200, json={"ok": True}, headers=headers)

    path = tmp_path / "header.json"
    _record(path, httpx.MockTransport(answer))

    async def replay() -> str:
        with Cassette.open(path, "replay") as cassette:
            async with httpx.AsyncClient(transport=cassette.transport) as client:
                reply = await client.post(URL, json={"n": 0})
                return reply.headers["content-disposition"]

    assert anyio.run(replay) == 'attachment; filename="caf\u00e9.txt"'


def _cassette(response: str, request: str = '{"method": "POST", "url": "http://x.test/"}') -> str:
    return (
        '{"aigateway_cassette": 1, "interactions": [\n'
        f'{{"request": {request},\n'
        f' "response": {response}}}]}}\n'
    )


@pytest.mark.parametrize(
    ("response", "request_", "message"),
    [
        ('{"status": 200, "headers": {"x-a": "b\\r\\nx-injected: 1"}}', None, "one line"),
        ('{"status": 200, "headers": {"bad name:": "v"}}', None, "not a header name"),
        ('{"status": 200, "headers": {"x-a": "\\ud800"}}', None, "surrogates"),
        ('{"status": 200, "body": {"json": "\\ud800"}}', None, "surrogates"),
        ('{"status": 200, "body": {"text": "\\udfff"}}', None, "surrogates"),
        (
            '{"status": 200}',
            '{"method": "POST", "url": "http://x.test/", "body": {"json": {"q": "\\ud800"}}}',
            "surrogates",
        ),
        ('{"status": 200, "body": {"json": ' + "9" * 5000 + "}}", None, "digits"),
        ('{"status": 200, "body": {"base64": "!!!@@@"}}', None, "base64"),
    ],
)
def test_a_hostile_hand_edit_is_a_format_error_naming_the_line(
    tmp_path: Path, response: str, request_: str | None, message: str
) -> None:
    """Each used to load, then fail on replay with a UnicodeEncodeError or a ValueError far
    from the file (or, for junk base64, replay an empty body)."""
    path = tmp_path / "edited.json"
    path.write_text(_cassette(response, request_ or '{"method": "POST", "url": "http://x.test/"}'))
    with pytest.raises(CassetteFormatError) as caught:
        Cassette.open(path, "replay")
    assert caught.value.path == path
    assert caught.value.line in (2, 3)
    assert message in str(caught.value)


def test_a_byte_order_mark_is_read_as_the_editor_meant(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_text('\ufeff{"aigateway_cassette": 1, "interactions": []}', encoding="utf-8")
    with Cassette.open(path, "replay") as cassette:
        assert cassette.loaded == []


API_TOKEN = "api-token-SECRET-1a2b3c"
GATEWAY_TOKEN = "gateway-token-SECRET-4d5e6f"
PROVIDER_KEY = "sk-provider-SECRET-7a8b9c"
LEGACY_KEY = "legacy-global-key-SECRET-0d1e"


def _echoing(request: httpx.Request) -> httpx.Response:
    """A gateway (or upstream) that quotes every credential it was sent, in a field with an
    innocent name and in the completion itself."""
    seen = " ".join(f"{k}={v}" for k, v in request.headers.items() if "auth" in k)
    if "chat/completions" in request.url.path:
        message = {"role": "assistant", "content": f"echo {seen}"}
        return httpx.Response(
            200, json={"choices": [{"message": message, "finish_reason": "stop"}], "note": seen}
        )
    if "/accounts/" in request.url.path:
        return httpx.Response(
            200,
            json={"success": True, "errors": [], "messages": [], "result": [], "note": seen},
        )
    reply = {"response": f"echo {seen}", "usage": {"prompt_tokens": 1, "completion_tokens": 1}}
    return httpx.Response(200, json={"result": reply, "success": True, "note": seen})


@pytest.mark.anyio
async def test_no_credential_reaches_the_log_even_with_bodies_on() -> None:
    """With `bodies=True` only fields named like a secret were redacted: a reply quoting the
    key it was sent (an echo, an error message, a completion) logged the API token, the
    gateway token and the provider key. Each credential kind, both data-plane routes and
    the control plane."""
    import io

    from aigateway_sdk import GatewayBinding
    from aigateway_sdk.control import GatewayAdmin
    from aigateway_sdk.observe import configure_logging, log

    out = io.StringIO()
    handler = configure_logging("debug", bodies=True, stream=out)
    try:
        async with GatewayBinding(
            account_id="acct",
            gateway_id="gw",
            api_token=API_TOKEN,
            gateway_token=GATEWAY_TOKEN,
            provider_api_keys={"openai": PROVIDER_KEY},
            transport=httpx.MockTransport(_echoing),
        ) as binding:
            await binding.model("@cf/meta/llama-3.1-8b-instruct").generate_text(prompt="hi")
            await binding.model("openai/gpt-4o-mini").generate_text(prompt="hi")
        async with GatewayAdmin(
            "acct", API_TOKEN, transport=httpx.MockTransport(_echoing)
        ) as admin:
            assert [gateway async for gateway in admin.list()] == []
    finally:
        log.LOGGER.removeHandler(handler)
        log.LOGGER.setLevel(0)
        log._State.bodies = False
        log._State.handler = None
    text = out.getvalue()
    assert "reply body" in text  # the bodies were logged ...
    assert "echo" in text
    for secret in (API_TOKEN, GATEWAY_TOKEN, PROVIDER_KEY):
        assert secret not in text  # ... without the credentials they quoted
    assert log.body_text(
        f"x {LEGACY_KEY}".encode(), log.header_secrets({"x-auth-key": LEGACY_KEY})
    ) == ("x [redacted]")


def _quoting_401(request: httpx.Request) -> httpx.Response:
    """A provider that quotes the key it refused (as several do in their error messages)."""
    seen = request.headers.get("authorization", "")
    error = {"message": f"Incorrect API key provided: {seen}", "code": "invalid_api_key"}
    return httpx.Response(401, json={"error": error})


@pytest.mark.anyio
async def test_an_error_quoting_the_key_sent_keeps_it_out_of_the_exception_and_the_span() -> None:
    """The reply's message became the `AiError`'s, whole: the provider key it quoted went into
    `str(error)`, every log of that exception and the trace span's status description."""
    opentelemetry_sdk = pytest.importorskip("opentelemetry.sdk.trace")
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from aigateway_sdk import NO_RETRY, AiError, AuthenticationFailed, GatewayBinding
    from aigateway_sdk.observe.otel import instrument, uninstrument

    exporter = InMemorySpanExporter()
    provider = opentelemetry_sdk.TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrument(provider)
    try:
        async with GatewayBinding(
            account_id="acct",
            gateway_id="gw",
            gateway_token=GATEWAY_TOKEN,
            provider_api_keys={"openai": PROVIDER_KEY},
            transport=httpx.MockTransport(_quoting_401),
            retry=NO_RETRY,
        ) as binding:
            with pytest.raises(AiError) as caught:
                await binding.model("openai/gpt-4o-mini").generate_text(prompt="hi")
    finally:
        uninstrument()
    assert isinstance(caught.value.reason, AuthenticationFailed)
    assert "Incorrect API key provided: [redacted]" in str(caught.value)
    (span,) = exporter.get_finished_spans()
    seen = [str(caught.value), repr(caught.value.reason), str(span.status.description)]
    seen += [str(value) for value in (span.attributes or {}).values()]
    for text in seen:
        assert PROVIDER_KEY not in text
        assert GATEWAY_TOKEN not in text
