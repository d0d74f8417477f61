"""The pieces of the OpenAI forwarder's stream reader, without a server: the event stream's
JSON chunks, and what the stream said (usage, finish reason, text)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from aigateway_sdk.local.upstreams.base import Delta, ToolCallDelta
from aigateway_sdk.local.upstreams.forward import _chunks, _Redacting, _Tally
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
    assert tally.take({"choices": [{"delta": {"content": "he"}}]}, redactor) == [Delta("he")]
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
    assert pieces == [Delta("llo")]
    assert tally.take({"choices": None, "usage": "not a dict"}, redactor) == []
    assert tally.produced == ["he", "llo"]
    assert tally.usage == {"prompt_tokens": 3}
    assert key not in tally.reason
    assert tally.reason.startswith("stop ")


def test_the_tally_reads_tool_call_pieces() -> None:
    """OpenAI's `delta.tool_calls`: the first piece of a call has its id and name; objects
    as arguments (some servers) become JSON text; malformed items are skipped."""
    tally = _Tally()
    chunk = {
        "choices": [
            {
                "delta": {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": ""},
                        },
                        "not a call",
                        {"index": 1, "function": {"arguments": {"a": 1}}},
                    ]
                },
                "finish_reason": "tool_calls",
            }
        ]
    }
    events = tally.take(chunk, Redactor([]))
    assert events == [
        ToolCallDelta(0, "call_1", "get_weather", ""),
        ToolCallDelta(1, None, None, '{"a":1}'),
    ]
    assert tally.reason == "tool_calls"


def test_tool_call_arguments_are_redacted_across_pieces() -> None:
    key = "sk-secret-0123456789"
    redacting = _Redacting(Redactor([key]))
    sent = [
        redacting.feed(ToolCallDelta(0, "call_1", "f", "")),
        redacting.feed(ToolCallDelta(0, arguments='{"k": "' + key[:6])),
        redacting.feed(ToolCallDelta(0, arguments=key[6:] + '"}')),
        redacting.feed(ToolCallDelta(1, "call_2", "g", '{"x": "sk-')),
        *redacting.flush(),
    ]
    arguments: dict[int, str] = {}
    for event in sent:
        if isinstance(event, ToolCallDelta):
            arguments[event.index] = arguments.get(event.index, "") + event.arguments
    assert arguments == {0: '{"k": "[REDACTED]"}', 1: '{"x": "sk-'}
    assert sent[0] == ToolCallDelta(0, "call_1", "f", "")
