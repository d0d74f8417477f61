"""What every `LanguageModel` does on top of one model call: the tool loop, structured output,
and the checks of their options. A model provides one call (`OneCall`) and one streamed call
(`OneStream`); the gateway model and the test fake both build their public methods from these,
the way Effect AI's `LanguageModel.make` builds `generateText` over a provider's one call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, TypeAlias, TypeVar

import attrs

from aigateway_sdk.parts import StreamPart
from aigateway_sdk.prompt import Message, PromptInput, to_messages
from aigateway_sdk.request import OutputFormat, ToolsRequest
from aigateway_sdk.response import GenerateObjectResponse, GenerateTextResponse
from aigateway_sdk.schema import Schema
from aigateway_sdk.structured import check_repairs, generate_object, output_format
from aigateway_sdk.tools import Toolkit
from aigateway_sdk.tools.loop import check_loop_options, run_tool_loop, stream_tool_loop
from aigateway_sdk.tools.run import OnError
from aigateway_sdk.validation import FieldError, ValidationError

T = TypeVar("T")

OneCall: TypeAlias = Callable[
    [tuple[Message, ...], ToolsRequest | None, OutputFormat | None],
    Awaitable[GenerateTextResponse],
]
"""One model call: the conversation, the tools offered, the output format asked for."""
OneStream: TypeAlias = Callable[
    [tuple[Message, ...], ToolsRequest | None, OutputFormat | None], AsyncIterator[StreamPart]
]
"""One streamed model call."""

SchemaSpec: TypeAlias = "type[T] | Schema[T] | Mapping[str, Any]"


@attrs.frozen(slots=True)
class ToolUse:
    """A call's tool settings, checked. `first` is offered to the first model call; `later` to
    the following ones of a loop: a forced choice ("required" or a tool's name) applies to the
    first call only (forced on every call, the model could never answer), later calls get
    "auto"."""

    toolkit: Toolkit
    first: ToolsRequest
    later: ToolsRequest
    max_steps: int
    on_error: OnError
    timeout: float | None


def tool_use(
    toolkit: Toolkit | None,
    tool_choice: str | None,
    max_steps: int,
    on_error: OnError,
    timeout: float | None,
) -> ToolUse | None:
    """The checked tool settings of a call (None: no tools); `ValidationError` naming a bad one."""
    if toolkit is None:
        if tool_choice is not None:
            raise ValidationError(
                [FieldError(("tool_choice",), "needs a toolkit (toolkit=...)")], what="model call"
            )
        return None
    if not isinstance(toolkit, Toolkit):
        raise ValidationError(
            [FieldError(("toolkit",), f"must be a Toolkit, got {type(toolkit).__name__}")],
            what="model call",
        )
    check_loop_options(max_steps, on_error, timeout)
    first = toolkit.request(tool_choice or "auto")
    later = first if first.choice in ("auto", "none") else attrs.evolve(first, choice="auto")
    return ToolUse(toolkit, first, later, max_steps, on_error, timeout)


def _offering(one: Callable[..., Any], use: ToolUse) -> Callable[[tuple[Message, ...]], Any]:
    """`one` with the tools bound: the first call gets `use.first`, the later ones `use.later`."""
    calls = 0

    def step(history: tuple[Message, ...]) -> Any:
        nonlocal calls
        calls += 1
        return one(history, use.first if calls == 1 else use.later, None)

    return step


async def generate(one: OneCall, prompt: PromptInput, use: ToolUse | None) -> GenerateTextResponse:
    """`generate_text`: one call, or the tool loop when tools are offered."""
    messages = to_messages(prompt)
    if use is None:
        return await one(messages, None, None)
    return await run_tool_loop(
        _offering(one, use),
        messages,
        use.toolkit,
        max_steps=use.max_steps,
        on_error=use.on_error,
        timeout=use.timeout,
    )


async def stream(
    one: OneStream, prompt: PromptInput, use: ToolUse | None
) -> AsyncIterator[StreamPart]:
    """`stream_text`: one streamed call, or the streamed tool loop."""
    messages = to_messages(prompt)
    if use is None:
        parts = one(messages, None, None)
    else:
        parts = stream_tool_loop(
            _offering(one, use),
            messages,
            use.toolkit,
            max_steps=use.max_steps,
            on_error=use.on_error,
            timeout=use.timeout,
        )
    try:
        async for part in parts:
            yield part
    finally:
        aclose = getattr(parts, "aclose", None)
        if aclose is not None:
            await aclose()


@attrs.frozen(slots=True)
class ObjectRequest:
    """A `generate_object` call's checked settings."""

    schema: Schema[Any]
    output: OutputFormat
    repairs: int


def object_request(schema: Any, repairs: int, strict: bool) -> ObjectRequest:
    """The checked settings; `ValidationError` for a schema that cannot be used."""
    checked = Schema.of(schema)
    return ObjectRequest(
        checked, output_format(checked, strict=bool(strict)), check_repairs(repairs)
    )


async def generate_structured(
    one: OneCall, prompt: PromptInput, request: ObjectRequest
) -> GenerateObjectResponse[Any]:
    """`generate_object`: calls until the reply decodes, at most 1 + `repairs` times."""
    messages = to_messages(prompt)
    output = request.output

    def step(history: tuple[Message, ...]) -> Awaitable[GenerateTextResponse]:
        return one(history, None, output)

    return await generate_object(step, messages, request.schema, repairs=request.repairs)


__all__ = [
    "ObjectRequest",
    "OneCall",
    "OneStream",
    "SchemaSpec",
    "ToolUse",
    "generate",
    "generate_structured",
    "object_request",
    "stream",
    "tool_use",
]
