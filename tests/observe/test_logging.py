"""The `aigateway_sdk` logger: a line per request, retries and give-ups, no secret or prompt
unless bodies are asked for, `AIGATEWAY_LOG` without code, and nothing done when it is off."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from aigateway_sdk import NO_RETRY, AiError, GatewayBinding, RateLimited, RetryPolicy
from aigateway_sdk.local import LocalGateway, LocalGatewayConfig
from aigateway_sdk.observe import configure_logging, log
from tests.local.helpers import GATEWAY_DEFAULTS
from tests.sdk.helpers import MODEL, Recorder, binding_for, workers_ai_reply

pytestmark = pytest.mark.anyio

BOTH = pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
ACCOUNT = "acct-log"
API_TOKEN = "api-token-SECRET-1"
GATEWAY_TOKEN = "gateway-token-SECRET-2"
PROVIDER_KEY = "sk-provider-SECRET-3"
PROMPT = "my private prompt about Zanzibar"
SECRETS = (API_TOKEN, GATEWAY_TOKEN, PROVIDER_KEY)
HEADERS = {
    "content-type": "application/json",
    "cf-aig-log-id": "01LOG",
    "cf-aig-cache-status": "MISS",
}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalGateway]:
    db = Path(tmp_path_factory.mktemp("observe-log")) / "gw.db"
    with LocalGateway(LocalGatewayConfig(db_path=db, api_token=API_TOKEN)) as gw:
        reply = httpx.post(
            f"{gw.api_url}/accounts/{ACCOUNT}/ai-gateway/gateways",
            json={"id": "open", **GATEWAY_DEFAULTS},
            headers={"authorization": f"Bearer {API_TOKEN}"},
        )
        assert reply.status_code == 200, reply.text
        yield gw


@pytest.fixture
def records(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="aigateway_sdk")
    return caplog


def sdk_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "aigateway_sdk"]


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every record's message and extra fields, as text."""
    return "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)


@BOTH
async def test_one_debug_line_per_request_with_the_gateway_facts(
    gateway: LocalGateway, records: pytest.LogCaptureFixture
) -> None:
    async with GatewayBinding(
        account_id=ACCOUNT,
        gateway_id="open",
        api_token=API_TOKEN,
        gateway_token=GATEWAY_TOKEN,
        base_url=gateway.data_url,
    ) as b:
        response = await b.model(MODEL).generate_text(prompt=PROMPT)
    (line,) = sdk_records(records)
    assert line.levelno == logging.DEBUG
    message = line.getMessage()
    assert message.startswith(
        f"POST {gateway.data_url}/{ACCOUNT}/open/workers-ai/{MODEL} -> 200 in "
    )
    assert "attempt 1" in message
    assert "cache MISS" in message
    assert f"log id {response.log_id}" in message
    assert line.__dict__["status"] == 200
    assert line.__dict__["attempt"] == 1
    assert line.__dict__["log_id"] == response.log_id
    assert line.__dict__["duration_ms"] > 0
    logged = everything_logged(records)
    for secret in SECRETS:
        assert secret not in logged
    assert "Zanzibar" not in logged  # the prompt
    assert response.text not in logged  # the completion


async def test_no_credential_kind_is_logged_even_with_bodies(
    records: pytest.LogCaptureFixture,
) -> None:
    """API token, gateway token and provider key (compat route: `authorization`), with bodies
    on: headers are never logged, and secret-like JSON fields are redacted."""
    reply = {
        "id": "c1",
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1},
        "api_key": PROVIDER_KEY,
    }
    recorder = Recorder(httpx.Response(200, json=reply, headers=HEADERS))
    configure_logging("debug", bodies=True, stream=io.StringIO())
    try:
        async with GatewayBinding(
            account_id="acct",
            gateway_id="gw",
            api_token=API_TOKEN,
            gateway_token=GATEWAY_TOKEN,
            provider_api_keys={"openai": PROVIDER_KEY},
            transport=httpx.MockTransport(recorder),
        ) as b:
            await b.model("openai/gpt-4o-mini").generate_text(
                prompt=PROMPT, extra_body={"metadata": {"token": GATEWAY_TOKEN}}
            )
    finally:
        configure_logging("warning")
    sent = recorder.requests[0].headers
    assert PROVIDER_KEY in sent["authorization"]  # it was sent, and...
    logged = everything_logged(records)
    for secret in SECRETS:
        assert secret not in logged  # ...never logged
    assert "Zanzibar" in logged  # bodies were asked for
    assert '"api_key":"[redacted]"' in logged
    assert '"token":"[redacted]"' in logged


async def test_retries_at_info_and_giving_up_at_warning(
    records: pytest.LogCaptureFixture,
) -> None:
    limited = httpx.Response(
        429,
        json={"success": False, "errors": [{"code": 2003, "message": "Rate limited"}]},
        headers={"retry-after": "0", "cf-aig-log-id": "01LIMIT"},
    )
    recorder = Recorder(
        limited, limited, httpx.Response(200, json=workers_ai_reply(), headers=HEADERS)
    )
    async with binding_for(recorder) as b:
        await b.model(MODEL).generate_text(prompt="hi")
    lines = [(r.levelname, r.getMessage()) for r in sdk_records(records)]
    assert [level for level, _ in lines] == ["DEBUG", "INFO", "DEBUG", "INFO", "DEBUG"]
    assert "-> RateLimited 429 in" in lines[0][1]
    assert "attempt 1" in lines[0][1]
    assert "log id 01LIMIT" in lines[0][1]
    assert lines[1][1].startswith("retry 1 POST http")
    assert "after RateLimited 429 (log id 01LIMIT)" in lines[1][1]
    assert "attempt 3" in lines[4][1]
    assert "-> 200 in" in lines[4][1]

    records.clear()
    recorder = Recorder(limited)
    async with binding_for(recorder) as b:
        with pytest.raises(AiError) as caught:
            await b.model(MODEL).generate_text(prompt="hi")
    assert isinstance(caught.value.reason, RateLimited)
    warning = sdk_records(records)[-1]
    assert warning.levelno == logging.WARNING
    assert warning.getMessage().startswith("giving up POST http")
    assert "after 3 attempts: RateLimited 429 (log id 01LIMIT); max_retries=2 used" in (
        warning.getMessage()
    )
    assert warning.__dict__["why"] == "max_retries=2 used"


async def test_a_catalog_search_is_logged_with_its_query(
    gateway: LocalGateway, records: pytest.LogCaptureFixture
) -> None:
    async with GatewayBinding(
        account_id=ACCOUNT, api_token=API_TOKEN, api_base_url=gateway.api_url
    ) as b:
        found = [m.name async for m in b.models(search="llama", per_page=2)]
    assert len(found) == 3  # two pages
    lines = [r.getMessage() for r in sdk_records(records)]
    assert len(lines) == 2
    assert "/ai/models/search?search=llama&page=1&per_page=2 -> 200" in lines[0]
    assert "/ai/models/search?search=llama&page=2&per_page=2 -> 200" in lines[1]
    assert API_TOKEN not in everything_logged(records)


async def test_giving_up_names_the_policy_field_that_stopped_it(
    records: pytest.LogCaptureFixture,
) -> None:
    limited = httpx.Response(
        429,
        json={"success": False, "errors": [{"code": 2003, "message": "Rate limited"}]},
        headers={"retry-after": "1"},
    )
    policy = RetryPolicy(max_retries=5, max_total_delay=0.5)  # a 1 s wait would pass it
    async with binding_for(Recorder(limited), retry=policy) as b:
        with pytest.raises(AiError):
            await b.model(MODEL).generate_text(prompt="hi")
    warning = sdk_records(records)[-1]
    assert warning.getMessage().endswith("; max_total_delay=0.5 s reached")


async def test_no_retry_policy_gives_no_warning(records: pytest.LogCaptureFixture) -> None:
    recorder = Recorder(httpx.Response(503, json={"success": False, "errors": []}))
    async with binding_for(recorder, retry=NO_RETRY) as b:
        with pytest.raises(AiError):
            await b.model(MODEL).generate_text(prompt="hi")
    assert [r.levelname for r in sdk_records(records)] == ["DEBUG"]


async def test_streams_are_logged_when_opened(records: pytest.LogCaptureFixture) -> None:
    body = b'data: {"response":"Hi"}\n\ndata: [DONE]\n\n'
    headers = {**HEADERS, "content-type": "text/event-stream"}
    recorder = Recorder(httpx.Response(200, content=body, headers=headers))
    async with binding_for(recorder) as b:
        text = await b.model(MODEL).stream_text(prompt=PROMPT).collect()
    assert text.text == "Hi"
    (line,) = sdk_records(records)
    assert "-> 200 in" in line.getMessage()
    assert "log id 01LOG" in line.getMessage()
    assert "Zanzibar" not in everything_logged(records)


async def test_nothing_is_done_when_the_logger_is_off(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="aigateway_sdk")

    def refuse(*args: object) -> None:
        raise AssertionError("the request was wrapped for logging while DEBUG is off")

    monkeypatch.setattr(log, "logged", refuse)
    recorder = Recorder(httpx.Response(200, json=workers_ai_reply(), headers=HEADERS))
    async with binding_for(recorder) as b:
        await b.model(MODEL).generate_text(prompt="hi")
        await b.model(MODEL).stream_text(prompt="hi").collect()
    assert sdk_records(caplog) == []


def test_urls_lose_user_info_and_secret_query_values() -> None:
    assert log.safe_url("https://user:pw@example.com/a?x=1") == "https://example.com/a?x=1"
    shown = log.safe_url("https://example.com/a?api_key=abc&page=2&token=t&max_tokens=5")
    assert "abc" not in shown
    assert "=t&" not in shown
    assert "page=2" in shown
    assert "max_tokens=5" in shown
    assert log.safe_url("http://u:p@host:99999/") == "http://host:99999/"


def test_redaction_keeps_the_shape() -> None:
    value = {"messages": [{"content": "x", "apiKey": "k"}], "max_tokens": 3, "password": "p"}
    assert log.redacted(value) == {
        "messages": [{"content": "x", "apiKey": "[redacted]"}],
        "max_tokens": 3,
        "password": "[redacted]",
    }


def test_configure_refuses_an_unknown_level() -> None:
    with pytest.raises(ValueError, match="debug, info, warning"):
        configure_logging("loud")


SCRIPT = """
import asyncio, httpx
from aigateway_sdk import GatewayBinding
def reply(request):
    return httpx.Response(200, json={"result": {"response": "secret completion"}, "success": True,
                                     "errors": [], "messages": []},
                          headers={"cf-aig-log-id": "01ENV"})
async def main():
    async with GatewayBinding(account_id="a", gateway_id="g", api_token="TOKEN-XYZ",
                              transport=httpx.MockTransport(reply)) as b:
        await b.model("@cf/meta/llama-3.1-8b-instruct").generate_text(prompt="secret prompt")
asyncio.run(main())
"""


def run_script(**env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AIGATEWAY_LOG")}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env={**environ, **env},
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    return done.stderr


GIVE_UP_SCRIPT = """
import asyncio, httpx
from aigateway_sdk import AiError, GatewayBinding
def reply(request):
    return httpx.Response(429, json={"success": False, "errors": [{"code": 2031,
                          "message": "Spend limit exceeded"}]}, headers={"retry-after": "3600"})
async def main():
    async with GatewayBinding(account_id="a", gateway_id="g", api_token="t",
                              transport=httpx.MockTransport(reply)) as b:
        try:
            await b.model("@cf/meta/llama-3.1-8b-instruct").generate_text(prompt="hi")
        except AiError:
            pass
asyncio.run(main())
"""


def test_a_give_up_says_nothing_unless_logging_is_configured() -> None:
    """Off by default means off: an application that configures no logging gets no stray
    'giving up' line on stderr (Python's last-resort handler prints unhandled WARNINGs)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AIGATEWAY_LOG")}
    for env, expected in (({}, False), ({"AIGATEWAY_LOG": "warning"}, True)):
        done = subprocess.run(
            [sys.executable, "-c", GIVE_UP_SCRIPT],
            env={**environ, **env},
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        assert ("giving up POST" in done.stderr) is expected, done.stderr
    # and the line says why a 429 was not retried at all
    assert "after 1 attempt: RateLimited 429" in done.stderr
    assert "; Retry-After 3600 s is over max_retry_after=30 s" in done.stderr


def test_aigateway_log_turns_it_on_without_code() -> None:
    assert run_script() == ""
    debug = run_script(AIGATEWAY_LOG="debug")
    assert "DEBUG aigateway_sdk: POST https://gateway.ai.cloudflare.com/v1/a/g/workers-ai/" in debug
    assert "log id 01ENV" in debug
    assert "TOKEN-XYZ" not in debug
    assert "secret" not in debug
    assert run_script(AIGATEWAY_LOG="info") == ""  # a call without retries says nothing at INFO
    bodies = run_script(AIGATEWAY_LOG="DEBUG", AIGATEWAY_LOG_BODIES="1")
    assert "secret prompt" in bodies
    assert "secret completion" in bodies
    assert "TOKEN-XYZ" not in bodies
    wrong = run_script(AIGATEWAY_LOG="verbose")
    assert wrong.strip() == (
        "aigateway_sdk: ignoring AIGATEWAY_LOG='verbose' (expected one of debug, info, warning)"
    )
