"""Tools and structured output on the wire: how each API is told which tools a model may call
and what JSON it must answer with, and how the calls it asks for are read back.

OpenAI's shapes (`compat`, `workers-ai-openai`), from its chat completions reference
(https://platform.openai.com/docs/api-reference/chat/create):

    tools: [{"type": "function", "function": {"name", "description"?, "parameters",
             "strict"?}}]
    tool_choice: "auto" | "none" | "required" | {"type": "function", "function": {"name"}}
    parallel_tool_calls: bool
    response_format: {"type": "json_schema", "json_schema": {"name", "schema", "strict"?,
                      "description"?}} | {"type": "json_object"}
    reply: choices[0].message.tool_calls: [{"id", "type": "function",
           "function": {"name", "arguments": "<JSON text>"}}]
    stream: choices[0].delta.tool_calls: [{"index", "id"?, "type"?, "function": {"name"?,
            "arguments"?}}], a call's id and name in its first piece, its arguments' text in
            pieces after it.

Workers AI's native shapes: tools in the "traditional" form `{"name", "description",
"parameters"}` (https://developers.cloudflare.com/workers-ai/features/function-calling/traditional/),
which answers with `result.tool_calls: [{"name", "arguments": {...}}]` (newer models answer in
OpenAI's call shape, also read); JSON mode as `response_format: {"type": "json_schema",
"json_schema": <the schema itself>}` or `{"type": "json_object"}`
(https://developers.cloudflare.com/workers-ai/features/json-mode/), which answers with the JSON
value as `result.response`.

Readers raise `ValueError`/`KeyError`/`TypeError` on a shape they cannot read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aigateway_sdk import _json
from aigateway_sdk.codecs.base import MAX_TOOL_CALLS, ToolCallChunk, too_many_calls
from aigateway_sdk.content import ToolCall
from aigateway_sdk.request import TOOL_CHOICES, OutputFormat, ToolDefinition, ToolsRequest

# -- requests ----------------------------------------------------------------------------------


def _plain(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A schema as the JSON encoder takes it (a dict; any other mapping is copied)."""
    return schema if type(schema) is dict else dict(schema)


def tool_choice_json(choice: str) -> str | dict[str, Any]:
    """`auto`, `none` and `required` as they are; any other choice is the one tool to call."""
    if choice in TOOL_CHOICES:
        return choice
    return {"type": "function", "function": {"name": choice}}


def _openai_tool(definition: ToolDefinition) -> dict[str, Any]:
    function: dict[str, Any] = {"name": definition.name}
    if definition.description is not None:
        function["description"] = definition.description
    function["parameters"] = _plain(definition.parameters)
    if definition.strict:
        function["strict"] = True
    return {"type": "function", "function": function}


def add_openai_tools(body: dict[str, Any], tools: ToolsRequest) -> None:
    """`tools`, `tool_choice` and `parallel_tool_calls` (when set); nothing for no tools (the
    API refuses an empty `tools` list)."""
    if not tools.definitions:
        return
    body["tools"] = [_openai_tool(d) for d in tools.definitions]
    body["tool_choice"] = tool_choice_json(tools.choice)
    if tools.parallel is not None:
        body["parallel_tool_calls"] = tools.parallel


def openai_response_format(output: OutputFormat) -> dict[str, Any]:
    if output.schema is None:
        return {"type": "json_object"}
    spec: dict[str, Any] = {"name": output.name}
    if output.description is not None:
        spec["description"] = output.description
    spec["schema"] = _plain(output.schema)
    if output.strict:
        spec["strict"] = True
    return {"type": "json_schema", "json_schema": spec}


def _traditional_tool(definition: ToolDefinition) -> dict[str, Any]:
    # The documented form always has a description; an empty one says nothing.
    return {
        "name": definition.name,
        "description": definition.description or "",
        "parameters": _plain(definition.parameters),
    }


def add_workers_ai_tools(body: dict[str, Any], tools: ToolsRequest) -> None:
    """`tools` in the traditional form and `tool_choice` when it is not the default ("auto").
    `parallel` has no place in the native API and is not sent."""
    if not tools.definitions:
        return
    body["tools"] = [_traditional_tool(d) for d in tools.definitions]
    if tools.choice != "auto":
        body["tool_choice"] = tool_choice_json(tools.choice)


def workers_ai_response_format(output: OutputFormat) -> dict[str, Any]:
    if output.schema is None:
        return {"type": "json_object"}
    return {"type": "json_schema", "json_schema": _plain(output.schema)}


# -- replies -----------------------------------------------------------------------------------


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{where} is not text")
    return value


def _optional_text(value: Any, where: str) -> str | None:
    return None if value is None else _text(value, where)


def _calls_list(raw: Any, where: str) -> list[Any]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise TypeError(f"{where} is not a list")
    return raw


def _arguments_text(arguments: Any) -> str:
    """Arguments as JSON text: a string as sent, any other JSON value (an object) written."""
    if isinstance(arguments, str):
        return arguments
    if arguments is None:
        return ""
    return _json.dumps(arguments).decode()


def _call(raw: Any, index: int, where: str) -> ToolCall:
    """One call in OpenAI's shape (`{"id", "function": {"name", "arguments"}}`) or Workers AI's
    traditional one (`{"name", "arguments", "id"?}`); arguments as JSON text or as an object.
    A call without an id gets `call_{index}`."""
    if not isinstance(raw, dict):
        raise TypeError(f"{where} is not an object")
    function = raw.get("function")
    source = function if isinstance(function, dict) else raw
    name = _text(source["name"], f"{where}.name")
    call_id = _optional_text(raw.get("id"), f"{where}.id") or f"call_{index}"
    arguments = source.get("arguments")
    if isinstance(arguments, str):
        return ToolCall.from_json(call_id, name, arguments)
    return ToolCall.of(call_id, name, {} if arguments is None else arguments)


def tool_calls_of(raw: Any, where: str) -> tuple[ToolCall, ...]:
    """The calls of a whole reply (`message.tool_calls` or `result.tool_calls`), at most
    `MAX_TOOL_CALLS`."""
    calls = _calls_list(raw, where)
    if len(calls) > MAX_TOOL_CALLS:
        raise too_many_calls(len(calls))
    return tuple(_call(item, i, f"{where}[{i}]") for i, item in enumerate(calls))


def openai_tool_pieces(raw: Any) -> tuple[ToolCallChunk, ...]:
    """OpenAI's `delta.tool_calls`: one piece per entry, with the call's index."""
    pieces = []
    for position, item in enumerate(_calls_list(raw, "delta.tool_calls")):
        where = f"delta.tool_calls[{position}]"
        if not isinstance(item, dict):
            raise TypeError(f"{where} is not an object")
        index = item.get("index", position)
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise ValueError(f"{where}.index is not a call number")
        function = item.get("function") or {}
        if not isinstance(function, dict):
            raise TypeError(f"{where}.function is not an object")
        pieces.append(
            ToolCallChunk(
                index,
                _optional_text(item.get("id"), f"{where}.id"),
                _optional_text(function.get("name"), f"{where}.function.name"),
                _optional_text(function.get("arguments"), f"{where}.function.arguments"),
            )
        )
    return tuple(pieces)


def whole_tool_pieces(raw: Any) -> tuple[ToolCallChunk, ...]:
    """Workers AI's native stream: a frame's `tool_calls` hold whole calls, each the stream's
    next call (`index` None; the assembler numbers them and names those without an id)."""
    pieces = []
    for position, item in enumerate(_calls_list(raw, "tool_calls")):
        where = f"tool_calls[{position}]"
        if not isinstance(item, dict):
            raise TypeError(f"{where} is not an object")
        function = item.get("function")
        source = function if isinstance(function, dict) else item
        name = _text(source["name"], f"{where}.name")
        arguments = _arguments_text(source.get("arguments"))
        pieces.append(
            ToolCallChunk(None, _optional_text(item.get("id"), f"{where}.id"), name, arguments)
        )
    return tuple(pieces)


def json_text(value: Any) -> str:
    """A JSON-mode reply's value (an object or an array) as compact JSON text."""
    return _json.dumps(value).decode()


__all__ = [
    "add_openai_tools",
    "add_workers_ai_tools",
    "json_text",
    "openai_response_format",
    "openai_tool_pieces",
    "tool_calls_of",
    "tool_choice_json",
    "whole_tool_pieces",
    "workers_ai_response_format",
]
