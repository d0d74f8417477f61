"""The bad-input rule (README, "Errors"), one row per place a user hands the SDK a value:

- a value the SDK checks field by field (bindings, models, options, parameters, retry policies,
  gateway specs, log filters and queries, admin credentials, proxies) raises `ValidationError`
  (a `ValueError`) naming the field, from the constructor or method it was given to, before
  anything is sent;
- the prompt, which only a call reads, gives `AiError(InvalidRequest)` as a refusal by the
  server would: `.result()` is `Err`, a stream raises it;
- no bare `ValueError` or `TypeError` for either.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from aigateway_sdk import (
    AiError,
    Err,
    GatewayAdmin,
    GatewayBinding,
    GatewayOptions,
    InvalidRequest,
    ModelParameters,
    RetryPolicy,
)
from aigateway_sdk.control.logs import LogFilter
from aigateway_sdk.control.spec import AiGateway
from aigateway_sdk.validation import ValidationError

from .helpers import MODEL, Recorder, binding_for

pytestmark = pytest.mark.anyio


def nothing_sent(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"nothing may be sent, but {request.method} {request.url} was")


def admin() -> GatewayAdmin:
    client = httpx.AsyncClient(transport=httpx.MockTransport(nothing_sent))
    return GatewayAdmin("acct", "tok", "https://api.test/client/v4", client=client)


def pooled(proxy: str) -> object:
    from aigateway_sdk.transport.pool import PooledTransport

    return PooledTransport(proxy=proxy)


BUILT: list[tuple[str, Callable[[], object], str]] = [
    ("binding", lambda: GatewayBinding(account_id="", gateway_id="gw"), "account_id"),
    ("model id", lambda: binding_for(Recorder(nothing_sent)).model(""), "model"),
    ("options", lambda: GatewayOptions(cache_ttl="long"), "cache_ttl"),  # type: ignore[arg-type]
    ("parameters", lambda: ModelParameters(temperature="hot"), "temperature"),  # type: ignore[arg-type]
    ("retry count", lambda: RetryPolicy(max_retries=-1), "max_retries"),
    ("retry count type", lambda: RetryPolicy(max_retries="2"), "max_retries"),  # type: ignore[arg-type]
    ("retry jitter", lambda: RetryPolicy(jitter=2), "jitter"),
    ("retry delay NaN", lambda: RetryPolicy(initial_delay=float("nan")), "initial_delay"),
    ("gateway spec", lambda: AiGateway("G", cache_ttl=-1), "cache_ttl"),
    ("log filter", lambda: LogFilter("", "eq", 1), "key"),
    ("admin account", lambda: GatewayAdmin("", "tok"), "account_id"),
    ("admin timeout", lambda: GatewayAdmin("acct", "tok", timeout="30"), "timeout"),  # type: ignore[arg-type]
    ("proxy scheme", lambda: pooled("ftp://proxy:21"), "proxy"),
]  # fmt: skip


@pytest.mark.parametrize(("build", "field"), [b[1:] for b in BUILT], ids=[b[0] for b in BUILT])
def test_a_bad_value_is_a_validation_error_naming_the_field(
    build: Callable[[], object], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        build()
    assert field in caught.value.fields
    assert isinstance(caught.value, ValueError)


CALLED: list[tuple[str, Callable[[], Any], str]] = [
    (
        "a parameters dict given to a call",
        lambda: (
            binding_for(Recorder(nothing_sent))
            .model(MODEL)
            .generate_text("hi", parameters={"temperature": "hot"})
        ),
        "temperature",
    ),
    ("a page size of 0", lambda: admin().list(per_page=0), "per_page"),
    ("a page size that is not a number", lambda: admin().list(per_page="9"), "per_page"),
    ("a negative log limit", lambda: admin().logs("gw").list(limit=-1), "limit"),
    ("a log limit that is not a number", lambda: admin().logs("gw").list(limit="9"), "limit"),
    ("an unknown order", lambda: admin().logs("gw").list(order_by="size"), "order_by"),
]


@pytest.mark.parametrize(("call", "field"), [c[1:] for c in CALLED], ids=[c[0] for c in CALLED])
def test_a_bad_argument_is_refused_by_the_method_it_was_given_to(
    call: Callable[[], Any], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        call()  # not awaited, not iterated: the method itself refuses it
    assert field in caught.value.fields


async def test_a_bad_delete_limit_is_refused_before_sending() -> None:
    async with admin() as control:
        with pytest.raises(ValidationError) as caught:
            await control.logs("gw").delete(limit=-1)
    assert caught.value.fields == ("limit",)


async def test_bad_feedback_is_refused_before_sending() -> None:
    async with admin() as control:
        with pytest.raises(ValidationError) as caught:
            await control.logs("gw").patch("l1", feedback=5, score=101)  # type: ignore[arg-type]
    assert caught.value.fields == ("feedback", "score")


@pytest.mark.parametrize("prompt", ["", "  ", [], [{"role": "robot", "content": "hi"}], 42])
async def test_a_bad_prompt_is_an_invalid_request_error_as_a_value(prompt: Any) -> None:
    lm = binding_for(Recorder(nothing_sent)).model(MODEL)
    outcome = await lm.generate_text(prompt).result()
    assert isinstance(outcome, Err)
    assert isinstance(outcome.error.reason, InvalidRequest)
    with pytest.raises(AiError) as caught:
        async for _part in lm.stream_text(prompt):
            pass
    assert isinstance(caught.value.reason, InvalidRequest)
