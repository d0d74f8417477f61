"""The tool loop over any model call: ask the model, run the tools it calls, send the results
back, until it answers (or `max_steps` model calls were made).

    response = await run_tool_loop(step, messages, toolkit, max_steps=5)

`step` makes one model call with the conversation so far (the gateway model, or a test fake).
The loop stops when a reply asks for no tool, or for tools it cannot run (the toolkit has no
handler for one of them: the calls are returned to the caller, `finish_reason` "tool-calls").
Otherwise it runs the calls (`run_tool_calls`), appends the assistant's message with its calls
and one tool message per result, and calls the model again. A reply still asking for tools at
the `max_steps`-th call is `AiError(MaxStepsExceeded)` carrying every step, that reply's calls
included. An `AiError` from a model call propagates unchanged.

`stream_tool_loop` does the same over streamed steps; `collect_tool_loop` reads such a stream
back into the response `run_tool_loop` would have given.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Sequence
from typing import TypeAlias

import attrs

from aigateway_sdk.collect import StepsCollector
from aigateway_sdk.content import ToolCall, ToolResult
from aigateway_sdk.errors import AiError, MaxStepsExceeded
from aigateway_sdk.parts import StreamPart, ToolResultPart
from aigateway_sdk.prompt import Message
from aigateway_sdk.response import EMPTY_USAGE, GenerateTextResponse, Step, Usage, add_usage
from aigateway_sdk.tools.run import OnError, check_run_options, run_tool_calls
from aigateway_sdk.tools.toolkit import Toolkit
from aigateway_sdk.validation import FieldError, ValidationError

StepCall: TypeAlias = Callable[[tuple[Message, ...]], Awaitable[GenerateTextResponse]]
"""One model call with the conversation so far."""

StepStream: TypeAlias = Callable[[tuple[Message, ...]], AsyncIterator[StreamPart]]
"""One streamed model call with the conversation so far."""


def check_loop_options(max_steps: object, on_error: object, timeout: object) -> None:
    """Raise `ValidationError` for options the loop cannot run with."""
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
        raise ValidationError(
            [FieldError(("max_steps",), f"must be an integer >= 1, got {max_steps!r}")],
            what="tool loop",
        )
    check_run_options(on_error, timeout)


def runs_tools(toolkit: Toolkit, calls: Sequence[ToolCall]) -> bool:
    """True when the loop runs `calls` itself: there are some, the toolkit has handlers, and
    none names a tool of the toolkit that has no handler (those the caller runs). A tool the
    toolkit does not have is run too, to fail as `UnknownTool`."""
    if not calls or not toolkit.has_handlers:
        return False
    return all(toolkit.handles(c.name) or toolkit.get(c.name) is None for c in calls)


def exceeded(max_steps: int, steps: tuple[Step, ...]) -> AiError:
    reason = MaxStepsExceeded(
        message=f"the model still asked for tools after {max_steps} model call(s)",
        max_steps=max_steps,
        steps=steps,
    )
    return AiError(reason)


def continued(
    history: tuple[Message, ...], step: Step, results: tuple[ToolResult, ...]
) -> tuple[Message, ...]:
    """The conversation after a step: its reply with the calls, then one message per result."""
    reply = Message.assistant(step.text, step.tool_calls)
    return (*history, reply, *(Message.tool(r) for r in results))


def _final(
    reply: GenerateTextResponse, usage: Usage, steps: tuple[Step, ...]
) -> GenerateTextResponse:
    reason = "tool-calls" if reply.tool_calls else reply.finish_reason
    return attrs.evolve(reply, usage=usage, finish_reason=reason, tool_results=(), steps=steps)


async def run_tool_loop(
    step: StepCall,
    messages: Sequence[Message],
    toolkit: Toolkit,
    *,
    max_steps: int,
    on_error: OnError = "raise",
    timeout: float | None = None,
) -> GenerateTextResponse:
    """Call the model and run its tools until it answers; the last reply, with `usage` summed
    over every call, `steps` (one per model call, each with its tool results) and the last
    step's `tool_calls` (those left for the caller, if any)."""
    check_loop_options(max_steps, on_error, timeout)
    history = tuple(messages)
    steps: tuple[Step, ...] = ()
    usage = EMPTY_USAGE
    while True:
        reply = await step(history)
        usage = add_usage(usage, reply.usage)
        current = Step.of(reply)
        if not runs_tools(toolkit, reply.tool_calls):
            return _final(reply, usage, (*steps, current))
        if len(steps) + 1 >= max_steps:
            raise exceeded(max_steps, (*steps, current))
        results = await run_tool_calls(
            toolkit, reply.tool_calls, on_error=on_error, timeout=timeout, steps=(*steps, current)
        )
        steps = (*steps, attrs.evolve(current, tool_results=results))
        history = continued(history, current, results)


def stream_tool_loop(
    step: StepStream,
    messages: Sequence[Message],
    toolkit: Toolkit,
    *,
    max_steps: int,
    on_error: OnError = "raise",
    timeout: float | None = None,
) -> AsyncIterator[StreamPart]:
    """The tool loop, streamed: every part of each step as it arrives (`ResponseMetadata` ...
    `ToolCallPart`s ... `Finish`), then a `ToolResultPart` per result, then the next step's
    parts. Options are checked now (`ValidationError`); the model is first called when the
    stream is read. Closing the stream early closes the running step; cancelling its reader
    cancels running handlers."""
    check_loop_options(max_steps, on_error, timeout)
    return _stream(step, tuple(messages), toolkit, max_steps, on_error, timeout)


async def _stream(
    step: StepStream,
    history: tuple[Message, ...],
    toolkit: Toolkit,
    max_steps: int,
    on_error: OnError,
    timeout: float | None,
) -> AsyncIterator[StreamPart]:
    steps: tuple[Step, ...] = ()
    while True:
        collector = StepsCollector()
        parts = step(history)
        try:
            async for part in parts:
                collector.add(part)
                yield part
        finally:
            aclose = getattr(parts, "aclose", None)
            if aclose is not None:
                await aclose()
        current = collector.step()
        if not runs_tools(toolkit, current.tool_calls):
            return
        if len(steps) + 1 >= max_steps:
            raise exceeded(max_steps, (*steps, current))
        results = await run_tool_calls(
            toolkit, current.tool_calls, on_error=on_error, timeout=timeout, steps=(*steps, current)
        )
        for result in results:
            yield ToolResultPart(result)
        steps = (*steps, attrs.evolve(current, tool_results=results))
        history = continued(history, current, results)


async def collect_tool_loop(parts: AsyncIterable[StreamPart]) -> GenerateTextResponse:
    """Read a tool loop's stream into the response `run_tool_loop` gives: the last step's
    text, reason and metadata, `usage` summed, every step with its tool calls and results."""
    collector = StepsCollector()
    async for part in parts:
        collector.add(part)
    return collector.response(loop=True)


__all__ = [
    "StepCall",
    "StepStream",
    "check_loop_options",
    "collect_tool_loop",
    "run_tool_loop",
    "runs_tools",
    "stream_tool_loop",
]
