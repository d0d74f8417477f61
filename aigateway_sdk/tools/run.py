"""Running a model's tool calls: check each call against the toolkit, run the handlers
concurrently, and turn each return value (or failure) into a `ToolResult`.

Checks come first, for every call: a tool the toolkit does not have is `UnknownTool`; arguments
that are not JSON or do not match the tool's schema are `InvalidToolArguments` (its `details`
name each failing path). Then every handler runs at once in an anyio task group: async handlers
on the event loop, sync ones in a worker thread (`anyio.to_thread.run_sync`), each within
`timeout` when one is given. A handler that raises or runs out of time is `ToolFailed` (the
exception is the `AiError`'s `__cause__`), and so is a return value that cannot be written as
JSON.

With `on_error="raise"` the first failure is raised as `AiError(reason)` (a failed check before
any handler runs; a failed handler cancels the others). With `on_error="return"` each failure
becomes a `ToolResult(is_error=True)` whose `content` tells the model what went wrong in a
short sentence (no traceback; an exception's text only when it is a `ToolError`, whose message
is meant for the model), and the other calls still run.

Cancellation reaches running handlers: an async handler is cancelled where it awaits; a sync
handler cannot be interrupted, so its thread is left to finish on its own and its result is
dropped. A handler raising what is not an `Exception` (`KeyboardInterrupt`, `SystemExit`, a
`BaseException` of your own) has not failed as a tool: the other handlers are cancelled and
that exception propagates as raised (not inside an exception group).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Coroutine, Sequence
from numbers import Real
from typing import Any, Literal, TypeAlias

import anyio
import anyio.to_thread
import attrs

from aigateway_sdk._json import TOO_DEEP
from aigateway_sdk.content import ToolCall, ToolResult
from aigateway_sdk.errors import (
    AiError,
    ErrorDetail,
    InvalidToolArguments,
    ToolFailed,
    ToolLoopReason,
    UnknownTool,
)
from aigateway_sdk.observe import hooks
from aigateway_sdk.response import Step
from aigateway_sdk.schema import SchemaMismatch
from aigateway_sdk.tools.definition import Tool
from aigateway_sdk.tools.encode import result_content
from aigateway_sdk.tools.toolkit import Toolkit
from aigateway_sdk.validation import FieldError, ValidationError

OnError: TypeAlias = Literal["raise", "return"]
"""What a failed tool call does: raise `AiError`, or return an error result to the model."""

ON_ERROR = frozenset(("raise", "return"))


class ToolError(Exception):
    """Raise it from a handler to tell the model what went wrong: with `on_error="return"` its
    message is the error result's content (for any other exception the model is told only the
    exception's type, so no internal detail or secret reaches it)."""


def check_run_options(on_error: object, timeout: object) -> None:
    """Raise `ValidationError` for an `on_error` or `timeout` the tool calls cannot run with."""
    errors: list[FieldError] = []
    if on_error not in ON_ERROR:
        errors.append(FieldError(("on_error",), f"must be 'raise' or 'return', got {on_error!r}"))
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, Real) or not float(timeout) > 0
    ):
        errors.append(FieldError(("timeout",), f"must be a positive number, got {timeout!r}"))
    if errors:
        raise ValidationError(errors, what="tool options")


@attrs.frozen(slots=True)
class _Ready:
    """A checked call: its tool and its decoded arguments."""

    tool: Tool
    call: ToolCall
    value: Any


@attrs.frozen(slots=True)
class _Failure:
    """A failed call: the reason (without steps), what the model is told, and the exception."""

    reason: ToolLoopReason
    content: str
    cause: BaseException | None = None

    def error(self, steps: tuple[Step, ...]) -> AiError:
        error = AiError(attrs.evolve(self.reason, steps=steps))
        error.__cause__ = self.cause
        return error

    def result(self, call: ToolCall, steps: tuple[Step, ...]) -> ToolResult:
        return ToolResult(
            call_id=call.id,
            name=call.name,
            value=self.error(steps),
            content=self.content,
            is_error=True,
        )


_Outcome: TypeAlias = ToolResult | _Failure


def _unknown(toolkit: Toolkit, call: ToolCall) -> _Failure:
    names = ", ".join(toolkit.names) or "none"
    reason = UnknownTool(
        message=f"the model called {call.name!r}, which is not in the toolkit (its tools: {names})",
        tool=call.name,
        call_id=call.id,
    )
    return _Failure(
        reason, f"Error: there is no tool named {call.name!r}. Available tools: {names}."
    )


def _invalid_arguments(
    call: ToolCall, details: tuple[ErrorDetail, ...], why: str, listed: str
) -> _Failure:
    reason = InvalidToolArguments(
        message=f"the arguments of the call to {call.name!r} {why}: {listed}",
        tool=call.name,
        call_id=call.id,
        details=details,
    )
    content = (
        f"Error: the arguments for {call.name!r} {why}: {listed}. "
        "Call the tool again with arguments that match its schema."
    )
    return _Failure(reason, content)


def _path(path: tuple[str | int, ...]) -> tuple[str, ...]:
    return tuple(str(p) for p in path)


def check_call(toolkit: Toolkit, call: ToolCall) -> _Ready | _Failure:
    """The call's tool and decoded arguments, or why the call cannot run."""
    found = toolkit.get(call.name)
    if found is None:
        return _unknown(toolkit, call)
    if call.parse_error is not None:
        detail = ErrorDetail(code=None, message=call.parse_error)
        return _invalid_arguments(call, (detail,), "are not JSON", call.parse_error)
    try:
        value = found.parameters.decode(call.arguments)
    except SchemaMismatch as mismatch:
        details = tuple(ErrorDetail(None, e.message, _path(e.path)) for e in mismatch.errors)
        listed = "; ".join(str(e) for e in mismatch.errors)  # "$.a[2].b: message"
        return _invalid_arguments(call, details, "do not match its schema", listed)
    except (TypeError, ValueError) as error:  # a class's own validators refused the value
        detail = ErrorDetail(code=None, message=str(error)[:300] or type(error).__name__)
        return _invalid_arguments(call, (detail,), "do not match its schema", detail.message)
    except RecursionError:  # nested deeper than the validator can follow
        detail = ErrorDetail(code=None, message=TOO_DEEP)
        return _invalid_arguments(call, (detail,), "cannot be checked", TOO_DEEP)
    return _Ready(found, call, value)


def _failed(call: ToolCall, message: str, content: str, cause: BaseException | None) -> _Failure:
    reason = ToolFailed(message=message, tool=call.name, call_id=call.id)
    return _Failure(reason, content, cause)


def _raised(call: ToolCall, error: Exception) -> _Failure:
    kind = type(error).__name__
    text = str(error)
    message = f"tool {call.name!r} raised {kind}" + (f": {text[:300]}" if text else "")
    if isinstance(error, ToolError) and text:
        content = f"Error: {text}"
    else:
        content = f"Error: the tool {call.name!r} failed ({kind})."
    return _failed(call, message, content, error)


def _is_async(handler: Any) -> bool:
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
        getattr(handler, "__call__", None)  # noqa: B004 - an object with `async def __call__`
    )


async def _invoke(tool: Tool, value: Any) -> Any:
    handler = tool.handler
    assert handler is not None
    bound = (
        functools.partial(handler, **value)
        if tool.takes_keywords
        else functools.partial(handler, value)
    )
    if _is_async(handler):
        returned = await bound()
    else:
        # Boxed: a sync callable may return an awaitable (trio refuses one from a thread).
        (returned,) = await anyio.to_thread.run_sync(lambda: (bound(),), abandon_on_cancel=True)
    if inspect.isawaitable(returned):
        returned = await returned
    return returned


def run_one(ready: _Ready, timeout: float | None) -> Coroutine[Any, Any, _Outcome]:
    """Run one checked call's handler within `timeout`; its result, or why it failed. Inside
    an `execute_tool` span when tracing is on (`aigateway_sdk.observe`)."""
    run = _run_one(ready, timeout)
    tracing = hooks.tracing
    return run if tracing is None else tracing.tool(ready.call.name, ready.call.id, run)


async def _run_one(ready: _Ready, timeout: float | None) -> _Outcome:
    call = ready.call
    if ready.tool.handler is None:
        message = f"tool {call.name!r} has no handler (give it one with Toolkit.with_handlers)"
        return _failed(call, message, f"Error: the tool {call.name!r} is not available.", None)
    value: Any = None
    try:
        with anyio.move_on_after(timeout) as scope:
            value = await _invoke(ready.tool, ready.value)
    except Exception as error:  # any handler failure is a ToolFailed
        return _raised(call, error)
    if scope.cancelled_caught:
        message = f"tool {call.name!r} did not finish within {timeout:g}s"
        content = f"Error: the tool {call.name!r} did not finish in time ({timeout:g}s)."
        return _failed(call, message, content, TimeoutError(message))
    try:
        content = result_content(value)
    except Exception as error:  # NotJson, or the value's own code failed while being read
        message = f"tool {call.name!r} returned a value that cannot be written as JSON: {error}"
        content = f"Error: the tool {call.name!r} returned a result that cannot be sent."
        return _failed(call, message, content, error)
    return ToolResult(call_id=call.id, name=call.name, value=value, content=content)


async def _run_all(
    checked: Sequence[_Ready | _Failure], timeout: float | None, stop_on_failure: bool
) -> tuple[list[_Outcome | None], list[_Failure]]:
    """Run every ready call at once; the outcomes in call order and the failures in the order
    they happened (with `stop_on_failure`, the first one cancels the rest)."""
    outcomes: list[_Outcome | None] = [c if isinstance(c, _Failure) else None for c in checked]
    failures: list[_Failure] = []
    ready = [(i, c) for i, c in enumerate(checked) if isinstance(c, _Ready)]
    if len(ready) == 1:  # nothing to run beside it: no task group (~70 us on asyncio)
        index, only = ready[0]
        outcome = outcomes[index] = await run_one(only, timeout)
        if isinstance(outcome, _Failure):
            failures.append(outcome)
        return outcomes, failures
    escaped: list[BaseException] = []
    cancelled = anyio.get_cancelled_exc_class()

    async with anyio.create_task_group() as group:

        async def run(index: int, ready: _Ready) -> None:
            try:
                outcome = outcomes[index] = await run_one(ready, timeout)
            except cancelled:
                raise
            except BaseException as error:  # KeyboardInterrupt, SystemExit, ...: no tool failure
                escaped.append(error)
                group.cancel_scope.cancel()
                return
            if isinstance(outcome, _Failure):
                failures.append(outcome)
                if stop_on_failure:
                    group.cancel_scope.cancel()

        for index, item in enumerate(checked):
            if isinstance(item, _Ready):
                group.start_soon(run, index, item)
    if escaped:
        raise escaped[0]  # as raised, not inside the task group's exception group
    return outcomes, failures


async def run_tool_calls(
    toolkit: Toolkit,
    calls: Sequence[ToolCall],
    *,
    on_error: OnError = "raise",
    timeout: float | None = None,
    steps: Sequence[Step] = (),
) -> tuple[ToolResult, ...]:
    """Run `calls` with the toolkit's handlers, concurrently; the results in call order.

    Failures (`UnknownTool`, `InvalidToolArguments`, `ToolFailed`) carry `steps` (what happened
    before) and the call's `tool` and `call_id`; see the module's docstring for `on_error`.
    `timeout` (seconds) applies to each handler."""
    check_run_options(on_error, timeout)
    history = tuple(steps)
    checked = [check_call(toolkit, call) for call in calls]
    if on_error == "raise":
        for item in checked:
            if isinstance(item, _Failure):
                raise item.error(history)
    outcomes, failures = await _run_all(checked, timeout, on_error == "raise")
    if on_error == "raise" and failures:
        raise failures[0].error(history)
    results: list[ToolResult] = []
    for call, outcome in zip(calls, outcomes, strict=True):
        assert outcome is not None  # every task ran to its end: nothing was cancelled
        results.append(outcome.result(call, history) if isinstance(outcome, _Failure) else outcome)
    return tuple(results)


__all__ = ["ON_ERROR", "OnError", "ToolError", "check_call", "check_run_options", "run_tool_calls"]
