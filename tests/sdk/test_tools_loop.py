"""The tool loop over a scripted model: 1, 2 and max_steps steps, usage summed, calls returned
to the caller without handlers, failures carrying every step, and the streamed loop's parts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from aigateway_sdk.content import ToolCall
from aigateway_sdk.errors import (
    AiError,
    InvalidToolArguments,
    MaxStepsExceeded,
    RateLimited,
    ToolFailed,
    UnknownTool,
)
from aigateway_sdk.parts import (
    Finish,
    ResponseMetadata,
    StreamPart,
    TextDelta,
    TextEnd,
    TextStart,
    ToolCallPart,
    ToolParamsDelta,
    ToolParamsEnd,
    ToolParamsStart,
    ToolResultPart,
)
from aigateway_sdk.prompt import Message
from aigateway_sdk.response import GenerateTextResponse, InputTokens, OutputTokens, Usage
from aigateway_sdk.tools import (
    Tool,
    Toolkit,
    collect_tool_loop,
    run_tool_loop,
    stream_tool_loop,
    tool,
)
from aigateway_sdk.validation import ValidationError

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])]

GUARD = 10
PROMPT = (Message.user("What is 2 + 3, then doubled?"),)


def usage(i: int, o: int) -> Usage:
    return Usage(InputTokens(i), OutputTokens(o))


def reply(
    text: str = "", *calls: ToolCall, tokens: tuple[int, int] = (10, 2), n: int = 0
) -> GenerateTextResponse:
    return GenerateTextResponse(
        text=text,
        usage=usage(*tokens),
        finish_reason="tool-calls" if calls else "stop",
        model="scripted",
        response_id=f"resp-{n}",
        log_id=f"log-{n}",
        tool_calls=calls,
    )


def add_call(id: str, a: int, b: int) -> ToolCall:
    return ToolCall.of(id, "add", {"a": a, "b": b})


class ScriptedModel:
    """A model call that answers from a script and records the conversation it was sent."""

    def __init__(self, *script: GenerateTextResponse | AiError) -> None:
        self.script = script
        self.seen: list[tuple[Message, ...]] = []
        self.closed = 0

    def _next(self, messages: tuple[Message, ...]) -> GenerateTextResponse:
        self.seen.append(messages)
        entry = self.script[min(len(self.seen), len(self.script)) - 1]
        if isinstance(entry, AiError):
            raise entry
        return entry

    async def __call__(self, messages: tuple[Message, ...]) -> GenerateTextResponse:
        return self._next(messages)

    async def stream(self, messages: tuple[Message, ...]) -> AsyncIterator[StreamPart]:
        """The reply as a real stream gives it: arguments in two deltas, then the whole call."""
        try:
            answer = self._next(messages)
            yield ResponseMetadata(
                model=answer.model, response_id=answer.response_id, log_id=answer.log_id
            )
            if answer.text:
                yield TextStart()
                words = answer.text.split(" ")
                for index, word in enumerate(words):
                    yield TextDelta(word if index == len(words) - 1 else word + " ")
                yield TextEnd()
            for call in answer.tool_calls:
                yield ToolParamsStart(id=call.id, name=call.name)
                half = len(call.arguments_json) // 2
                yield ToolParamsDelta(call.id, call.arguments_json[:half])
                yield ToolParamsDelta(call.id, call.arguments_json[half:])
                yield ToolParamsEnd(call.id)
                yield ToolCallPart(call)
            yield Finish(reason=answer.finish_reason, usage=answer.usage)
        finally:
            self.closed += 1


ran: list[tuple[int, int]] = []


@tool
async def add(a: int, b: int) -> int:
    """Add two numbers."""
    ran.append((a, b))
    return a + b


@pytest.fixture(autouse=True)
def _forget_runs() -> None:
    ran.clear()


TOOLKIT = Toolkit(add)


# --- run_tool_loop ----------------------------------------------------------------------------


async def test_a_reply_without_tool_calls_ends_the_loop_after_one_step() -> None:
    model = ScriptedModel(reply("Hello.", tokens=(4, 1)))
    response = await run_tool_loop(model, PROMPT, TOOLKIT, max_steps=3)
    assert (response.text, response.finish_reason, response.usage) == (
        "Hello.",
        "stop",
        usage(4, 1),
    )
    assert (response.tool_calls, response.tool_results) == ((), ())
    assert len(response.steps) == 1
    assert response.steps[0].text == "Hello."
    assert model.seen == [PROMPT]


async def test_two_steps_run_the_tool_send_its_result_back_and_sum_usage() -> None:
    call = add_call("c1", 2, 3)
    model = ScriptedModel(
        reply("Let me add.", call, tokens=(10, 5), n=1), reply("It is 5.", tokens=(20, 3), n=2)
    )
    response = await run_tool_loop(model, PROMPT, TOOLKIT, max_steps=2)

    assert ran == [(2, 3)]
    assert response.text == "It is 5."
    assert (response.model, response.response_id, response.log_id) == (
        "scripted",
        "resp-2",
        "log-2",
    )
    assert response.finish_reason == "stop"
    assert response.usage == usage(30, 8)
    first, second = response.steps
    assert first.tool_calls == (call,)
    assert first.text == "Let me add."
    assert [(r.call_id, r.content) for r in first.tool_results] == [("c1", "5")]
    assert (first.usage, first.response_id, second.usage) == (usage(10, 5), "resp-1", usage(20, 3))
    assert second.tool_calls == ()
    assert second.tool_results == ()

    sent = model.seen[1]
    assert sent[:1] == PROMPT
    assert sent[1] == Message.assistant("Let me add.", [call])
    assert sent[2] == Message("tool", "5", tool_call_id="c1")
    assert len(sent) == 3


async def test_every_call_of_a_reply_runs_and_each_result_is_its_own_message() -> None:
    calls = (add_call("c1", 1, 1), add_call("c2", 2, 2))
    model = ScriptedModel(reply("", *calls), reply("2 and 4"))
    response = await run_tool_loop(model, PROMPT, TOOLKIT, max_steps=5)
    assert sorted(ran) == [(1, 1), (2, 2)]
    assert [m.role for m in model.seen[1]] == ["user", "assistant", "tool", "tool"]
    assert [(m.tool_call_id, m.content) for m in model.seen[1][2:]] == [("c1", "2"), ("c2", "4")]
    assert response.text == "2 and 4"


async def test_a_model_that_keeps_calling_tools_stops_at_max_steps_with_every_step() -> None:
    model = ScriptedModel(
        reply("again", add_call("c1", 1, 2), n=1),
        reply("again", add_call("c2", 3, 4), n=2),
        reply("again", add_call("c3", 5, 6), n=3),
    )
    with pytest.raises(AiError) as caught:
        await run_tool_loop(model, PROMPT, TOOLKIT, max_steps=3)
    reason = caught.value.reason
    assert isinstance(reason, MaxStepsExceeded)
    assert reason.max_steps == 3
    assert len(model.seen) == 3  # exactly max_steps model calls
    assert ran == [(1, 2), (3, 4)]  # the last reply's calls did not run
    assert [s.response_id for s in reason.steps] == ["resp-1", "resp-2", "resp-3"]
    assert [len(s.tool_results) for s in reason.steps] == [1, 1, 0]
    assert reason.steps[-1].tool_calls == (add_call("c3", 5, 6),)


async def test_max_steps_one_allows_a_plain_answer_but_no_tool_round() -> None:
    assert (
        await run_tool_loop(ScriptedModel(reply("hi")), PROMPT, TOOLKIT, max_steps=1)
    ).text == "hi"
    with pytest.raises(AiError) as caught:
        await run_tool_loop(
            ScriptedModel(reply("", add_call("c1", 1, 1))), PROMPT, TOOLKIT, max_steps=1
        )
    assert isinstance(caught.value.reason, MaxStepsExceeded)
    assert ran == []


async def test_without_handlers_the_calls_are_returned_to_the_caller() -> None:
    described = Toolkit(Tool("get_weather", parameters={"type": "object", "properties": {}}))
    call = ToolCall.of("c1", "get_weather", {})
    model = ScriptedModel(reply("checking", call, tokens=(7, 2)))
    response = await run_tool_loop(model, PROMPT, described, max_steps=4)
    assert len(model.seen) == 1
    assert (response.finish_reason, response.tool_calls, response.tool_results) == (
        "tool-calls",
        (call,),
        (),
    )
    assert response.usage == usage(7, 2)
    assert response.steps[0].tool_calls == (call,)


async def test_a_call_to_a_tool_without_a_handler_returns_the_calls_to_the_caller() -> None:
    toolkit = Toolkit(add, Tool("get_weather", parameters={"type": "object", "properties": {}}))
    calls = (add_call("c1", 1, 1), ToolCall.of("c2", "get_weather", {}))
    response = await run_tool_loop(ScriptedModel(reply("", *calls)), PROMPT, toolkit, max_steps=4)
    assert response.tool_calls == calls
    assert response.finish_reason == "tool-calls"
    assert ran == []  # the caller runs them all, together


async def test_a_tool_failure_carries_the_steps_so_far() -> None:
    model = ScriptedModel(
        reply("", add_call("c1", 1, 1), n=1),
        reply("", ToolCall.of("c2", "add", {"a": "one", "b": 2}), n=2),
    )
    with pytest.raises(AiError) as caught:
        await run_tool_loop(model, PROMPT, TOOLKIT, max_steps=5)
    reason = caught.value.reason
    assert isinstance(reason, InvalidToolArguments)
    assert reason.call_id == "c2"
    assert [s.response_id for s in reason.steps] == ["resp-1", "resp-2"]
    assert reason.steps[0].tool_results[0].content == "2"
    assert reason.steps[1].tool_calls[0].id == "c2"


async def test_with_on_error_return_the_model_reads_the_failure_and_answers() -> None:
    model = ScriptedModel(
        reply("", ToolCall.of("c1", "multiply", {})), reply("Sorry, I can only add.")
    )
    response = await run_tool_loop(model, PROMPT, TOOLKIT, max_steps=3, on_error="return")
    assert response.text == "Sorry, I can only add."
    result = response.steps[0].tool_results[0]
    assert result.is_error
    assert isinstance(result.value.reason, UnknownTool)
    assert model.seen[1][-1] == Message("tool", result.content, tool_call_id="c1")
    assert "no tool named 'multiply'" in result.content


async def test_the_timeout_reaches_handlers_in_the_loop() -> None:
    @tool
    async def wait() -> str:
        await anyio.sleep_forever()
        return "never"

    model = ScriptedModel(reply("", ToolCall.of("c1", "wait", {})))
    with pytest.raises(AiError) as caught:
        await run_tool_loop(model, PROMPT, Toolkit(wait), max_steps=3, timeout=0.01)
    assert isinstance(caught.value.reason, ToolFailed)
    assert len(caught.value.reason.steps) == 1


async def test_a_failed_later_model_call_propagates_unchanged() -> None:
    limited = AiError(RateLimited(message="slow down"))
    model = ScriptedModel(reply("", add_call("c1", 1, 1)), limited)
    with pytest.raises(AiError) as caught:
        await run_tool_loop(model, PROMPT, TOOLKIT, max_steps=3)
    assert caught.value is limited
    assert ran == [(1, 1)]


@pytest.mark.parametrize("max_steps", [0, -1, True, 2.0, "3", None])
async def test_max_steps_must_be_a_positive_integer(max_steps: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        await run_tool_loop(ScriptedModel(reply("x")), PROMPT, TOOLKIT, max_steps=max_steps)
    assert caught.value.fields == ("max_steps",)
    with pytest.raises(ValidationError):
        stream_tool_loop(ScriptedModel(reply("x")).stream, PROMPT, TOOLKIT, max_steps=max_steps)


async def test_bad_loop_options_are_refused_before_any_model_call() -> None:
    model = ScriptedModel(reply("x"))
    with pytest.raises(ValidationError) as caught:
        await run_tool_loop(model, PROMPT, TOOLKIT, max_steps=2, on_error="skip")  # type: ignore[arg-type]
    assert caught.value.fields == ("on_error",)
    assert model.seen == []


# --- stream_tool_loop -------------------------------------------------------------------------


def two_step_model() -> ScriptedModel:
    return ScriptedModel(
        reply("Adding.", add_call("c1", 2, 3), tokens=(10, 5), n=1),
        reply("It is 5.", tokens=(20, 3), n=2),
    )


async def test_the_stream_yields_each_steps_parts_then_the_results_then_the_next_step() -> None:
    model = two_step_model()
    parts = [p async for p in stream_tool_loop(model.stream, PROMPT, TOOLKIT, max_steps=3)]
    assert [type(p) for p in parts] == [
        ResponseMetadata,
        TextStart,
        TextDelta,
        TextEnd,
        ToolParamsStart,
        ToolParamsDelta,
        ToolParamsDelta,
        ToolParamsEnd,
        ToolCallPart,
        Finish,
        ToolResultPart,
        ResponseMetadata,
        TextStart,
        TextDelta,
        TextDelta,
        TextDelta,
        TextEnd,
        Finish,
    ]
    result = parts[10]
    assert isinstance(result, ToolResultPart)
    assert (result.result.call_id, result.result.content) == ("c1", "5")
    assert model.seen[1][1] == Message.assistant("Adding.", [add_call("c1", 2, 3)])
    assert model.seen[1][2] == Message("tool", "5", tool_call_id="c1")
    assert model.closed == 2


async def test_a_collected_stream_is_what_the_plain_loop_returns() -> None:
    streamed = await collect_tool_loop(
        stream_tool_loop(two_step_model().stream, PROMPT, TOOLKIT, max_steps=3)
    )
    plain = await run_tool_loop(two_step_model(), PROMPT, TOOLKIT, max_steps=3)
    assert streamed.text == plain.text == "It is 5."
    assert streamed.usage == plain.usage == usage(30, 8)
    assert (streamed.finish_reason, streamed.response_id, streamed.log_id) == (
        "stop",
        "resp-2",
        "log-2",
    )
    assert [s.tool_calls for s in streamed.steps] == [s.tool_calls for s in plain.steps]
    assert [s.tool_results for s in streamed.steps] == [s.tool_results for s in plain.steps]
    assert [s.usage for s in streamed.steps] == [s.usage for s in plain.steps]


async def test_the_stream_stops_at_max_steps_with_every_step() -> None:
    model = ScriptedModel(
        reply("", add_call("c1", 1, 1), n=1), reply("", add_call("c2", 2, 2), n=2)
    )
    parts: list[StreamPart] = []
    with pytest.raises(AiError) as caught:
        async for part in stream_tool_loop(model.stream, PROMPT, TOOLKIT, max_steps=2):
            parts.append(part)
    reason = caught.value.reason
    assert isinstance(reason, MaxStepsExceeded)
    assert [s.response_id for s in reason.steps] == ["resp-1", "resp-2"]
    assert reason.steps[1].tool_calls == (add_call("c2", 2, 2),)
    assert type(parts[-1]) is Finish  # the last step was streamed whole before the error
    assert ran == [(1, 1)]


async def test_without_handlers_the_stream_is_the_one_step() -> None:
    described = Toolkit(Tool("get_weather", parameters={"type": "object", "properties": {}}))
    model = ScriptedModel(reply("", ToolCall.of("c1", "get_weather", {})))
    parts = [p async for p in stream_tool_loop(model.stream, PROMPT, described, max_steps=3)]
    assert type(parts[-1]) is Finish
    assert parts[-1].reason == "tool-calls"
    assert not any(type(p) is ToolResultPart for p in parts)
    assert len(model.seen) == 1


async def test_closing_the_stream_early_closes_the_running_step() -> None:
    model = two_step_model()
    stream = stream_tool_loop(model.stream, PROMPT, TOOLKIT, max_steps=3)
    first = await stream.__anext__()
    assert type(first) is ResponseMetadata
    await stream.aclose()  # type: ignore[attr-defined]
    assert model.closed == 1
    assert len(model.seen) == 1
    assert ran == []


async def test_cancelling_the_reader_cancels_running_handlers() -> None:
    started = anyio.Event()
    saw_cancel = anyio.Event()

    @tool
    async def wait() -> str:
        started.set()
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            saw_cancel.set()
            raise
        return "never"

    model = ScriptedModel(reply("", ToolCall.of("c1", "wait", {})))

    async def read() -> None:
        async for _ in stream_tool_loop(model.stream, PROMPT, Toolkit(wait), max_steps=3):
            pass

    async with anyio.create_task_group() as group:
        group.start_soon(read)
        with anyio.fail_after(GUARD):
            await started.wait()
        group.cancel_scope.cancel()
    assert saw_cancel.is_set()
