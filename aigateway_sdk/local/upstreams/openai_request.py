"""A `ChatRequest` as an OpenAI chat-completions body, for forwarding: messages (content
parts, assistant `tool_calls`, `tool_call_id`, `name`), `tools`, `tool_choice`,
`parallel_tool_calls` and `response_format` written in OpenAI's shapes
(https://platform.openai.com/docs/api-reference/chat/create), so what arrived in OpenAI's
shape goes out as it came and what arrived in Workers AI's is translated."""

from __future__ import annotations

from typing import Any

from aigateway_sdk.local.upstreams.base import (
    ChatRequest,
    ContentPart,
    Message,
    ResponseFormat,
    TextPart,
    Tool,
    ToolChoice,
)

DEFAULT_SCHEMA_NAME = "response"
"""The `json_schema.name` OpenAI requires, for a schema that came without one (Workers AI's
JSON mode has no name)."""


def _part(part: ContentPart) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    image: dict[str, Any] = {"url": part.url}
    if part.detail is not None:
        image["detail"] = part.detail
    return {"type": "image_url", "image_url": image}


def _content(message: Message) -> str | list[dict[str, Any]] | None:
    if isinstance(message.content, tuple):
        return [_part(part) for part in message.content]
    if message.content is None and not message.tool_calls:
        return ""
    return message.content


def message_json(message: Message) -> dict[str, Any]:
    body: dict[str, Any] = {"role": message.role, "content": _content(message)}
    if message.name is not None:
        body["name"] = message.name
    if message.tool_calls:
        body["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in message.tool_calls
        ]
    if message.tool_call_id is not None:
        body["tool_call_id"] = message.tool_call_id
    return body


def tool_json(tool: Tool) -> dict[str, Any]:
    function: dict[str, Any] = {"name": tool.name}
    if tool.description is not None:
        function["description"] = tool.description
    if tool.parameters is not None:
        function["parameters"] = tool.parameters
    if tool.strict is not None:
        function["strict"] = tool.strict
    return {"type": "function", "function": function}


def tool_choice_json(choice: ToolChoice) -> str | dict[str, Any]:
    if choice.mode == "function":
        return {"type": "function", "function": {"name": choice.name}}
    return choice.mode


def response_format_json(form: ResponseFormat) -> dict[str, Any]:
    if form.type != "json_schema":
        return {"type": form.type}
    schema: dict[str, Any] = {"name": form.name or DEFAULT_SCHEMA_NAME}
    if form.description is not None:
        schema["description"] = form.description
    if form.schema is not None:
        schema["schema"] = form.schema
    if form.strict is not None:
        schema["strict"] = form.strict
    return {"type": "json_schema", "json_schema": schema}


def tools_json(request: ChatRequest) -> dict[str, Any]:
    """The body's tool and format fields, those the request has."""
    body: dict[str, Any] = {}
    if request.tools:
        body["tools"] = [tool_json(tool) for tool in request.tools]
    if request.tool_choice is not None:
        body["tool_choice"] = tool_choice_json(request.tool_choice)
    if request.parallel_tool_calls is not None:
        body["parallel_tool_calls"] = request.parallel_tool_calls
    if request.response_format is not None:
        body["response_format"] = response_format_json(request.response_format)
    return body


__all__ = [
    "DEFAULT_SCHEMA_NAME",
    "message_json",
    "response_format_json",
    "tool_choice_json",
    "tool_json",
    "tools_json",
]
