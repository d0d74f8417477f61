"""Parsing an OpenAI chat-completions body: what it yields, and which field a bad body names
(the first problem, in the order model, messages, n, numbers, stream, stream_options)."""

from __future__ import annotations

from typing import Any

import pytest

from aigateway_sdk.local.dataplane.wire import parse_openai
from aigateway_sdk.local.web.errors import ApiError

MESSAGES = [{"role": "user", "content": "hi"}]


def test_the_compat_route_takes_the_provider_from_the_model() -> None:
    body = {
        "model": "workers-ai/@cf/m",
        "messages": MESSAGES,
        "user": "u",
        "temperature": 0.5,
        "seed": 3,
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": 9,
    }
    request, label, include_usage = parse_openai(body, provider=None, authorization="Bearer k")
    assert (request.provider, request.model, label) == ("workers-ai", "@cf/m", "workers-ai/@cf/m")
    assert request.params == (("seed", 3), ("temperature", 0.5), ("user", "u"))  # sorted
    assert (request.stream, include_usage, request.max_tokens) == (True, True, 9)
    assert request.authorization == "Bearer k"


def test_a_provider_route_keeps_the_model_as_written() -> None:
    body = {"model": "gpt-4o/mini", "messages": MESSAGES, "stream_options": None}
    request, label, include_usage = parse_openai(body, provider="openai", authorization=None)
    assert (request.provider, request.model, label) == ("openai", "gpt-4o/mini", "gpt-4o/mini")
    assert (request.stream, include_usage, request.params) == (False, False, ())


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"model": None}, "model"),
        ({"model": "no-slash"}, "model"),
        ({"model": "/m"}, "model"),
        ({"messages": "hi", "n": 2}, "messages"),
        ({"n": 2, "temperature": 9}, "n"),
        ({"temperature": 9, "stream": "yes"}, "temperature"),
        ({"top_p": "high"}, "top_p"),
        ({"stream": "yes", "stream_options": []}, "stream"),
        ({"stream_options": []}, "stream_options"),
        (
            {"stream_options": {"include_usage": 1}, "max_tokens": -1},
            "stream_options.include_usage",
        ),
        ({"max_tokens": -1}, "max_tokens"),
    ],
)
def test_a_bad_body_names_its_first_bad_field(change: dict[str, Any], field: str) -> None:
    body = {"model": "workers-ai/@cf/m", "messages": MESSAGES, **change}
    with pytest.raises(ApiError) as caught:
        parse_openai(body, provider=None, authorization=None)
    assert caught.value.status == 400
    assert [item.path for item in caught.value.items] == [(field,)]


def test_include_usage_must_be_a_boolean() -> None:
    body = {"model": "m", "messages": MESSAGES, "stream_options": {"include_usage": "yes"}}
    with pytest.raises(ApiError) as caught:
        parse_openai(body, provider="openai", authorization=None)
    assert [item.path for item in caught.value.items] == [("stream_options.include_usage",)]


@pytest.mark.parametrize("stop", ["END", ["a", "b", "c", "d"]])
def test_stop_is_a_string_or_up_to_four(stop: object) -> None:
    body = {"model": "m", "messages": MESSAGES, "stop": stop}
    request, _, _ = parse_openai(body, provider="openai", authorization=None)
    assert request.params == (("stop", stop),)


@pytest.mark.parametrize("stop", [["a", "b", "c", "d", "e"], [1], {"a": 1}, 3])
def test_a_bad_stop_is_refused_by_name(stop: object) -> None:
    body = {"model": "m", "messages": MESSAGES, "stop": stop}
    with pytest.raises(ApiError) as caught:
        parse_openai(body, provider="openai", authorization=None)
    assert [item.path for item in caught.value.items] == [("stop",)]
