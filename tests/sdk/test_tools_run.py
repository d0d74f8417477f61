"""run_tool_calls: handlers run concurrently (sync ones off the event loop), within a timeout,
cancellable; each failure is a typed reason carrying the steps, or an error result sent back to
the model; return values become the text the model reads."""

from __future__ import annotations

import dataclasses
import enum
import math
import threading
from typing import Any, TypedDict

import anyio
import attrs
import pytest

from aigateway_sdk.content import ToolCall, ToolResult
from aigateway_sdk.errors import (
    AiError,
    ErrorDetail,
    InvalidToolArguments,
    ToolFailed,
    UnknownTool,
)
from aigateway_sdk.response import Step
from aigateway_sdk.tools import Tool, ToolError, Toolkit, run_tool_calls, tool
from aigateway_sdk.validation import ValidationError

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])]

GUARD = 10  # seconds: a deadlock fails the test instead of hanging it (never reached when green)
OBJECT = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}
PRIOR = (Step(text="earlier", tool_calls=(ToolCall.of("c0", "lookup", {"q": "x"}),)),)


@attrs.frozen
class Point:
    x: int
    y: int


@dataclasses.dataclass
class Pair:
    left: str
    right: list[int]


class Color(enum.Enum):
    RED = "red"


try:  # the floors CI job runs tests/sdk without pydantic (not a dependency of the SDK)
    import pydantic
except ImportError:  # pragma: no cover - depends on the environment
    pydantic = None  # type: ignore[assignment]

if pydantic is not None:

    class Model(pydantic.BaseModel):
        name: str
        tags: tuple[str, ...]


needs_pydantic = pytest.mark.skipif(pydantic is None, reason="pydantic is not installed")
PYDANTIC_RETURN = (
    [(Model(name="n", tags=("a",)), '{"name":"n","tags":["a"]}')] if pydantic is not None else []
)


def lookup_toolkit(handler: Any) -> Toolkit:
    return Toolkit(Tool("lookup", parameters=OBJECT, handler=handler))


def call(id: str, q: str = "x", name: str = "lookup") -> ToolCall:
    return ToolCall.of(id, name, {"q": q})


# --- concurrency and threads -------------------------------------------------------------------


async def test_handlers_run_concurrently() -> None:
    """Each handler waits for the other to have started: they can only both finish when they
    run at the same time."""
    started = {"a": anyio.Event(), "b": anyio.Event()}

    async def handler(args: dict[str, str]) -> str:
        me, other = args["q"], "b" if args["q"] == "a" else "a"
        started[me].set()
        with anyio.fail_after(GUARD):
            await started[other].wait()
        return f"done {me}"

    results = await run_tool_calls(lookup_toolkit(handler), [call("1", "a"), call("2", "b")])
    assert [r.content for r in results] == ["done a", "done b"]


async def test_results_come_in_call_order_whatever_order_handlers_finish_in() -> None:
    second_done = anyio.Event()

    async def handler(args: dict[str, str]) -> str:
        if args["q"] == "first":
            with anyio.fail_after(GUARD):
                await second_done.wait()
        else:
            second_done.set()
        return args["q"]

    results = await run_tool_calls(
        lookup_toolkit(handler), [call("1", "first"), call("2", "second")]
    )
    assert [(r.call_id, r.content) for r in results] == [("1", "first"), ("2", "second")]


async def test_a_sync_handler_runs_in_a_worker_thread_not_on_the_event_loop() -> None:
    loop_thread = threading.get_ident()
    seen: list[int] = []

    def handler(args: dict[str, str]) -> str:
        seen.append(threading.get_ident())
        return "ok"

    await run_tool_calls(lookup_toolkit(handler), [call("1")])
    assert seen
    assert seen[0] != loop_thread


async def test_sync_handlers_do_not_block_async_ones() -> None:
    """A sync handler blocks its thread until an async handler (on the loop) has run."""
    released = threading.Event()

    def blocking(args: dict[str, str]) -> str:
        assert released.wait(GUARD), "the async handler never ran: the loop was blocked"
        return "sync"

    async def releasing(args: dict[str, str]) -> str:
        released.set()
        return "async"

    toolkit = Toolkit(
        Tool("blocking", parameters=OBJECT, handler=blocking),
        Tool("releasing", parameters=OBJECT, handler=releasing),
    )
    results = await run_tool_calls(
        toolkit, [call("1", name="blocking"), call("2", name="releasing")]
    )
    assert [r.content for r in results] == ["sync", "async"]


async def test_function_tools_get_keyword_arguments_sync_or_async() -> None:
    @tool
    def add(a: int, b: int) -> int:
        return a + b

    @tool
    async def concat(a: str, b: str) -> str:
        return a + b

    results = await run_tool_calls(
        Toolkit(add, concat),
        [
            ToolCall.of("1", "add", {"a": 2, "b": 3}),
            ToolCall.of("2", "concat", {"a": "x", "b": "y"}),
        ],
    )
    assert [(r.value, r.content, r.is_error) for r in results] == [
        (5, "5", False),
        ("xy", "xy", False),
    ]


async def test_a_class_tool_gets_an_instance_of_its_class() -> None:
    seen: list[Any] = []
    toolkit = Toolkit(Tool("point", parameters=Point, handler=seen.append))
    await run_tool_calls(toolkit, [ToolCall.of("1", "point", {"x": 1, "y": 2})])
    assert seen == [Point(1, 2)]


class Query(TypedDict):
    q: str
    limit: int


@needs_pydantic
async def test_pydantic_and_typeddict_tools_get_their_decoded_values() -> None:
    models: list[Model] = []
    queries: list[Query] = []
    toolkit = Toolkit(
        Tool("model", parameters=Model, handler=models.append),
        Tool("query", parameters=Query, handler=queries.append),
    )
    await run_tool_calls(
        toolkit,
        [
            ToolCall.of("1", "model", {"name": "n", "tags": ["a", "b"]}),
            ToolCall.of("2", "query", {"q": "x", "limit": 3}),
        ],
    )
    assert models == [Model(name="n", tags=("a", "b"))]
    assert queries == [{"q": "x", "limit": 3}]
    with pytest.raises(AiError) as caught:
        await run_tool_calls(toolkit, [ToolCall.of("3", "query", {"q": "x", "limit": "3"})])
    assert [d.path for d in caught.value.reason.details] == [("limit",)]


async def test_a_sync_callable_returning_an_awaitable_is_awaited() -> None:
    async def later(value: str) -> str:
        return value.upper()

    results = await run_tool_calls(lookup_toolkit(lambda args: later(args["q"])), [call("1", "hi")])
    assert results[0].content == "HI"


# --- return values -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "content"),
    [
        ("plain text", "plain text"),
        ("", ""),
        (Point(1, 2), '{"x":1,"y":2}'),
        (Pair("l", [1, 2]), '{"left":"l","right":[1,2]}'),
        *PYDANTIC_RETURN,
        ({"points": [Point(0, 1)], "color": Color.RED}, '{"points":[{"x":0,"y":1}],"color":"red"}'),
        ([1, "two", None, True], '[1,"two",null,true]'),
        (3, "3"),
        (2.5, "2.5"),
        (None, "null"),
        (False, "false"),
    ],
)
async def test_a_return_value_becomes_the_text_the_model_reads(value: Any, content: str) -> None:
    results = await run_tool_calls(lookup_toolkit(lambda args: value), [call("1")])
    assert results == (ToolResult(call_id="1", name="lookup", value=None, content=content),)
    assert results[0].value is value


@pytest.mark.parametrize("value", [object(), {1: "int key"}, math.nan, {"set": {1, 2}}, b"bytes"])
async def test_a_return_value_that_is_not_json_is_tool_failed_naming_the_tool(value: Any) -> None:
    with pytest.raises(AiError) as caught:
        await run_tool_calls(lookup_toolkit(lambda args: value), [call("c9")], steps=PRIOR)
    reason = caught.value.reason
    assert isinstance(reason, ToolFailed)
    assert (reason.tool, reason.call_id, reason.steps) == ("lookup", "c9", PRIOR)
    assert "cannot be written as JSON" in reason.message


# --- failures: raised --------------------------------------------------------------------------


async def test_an_unknown_tool_is_unknown_tool_with_the_steps_and_runs_nothing() -> None:
    ran: list[str] = []
    with pytest.raises(AiError) as caught:
        await run_tool_calls(
            lookup_toolkit(lambda args: ran.append(args["q"])),
            [call("1"), call("2", name="delete_everything")],
            steps=PRIOR,
        )
    reason = caught.value.reason
    assert isinstance(reason, UnknownTool)
    assert (reason.tool, reason.call_id, reason.steps) == ("delete_everything", "2", PRIOR)
    assert "lookup" in reason.message  # names the tools there are
    assert ran == []  # checks come before any handler runs


async def test_arguments_that_are_not_json_are_invalid_tool_arguments() -> None:
    bad = ToolCall.from_json("c1", "lookup", '{"q": ')
    with pytest.raises(AiError) as caught:
        await run_tool_calls(lookup_toolkit(lambda args: "x"), [bad], steps=PRIOR)
    reason = caught.value.reason
    assert isinstance(reason, InvalidToolArguments)
    assert (reason.tool, reason.call_id, reason.steps) == ("lookup", "c1", PRIOR)
    assert "not JSON" in reason.message
    assert len(reason.details) == 1
    assert reason.details[0].message == bad.parse_error


async def test_arguments_that_do_not_match_the_schema_name_each_failing_path() -> None:
    toolkit = Toolkit(Tool("point", parameters=Point, handler=lambda p: p))
    with pytest.raises(AiError) as caught:
        await run_tool_calls(toolkit, [ToolCall.of("c1", "point", {"x": "one"})])
    reason = caught.value.reason
    assert isinstance(reason, InvalidToolArguments)
    assert (reason.tool, reason.call_id) == ("point", "c1")
    paths = {detail.path for detail in reason.details}
    assert paths == {("x",), ("y",)}
    assert all(isinstance(d, ErrorDetail) and d.code is None and d.message for d in reason.details)


async def test_a_handler_that_raises_is_tool_failed_with_the_exception_as_cause() -> None:
    boom = RuntimeError("database password=hunter2 rejected")

    def handler(args: dict[str, str]) -> str:
        raise boom

    with pytest.raises(AiError) as caught:
        await run_tool_calls(lookup_toolkit(handler), [call("c1")], steps=PRIOR)
    reason = caught.value.reason
    assert isinstance(reason, ToolFailed)
    assert (reason.tool, reason.call_id, reason.steps) == ("lookup", "c1", PRIOR)
    assert caught.value.__cause__ is boom
    assert "RuntimeError" in reason.message


async def test_a_failed_handler_cancels_the_others_when_raising() -> None:
    cancelled = anyio.Event()
    started = anyio.Event()

    async def handler(args: dict[str, str]) -> str:
        if args["q"] == "slow":
            started.set()
            try:
                await anyio.sleep_forever()
            except anyio.get_cancelled_exc_class():
                cancelled.set()
                raise
        with anyio.fail_after(GUARD):
            await started.wait()
        raise ValueError("fast failure")

    with pytest.raises(AiError) as caught:
        await run_tool_calls(lookup_toolkit(handler), [call("1", "slow"), call("2", "fast")])
    assert isinstance(caught.value.reason, ToolFailed)
    assert caught.value.reason.call_id == "2"
    assert cancelled.is_set()


async def test_a_handler_past_its_timeout_is_tool_failed_and_sees_the_cancel() -> None:
    cancelled = anyio.Event()

    async def handler(args: dict[str, str]) -> str:
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            cancelled.set()
            raise
        return "never"

    with pytest.raises(AiError) as caught:
        await run_tool_calls(lookup_toolkit(handler), [call("c1")], timeout=0.01, steps=PRIOR)
    reason = caught.value.reason
    assert isinstance(reason, ToolFailed)
    assert (reason.tool, reason.call_id, reason.steps) == ("lookup", "c1", PRIOR)
    assert "did not finish within 0.01s" in reason.message
    assert isinstance(caught.value.__cause__, TimeoutError)
    assert cancelled.is_set()


async def test_a_blocked_sync_handler_still_times_out() -> None:
    release = threading.Event()

    def handler(args: dict[str, str]) -> str:
        release.wait(GUARD)
        return "late"

    try:
        with pytest.raises(AiError) as caught:
            await run_tool_calls(lookup_toolkit(handler), [call("c1")], timeout=0.01)
        assert isinstance(caught.value.reason, ToolFailed)
    finally:
        release.set()


async def test_cancelling_the_caller_cancels_running_handlers() -> None:
    started = anyio.Event()
    saw_cancel = anyio.Event()

    async def handler(args: dict[str, str]) -> str:
        started.set()
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            saw_cancel.set()
            raise
        return "never"

    async with anyio.create_task_group() as group:
        group.start_soon(run_tool_calls, lookup_toolkit(handler), [call("1"), call("2")])
        with anyio.fail_after(GUARD):
            await started.wait()
        group.cancel_scope.cancel()
    assert saw_cancel.is_set()


async def test_a_tool_without_a_handler_is_tool_failed() -> None:
    with pytest.raises(AiError) as caught:
        await run_tool_calls(Toolkit(Tool("lookup", parameters=OBJECT)), [call("c1")])
    assert isinstance(caught.value.reason, ToolFailed)
    assert "has no handler" in caught.value.reason.message


# --- failures: returned to the model -----------------------------------------------------------


async def test_with_on_error_return_each_failure_is_an_error_result_and_the_rest_run() -> None:
    async def handler(args: dict[str, str]) -> Any:
        match args["q"]:
            case "raise":
                raise RuntimeError("token sk-secret leaked in this message")
            case "tool-error":
                raise ToolError("no such city: Atlantis")
            case "hang":
                await anyio.sleep_forever()
            case "not-json":
                return object()
        return "fine"

    calls = [
        call("1", "ok"),
        call("2", name="nope"),
        ToolCall.from_json("3", "lookup", "{oops"),
        ToolCall.of("4", "lookup", {"q": 7}),
        call("5", "raise"),
        call("6", "tool-error"),
        call("7", "hang"),
        call("8", "not-json"),
    ]
    results = await run_tool_calls(
        lookup_toolkit(handler), calls, on_error="return", timeout=0.05, steps=PRIOR
    )
    assert [r.call_id for r in results] == [c.id for c in calls]
    assert [r.is_error for r in results] == [False] + [True] * 7
    assert results[0].content == "fine"
    reasons = [type(r.value.reason) for r in results[1:]]
    assert reasons == [
        UnknownTool,
        InvalidToolArguments,
        InvalidToolArguments,
        ToolFailed,
        ToolFailed,
        ToolFailed,
        ToolFailed,
    ]
    assert all(r.value.reason.steps == PRIOR for r in results[1:])
    contents = [r.content for r in results[1:]]
    assert contents[0] == "Error: there is no tool named 'nope'. Available tools: lookup."
    assert "not JSON" in contents[1]
    assert "$.q" in contents[2]
    assert contents[3] == "Error: the tool 'lookup' failed (RuntimeError)."  # no message: no secret
    assert contents[4] == "Error: no such city: Atlantis"  # a ToolError is meant for the model
    assert "did not finish in time" in contents[5]
    assert "cannot be sent" in contents[6]
    assert not any("Traceback" in c or "sk-secret" in c for c in contents)


# --- options -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"on_error": "ignore"}, "on_error"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": -1.0}, "timeout"),
        ({"timeout": True}, "timeout"),
        ({"timeout": "5"}, "timeout"),
        ({"timeout": math.nan}, "timeout"),
    ],
)
async def test_bad_options_are_a_validation_error_naming_them(
    options: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        await run_tool_calls(lookup_toolkit(lambda args: "x"), [call("1")], **options)
    assert caught.value.fields == (field,)


async def test_no_calls_give_no_results() -> None:
    assert await run_tool_calls(lookup_toolkit(lambda args: "x"), []) == ()
