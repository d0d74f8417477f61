"""Hostile replies and hostile input on the SDK's tool, structured-output and prompt paths: a
reply asking for thousands of tool calls, arguments or objects nested thousands of levels deep
(with orjson and with the standard library's json), a stream naming a call per index without
end, handlers raising what is not an `Exception` or returning what cannot be read, and prompt
dicts of the wrong types. Each is a typed error (or the exception raised, as raised), never a
`RecursionError`, `TypeError` or exception group out of the SDK, and nothing runs that should
not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import attrs
import httpx
import pytest

from aigateway_sdk import (
    AiError,
    ImagePart,
    InvalidOutput,
    InvalidRequest,
    InvalidToolArguments,
    MalformedOutput,
    Message,
    Tool,
    ToolFailed,
    Toolkit,
    ValidationError,
    tool,
)
from aigateway_sdk.codecs import ToolCallChunk
from aigateway_sdk.codecs.base import MAX_TOOL_CALLS, Chunk
from aigateway_sdk.content import ToolCall
from aigateway_sdk.prompt import to_messages
from aigateway_sdk.response import ReplyHead
from aigateway_sdk.streaming import StreamAssembler
from aigateway_sdk.testing import FakeLanguageModel
from aigateway_sdk.tools import run_tool_calls

from .helpers import MODEL, Recorder, binding_for, sse

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
COMPAT_MODEL = "workers-ai/@cf/meta/llama-3.1-8b-instruct"
SSE_HEADERS = {"content-type": "text/event-stream"}
DEEP = 900
"""Levels of nesting: within orjson's limit (1,024), far past what a recursive validator
follows within Python's recursion limit."""


def counting_toolkit() -> tuple[Toolkit, list[int]]:
    ran: list[int] = []

    @tool
    async def t(n: int = 0) -> str:
        """Counts its runs."""
        ran.append(n)
        return "ok"

    return Toolkit(t), ran


def whole_reply(route: str, calls: int) -> dict[str, Any]:
    listed = [
        {"id": f"c{i}", "type": "function", "function": {"name": "t", "arguments": "{}"}}
        for i in range(calls)
    ]
    if route == "native":
        return {"result": {"response": None, "tool_calls": listed}, "success": True}
    message = {"role": "assistant", "content": None, "tool_calls": listed}
    return {"choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}]}


def model_for(route: str, recorder: Recorder) -> Any:
    return binding_for(recorder).model(MODEL if route == "native" else COMPAT_MODEL)


# --- a reply asking for too many tool calls ----------------------------------------------------


@pytest.mark.parametrize("route", ["native", "compat"])
async def test_a_reply_with_more_than_the_most_tool_calls_is_malformed_and_runs_nothing(
    route: str,
) -> None:
    toolkit, ran = counting_toolkit()
    lm = model_for(
        route, Recorder(httpx.Response(200, json=whole_reply(route, MAX_TOOL_CALLS + 1)))
    )
    with pytest.raises(AiError) as caught:
        await lm.generate_text("go", toolkit=toolkit, max_steps=2)
    assert isinstance(caught.value.reason, MalformedOutput)
    assert f"more than {MAX_TOOL_CALLS}" in caught.value.reason.message
    assert ran == []


@pytest.mark.parametrize("route", ["native", "compat"])
async def test_the_most_tool_calls_come_back(route: str) -> None:
    lm = model_for(route, Recorder(httpx.Response(200, json=whole_reply(route, MAX_TOOL_CALLS))))
    response = await lm.generate_text("go")
    assert len(response.tool_calls) == MAX_TOOL_CALLS


def openai_call_stream(calls: int) -> bytes:
    frames: list[object] = [
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [
                            {
                                "index": i,
                                "id": f"c{i}",
                                "function": {"name": "t", "arguments": "{}"},
                            }
                        ]
                    },
                }
            ]
        }
        for i in range(calls)
    ]
    return sse(*frames, "[DONE]")


def native_call_stream(calls: int) -> bytes:
    frames: list[object] = [
        {"response": "", "tool_calls": [{"name": "t", "arguments": {}}]} for _ in range(calls)
    ]
    return sse(*frames, "[DONE]")


@pytest.mark.parametrize("route", ["native", "compat"])
async def test_a_stream_naming_more_than_the_most_tool_calls_is_malformed(route: str) -> None:
    body = (native_call_stream if route == "native" else openai_call_stream)(10 * MAX_TOOL_CALLS)
    toolkit, ran = counting_toolkit()
    lm = model_for(route, Recorder(httpx.Response(200, content=body, headers=SSE_HEADERS)))
    with pytest.raises(AiError) as caught:
        await lm.stream_text("go", toolkit=toolkit, max_steps=2).collect()
    assert isinstance(caught.value.reason, MalformedOutput)
    assert ran == []


def test_a_stream_keeps_at_most_max_arguments_characters_of_arguments() -> None:
    assembler = StreamAssembler(MODEL, ReplyHead(), max_arguments=100)
    parts: list[Any] = []
    assembler.add(Chunk(None, tool_calls=(ToolCallChunk(0, "c0", "t", "x" * 60),)), parts)
    with pytest.raises(ValueError, match="longer than 100 characters"):
        assembler.add(Chunk(None, tool_calls=(ToolCallChunk(0, None, None, "x" * 60),)), parts)


# --- nested too deeply to check ----------------------------------------------------------------

NODE_SCHEMA = {
    "$defs": {"N": {"type": "object", "properties": {"n": {"$ref": "#/$defs/N"}}}},
    "type": "object",
    "properties": {"n": {"$ref": "#/$defs/N"}},
}


def nested_nodes(levels: int) -> str:
    return '{"n":' * levels + "{}" + "}" * levels


async def test_arguments_nested_past_what_the_validator_follows_are_invalid_arguments() -> None:
    ran: list[Any] = []
    deep = Tool("deep", description="x", parameters=NODE_SCHEMA, handler=ran.append)
    call = ToolCall.from_json("c1", "deep", nested_nodes(DEEP))
    assert call.parse_error is None  # orjson reads it
    with pytest.raises(AiError) as caught:
        await run_tool_calls(Toolkit(deep), [call])
    reason = caught.value.reason
    assert isinstance(reason, InvalidToolArguments)
    assert "nested too deeply" in reason.message
    assert ran == []


async def test_arguments_nested_past_what_the_validator_follows_go_back_to_the_model() -> None:
    deep = Tool("deep", description="x", parameters=NODE_SCHEMA, handler=lambda value: "ok")
    call = ToolCall.from_json("c1", "deep", nested_nodes(DEEP))
    [result] = await run_tool_calls(Toolkit(deep), [call], on_error="return")
    assert result.is_error
    assert "nested too deeply" in result.content


@attrs.frozen
class Node:
    value: int
    next: Node | None = None


async def test_a_structured_reply_nested_past_what_the_validator_follows_is_invalid_output() -> (
    None
):
    text = '{"value": 1, "next": ' * DEEP + "null" + "}" * DEEP
    fake = FakeLanguageModel(text)
    with pytest.raises(AiError) as caught:
        await fake.generate_object("x", schema=Node)
    reason = caught.value.reason
    assert isinstance(reason, InvalidOutput)
    assert "nested too deeply" in reason.message
    assert reason.text == text


STDLIB_ONLY = """
import sys
sys.modules["orjson"] = None  # as installed without the `local` extra
import httpx
from aigateway_sdk import AiError, GatewayBinding
from aigateway_sdk.content import ToolCall
deep = "[" * 100000 + "]" * 100000
print(ToolCall.from_json("c", "t", deep).parse_error)
body = '{"result": {"response": "x", "tool_calls": [{"name": "t", "arguments": ' + deep + '}]}}'
binding = GatewayBinding(
    account_id="a", gateway_id="g", api_token="t",
    transport=httpx.MockTransport(lambda request: httpx.Response(200, content=body)),
)
import anyio
async def main():
    try:
        await binding.model("@cf/m/m").generate_text("hi")
    except AiError as error:
        print(type(error.reason).__name__)
anyio.run(main)
"""


def test_deep_json_is_bad_json_with_the_standard_library_too() -> None:
    """Without orjson, `json` raises `RecursionError` on deep input: a tool call's arguments
    and a whole reply nested 100,000 levels deep are bad JSON all the same."""
    done = subprocess.run(
        [sys.executable, "-c", STDLIB_ONLY],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env={"PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["JSON", "nested", "too", "deeply", "MalformedOutput"]


# --- handlers ----------------------------------------------------------------------------------


class Stop(BaseException):
    """Not an `Exception`: not a tool failure."""


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
@pytest.mark.parametrize("kind", [Stop, KeyboardInterrupt, SystemExit])
@pytest.mark.parametrize("sync", [False, True], ids=["async", "sync"])
async def test_a_base_exception_from_a_handler_propagates_as_raised(
    kind: type[BaseException], sync: bool
) -> None:
    other_cancelled = anyio.Event()
    started = anyio.Event()

    async def waits(n: int) -> str:
        started.set()
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            other_cancelled.set()
            raise
        return "never"

    def raises_sync(n: int) -> str:
        raise kind()

    async def raises(n: int) -> str:
        await started.wait()
        raise kind()

    failing = Tool.from_function(raises_sync if sync else raises, name="fails")
    toolkit = Toolkit(Tool.from_function(waits, name="waits"), failing)
    calls = [ToolCall.of("c1", "waits", {"n": 1}), ToolCall.of("c2", "fails", {"n": 2})]
    with pytest.raises(kind) as caught:
        await run_tool_calls(toolkit, calls)
    assert type(caught.value) is kind
    assert other_cancelled.is_set()


class Unreadable:
    """A pydantic-looking value whose dump fails."""

    def model_dump(self, mode: str) -> Any:
        raise RuntimeError("cannot dump")


async def test_a_result_whose_own_code_fails_while_read_is_tool_failed() -> None:
    @tool
    async def odd() -> Any:
        """Returns an unreadable value."""
        return Unreadable()

    with pytest.raises(AiError) as caught:
        await run_tool_calls(Toolkit(odd), [ToolCall.of("c1", "odd", {})])
    assert isinstance(caught.value.reason, ToolFailed)
    assert isinstance(caught.value.__cause__, RuntimeError)


# --- prompts -----------------------------------------------------------------------------------

DEEP_LIST: Any = []
for _ in range(300):
    DEEP_LIST = [DEEP_LIST]


def call_with(arguments: Any) -> dict[str, Any]:
    function = {"name": "t", "arguments": arguments}
    return {
        "role": "assistant",
        "tool_calls": [{"id": "c", "type": "function", "function": function}],
    }


def image(url: Any, detail: Any = None) -> dict[str, Any]:
    part = {"type": "image_url", "image_url": {"url": url, "detail": detail}}
    return {"role": "user", "content": [{"type": "text", "text": "what?"}, part]}


@pytest.mark.parametrize(
    ("messages", "says"),
    [
        ([{"role": ["user"], "content": "hi"}], "role ['user']"),
        ([{"role": {"a": 1}, "content": "hi"}], "role {'a': 1}"),
        ([Message(["user"], "hi")], "role ['user']"),  # type: ignore[arg-type]
        ([{"role": list(range(10**5)), "content": "hi"}], "..."),
        ([image("https://example.com/a.png", ["low"])], "detail"),
        ([image("https://example.com/a.png", {})], "detail"),
        ([image(b"https://example.com/a.png")], "url"),
        ([image("data:image/png;base64,!!!not base64!!!")], "base64"),
        ([image("data:image/png;base64,")], "base64"),
        ([{"role": "user", "content": "hi"}, call_with({1, 2})], "cannot be written as JSON"),
        ([{"role": "user", "content": "hi"}, call_with(b"{}")], "cannot be written as JSON"),
        ([{"role": "user", "content": "hi"}, call_with(DEEP_LIST)], "cannot be written as JSON"),
    ],
    ids=lambda value: str(value)[:40],
)
def test_hostile_prompt_messages_are_invalid_request(messages: list[Any], says: str) -> None:
    with pytest.raises(AiError) as caught:
        to_messages(messages)
    assert isinstance(caught.value.reason, InvalidRequest)
    assert says in caught.value.reason.message
    assert len(caught.value.reason.message) < 400


def test_a_content_list_of_100000_parts_is_read() -> None:
    [message] = to_messages([{"role": "user", "content": [{"type": "text", "text": "a"}] * 10**5}])
    assert len(message.content) == 10**5
    assert message.text == "a" * 10**5


@pytest.mark.parametrize(
    "url",
    [
        "data:image/png;base64,!!!",
        "data:image/png;base64,AAA",  # unpadded
        "data:image/png;base64,AA AA",
        "data:image/png;base64,",
    ],
)
def test_an_image_data_url_must_carry_base64(url: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ImagePart(url)
    assert caught.value.errors[0].path == ("url",)
    with pytest.raises(ValidationError):
        ImagePart.from_base64(url.partition(",")[2])


def test_image_bytes_make_a_valid_data_url() -> None:
    part = ImagePart.from_bytes(bytes(range(256)) * 3)
    assert part.url.startswith("data:image/png;base64,")
    assert ImagePart(part.url) == part


def test_json_helpers_report_depth_as_bad_json() -> None:
    """The standard library's functions `_json` falls back to, called directly."""
    from aigateway_sdk import _json

    with pytest.raises(ValueError, match="nested too deeply"):
        _json._std_loads("[" * 100_000 + "]" * 100_000)
    with pytest.raises(TypeError, match="nested too deeply"):
        _json._std_dumps(_deep(5000))


def _deep(levels: int) -> Any:
    value: Any = []
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize("route", ["native", "compat"])
async def test_a_streamed_call_s_arguments_are_bounded_by_max_response_bytes(route: str) -> None:
    """The binding's reply limit bounds one call's streamed arguments too (the same limit a
    whole reply has): an endless arguments stream is `MalformedOutput`, not memory."""
    pieces: list[object]
    if route == "native":
        pieces = [{"response": "", "tool_calls": [{"name": "t", "arguments": "x" * 3000}]}]
    else:
        first = {"index": 0, "id": "c0", "function": {"name": "t", "arguments": ""}}
        more = {"index": 0, "function": {"arguments": "x" * 500}}
        pieces = [{"choices": [{"index": 0, "delta": {"tool_calls": [first]}}]}] + [
            {"choices": [{"index": 0, "delta": {"tool_calls": [more]}}]} for _ in range(6)
        ]
    body = sse(*pieces, "[DONE]")
    recorder = Recorder(httpx.Response(200, content=body, headers=SSE_HEADERS))
    binding = binding_for(recorder, max_response_bytes=2000)
    lm = binding.model(MODEL if route == "native" else COMPAT_MODEL)
    with pytest.raises(AiError) as caught:
        await lm.stream_text("go").collect()
    assert isinstance(caught.value.reason, MalformedOutput)
    assert "2000" in caught.value.message
