"""The pieces of the OpenAI forwarder's stream reader, without a server: the event stream's
JSON chunks, and what the stream said (usage, finish reason, text)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from aigateway_sdk.local.upstreams.forward import _chunks, _Tally
from aigateway_sdk.local.upstreams.redact import Redactor

pytestmark = pytest.mark.anyio


async def lines(*items: str) -> AsyncIterator[str]:
    for item in items:
        yield item


async def test_chunks_are_the_json_objects_of_data_lines_up_to_done() -> None:
    source = lines(
        ": comment",
        'data: {"a": 1}',
        "data: not json",
        "data: [1, 2]",
        'event: x\ndata: {"skipped": true}',
        'data:{"b": 2}',
        "data: [DONE]",
        'data: {"after": "done"}',
    )
    assert [chunk async for chunk in _chunks(source)] == [{"a": 1}, {"b": 2}]


def test_the_tally_keeps_usage_text_and_the_redacted_finish_reason() -> None:
    key = "sk-secret-0123456789"
    tally = _Tally()
    redactor = Redactor([key])
    assert tally.take({"choices": [{"delta": {"content": "he"}}]}, redactor) == ["he"]
    pieces = tally.take(
        {
            "choices": [
                {"delta": {"content": "llo"}, "finish_reason": f"stop {key}"},
                {"delta": {}},
            ],
            "usage": {"prompt_tokens": 3},
        },
        redactor,
    )
    assert pieces == ["llo"]
    assert tally.take({"choices": None, "usage": "not a dict"}, redactor) == []
    assert tally.produced == ["he", "llo"]
    assert tally.usage == {"prompt_tokens": 3}
    assert key not in tally.reason
    assert tally.reason.startswith("stop ")
