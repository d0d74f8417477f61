"""The parts of a chat body beyond plain text, in both wire shapes: messages with content-part
lists, assistant tool calls and tool results; `tools`, `tool_choice`, `parallel_tool_calls`
and `response_format` in; tool calls out. Parsing names the bad field (HTTP 400).

Sources:
- Workers AI traditional function calling (tools `{name, description, parameters}`, reply
  `tool_calls: [{name, arguments: {...}}]`):
  https://developers.cloudflare.com/workers-ai/features/function-calling/traditional/
- Workers AI JSON mode (`response_format: {type: "json_object" | "json_schema", json_schema:
  <a JSON Schema>}`, reply `response` the JSON value):
  https://developers.cloudflare.com/workers-ai/features/json-mode/
- OpenAI chat completions (tools `{type: "function", function: {name, description,
  parameters, strict}}`, names `^[a-zA-Z0-9_-]{1,64}$`, at most 128 tools, `tool_choice`,
  `parallel_tool_calls`, `response_format` `text` / `json_object` / `json_schema: {name,
  description, schema, strict}`, content parts `text` / `image_url: {url, detail}`, assistant
  `tool_calls: [{id, type: "function", function: {name, arguments: "<JSON text>"}}]`, `tool`
  messages with `tool_call_id`): https://platform.openai.com/docs/api-reference/chat/create
  and the typed models of the `openai` package (`openai/types/chat/`).
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from aigateway_sdk._json import dumps_str, loads
from aigateway_sdk.contract.tools import BASE64, DATA_URL, MAX_TOOLS, TOOL_NAME
from aigateway_sdk.local.upstreams.base import (
    ContentPart,
    ImagePart,
    Message,
    ResponseFormat,
    TextPart,
    Tool,
    ToolCall,
    ToolChoice,
)
from aigateway_sdk.local.web.errors import ApiError
from aigateway_sdk.validation import FieldError

Shape = Literal["native", "openai"]

_CHOICES = ("auto", "none", "required")
_FORMATS = ("text", "json_object", "json_schema")


def invalid(field: str, message: str) -> ApiError:
    return ApiError.invalid([FieldError((field,), message)])


def _optional(item: dict[str, Any], key: str, kind: type, field: str, what: str) -> Any:
    """`item[key]` when it is absent/null or of `kind`; else a 400 naming `field.key`."""
    value = item.get(key)
    if value is not None and not isinstance(value, kind):
        raise invalid(f"{field}.{key}", f"must be {what}")
    return value


# --- messages ------------------------------------------------------------------------------


def _image_url(url: object, field: str) -> str:
    """An http(s) URL with a host, or a `data:` URL (`data:<type>;base64,<data>`, the data
    non-empty padded standard base64, as OpenAI takes an image)."""
    if not isinstance(url, str):
        raise invalid(field, "must be a string")
    if url.startswith("data:"):
        head = DATA_URL.match(url)
        if head is None:
            raise invalid(field, "must be a data: URL (data:<type>;base64,<data>)")
        data = url[head.end() :]
        if not data or BASE64.fullmatch(data) is None:
            raise invalid(field, "must carry non-empty, padded standard base64 data")
        return url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid(field, "must be an http(s) URL or a data: URL")
    return url


def _image(part: dict[str, Any], field: str) -> ImagePart:
    image = part.get("image_url")
    if not isinstance(image, dict):
        raise invalid(f"{field}.image_url", "must be an object with a url")
    url = _image_url(image.get("url"), f"{field}.image_url.url")
    detail = _optional(image, "detail", str, f"{field}.image_url", "a string")
    return ImagePart(url, detail)


def _part(part: object, field: str) -> ContentPart:
    if isinstance(part, str):
        return TextPart(part)
    if not isinstance(part, dict):
        raise invalid(field, "must be a content part object")
    kind = part.get("type")
    if kind == "text":
        text = part.get("text")
        if not isinstance(text, str):
            raise invalid(f"{field}.text", "must be a string")
        return TextPart(text)
    if kind == "image_url":
        return _image(part, field)
    raise invalid(f"{field}.type", "must be 'text' or 'image_url'")


def _content(value: object, field: str) -> str | tuple[ContentPart, ...] | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        return tuple(_part(part, f"{field}[{index}]") for index, part in enumerate(value))
    raise invalid(field, "must be a string or a list of content parts")


def _arguments(value: object, field: str) -> str:
    """A call's arguments as JSON text: OpenAI's string as given, an object (Workers AI's
    form) written as JSON, none as `{}`."""
    if isinstance(value, str):
        return value
    if value is None:
        return "{}"
    if isinstance(value, dict):
        return dumps_str(value)
    raise invalid(field, "must be a JSON string or an object")


def _call(item: object, field: str, shape: Shape) -> ToolCall:
    """An assistant's tool call: OpenAI's `{id, type, function: {name, arguments}}`; the
    native route also takes Workers AI's `{id?, name, arguments}`."""
    if not isinstance(item, dict):
        raise invalid(field, "must be an object")
    function = item.get("function")
    if isinstance(function, dict):
        body, where = function, f"{field}.function"
    elif shape == "native" and "function" not in item:
        body, where = item, field
    else:
        raise invalid(f"{field}.function", "must be an object")
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise invalid(f"{where}.name", "must be a non-empty string")
    call_id = item.get("id")
    if call_id is None and shape == "native":
        call_id = ""
    if not isinstance(call_id, str):
        raise invalid(f"{field}.id", "must be a string")
    return ToolCall(call_id, name, _arguments(body.get("arguments"), f"{where}.arguments"))


def _calls(value: object, field: str, shape: Shape) -> tuple[ToolCall, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise invalid(field, "must be an array")
    return tuple(_call(item, f"{field}[{index}]", shape) for index, item in enumerate(value))


def _message(item: object, index: int, shape: Shape) -> Message:
    field = f"messages[{index}]"
    if not isinstance(item, dict):
        raise invalid(field, "must be an object")
    role = item.get("role")
    if not isinstance(role, str) or not role:
        raise invalid(f"{field}.role", "must be a string")
    content = _content(item.get("content"), f"{field}.content")
    calls = _calls(item.get("tool_calls"), f"{field}.tool_calls", shape)
    call_id = _optional(item, "tool_call_id", str, field, "a string")
    if role == "tool" and call_id is None and shape == "openai":
        raise invalid(f"{field}.tool_call_id", "is required in a tool message")
    name = _optional(item, "name", str, field, "a string")
    return Message(role, content, calls, call_id, name)


def parse_messages(value: object, shape: Shape) -> tuple[Message, ...]:
    if not isinstance(value, list) or not value:
        raise invalid("messages", "must be a non-empty array")
    return tuple(_message(item, index, shape) for index, item in enumerate(value))


# --- tools ---------------------------------------------------------------------------------


def _tool_body(item: object, field: str, shape: Shape) -> tuple[dict[str, Any], str]:
    """The object holding a tool's fields, and its field name: OpenAI's `{type: "function",
    function: {...}}`; the native route also takes Workers AI's `{name, description,
    parameters}`."""
    if not isinstance(item, dict):
        raise invalid(field, "must be an object")
    if shape == "native" and "function" not in item and "type" not in item:
        return item, field
    if item.get("type") != "function":
        raise invalid(f"{field}.type", "must be 'function'")
    body = item.get("function")
    if not isinstance(body, dict):
        raise invalid(f"{field}.function", "must be an object")
    return body, f"{field}.function"


def _tool(body: dict[str, Any], field: str) -> Tool:
    name = body.get("name")
    if not isinstance(name, str) or not TOOL_NAME.fullmatch(name):
        raise invalid(f"{field}.name", "must be 1 to 64 letters, digits, '_' or '-'")
    description = _optional(body, "description", str, field, "a string")
    parameters = _optional(body, "parameters", dict, field, "an object (a JSON Schema)")
    strict = _optional(body, "strict", bool, field, "a boolean")
    return Tool(name, description, parameters, strict)


def parse_tools(value: object, shape: Shape) -> tuple[Tool, ...]:
    """`tools`: an array of at most `MAX_TOOLS` tools with distinct valid names."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise invalid("tools", "must be an array")
    if len(value) > MAX_TOOLS:
        raise invalid("tools", f"must have at most {MAX_TOOLS} tools, got {len(value)}")
    tools: list[Tool] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(value):
        body, field = _tool_body(item, f"tools[{index}]", shape)
        tool = _tool(body, field)
        if tool.name in seen:
            raise invalid(f"{field}.name", f"duplicates tools[{seen[tool.name]}] ({tool.name})")
        seen[tool.name] = index
        tools.append(tool)
    return tuple(tools)


def parse_tool_choice(value: object, tools: tuple[Tool, ...]) -> ToolChoice | None:
    """`"auto"`, `"none"`, `"required"` (which needs tools) or `{type: "function", function:
    {name}}` naming one of `tools`."""
    if value is None:
        return None
    if value in _CHOICES:
        if value == "required" and not tools:
            raise invalid("tool_choice", "'required' needs tools")
        return ToolChoice(value)  # type: ignore[arg-type]
    if isinstance(value, dict) and value.get("type") == "function":
        function = value.get("function")
        name = function.get("name") if isinstance(function, dict) else None
        if not isinstance(name, str):
            raise invalid("tool_choice.function.name", "must be a string")
        if all(tool.name != name for tool in tools):
            raise invalid("tool_choice.function.name", f"names no tool in tools ({name})")
        return ToolChoice("function", name)
    raise invalid(
        "tool_choice", "must be 'auto', 'none', 'required' or {type: 'function', function: {name}}"
    )


def parse_parallel(value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise invalid("parallel_tool_calls", "must be a boolean")


# --- response format -----------------------------------------------------------------------


def _openai_schema(value: object) -> ResponseFormat:
    """OpenAI's `json_schema: {name, description?, schema?, strict?}`."""
    field = "response_format.json_schema"
    if not isinstance(value, dict):
        raise invalid(field, "must be an object")
    name = value.get("name")
    if not isinstance(name, str) or not TOOL_NAME.fullmatch(name):
        raise invalid(f"{field}.name", "must be 1 to 64 letters, digits, '_' or '-'")
    description = _optional(value, "description", str, field, "a string")
    schema = _optional(value, "schema", dict, field, "an object (a JSON Schema)")
    strict = _optional(value, "strict", bool, field, "a boolean")
    return ResponseFormat("json_schema", schema, name, description, strict)


def _is_openai_wrapper(value: dict[str, Any]) -> bool:
    """Whether a native `json_schema` is OpenAI's `{name, schema}` wrapper, not a schema."""
    return (
        isinstance(value.get("name"), str)
        and isinstance(value.get("schema"), dict)
        and ("type" not in value)
    )


def parse_response_format(value: object, shape: Shape) -> ResponseFormat | None:
    """`{type: "text" | "json_object" | "json_schema", json_schema}`: on the native route
    `json_schema` is the JSON Schema itself (Workers AI's form; OpenAI's wrapper is taken
    too), on OpenAI's routes OpenAI's `{name, schema, strict}`."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid("response_format", "must be an object")
    kind = value.get("type")
    if kind not in _FORMATS:
        raise invalid("response_format.type", "must be 'text', 'json_object' or 'json_schema'")
    if kind != "json_schema":
        return ResponseFormat(kind)
    schema = value.get("json_schema")
    if shape == "openai":
        return _openai_schema(schema)
    if not isinstance(schema, dict):
        raise invalid("response_format.json_schema", "must be an object (a JSON Schema)")
    if _is_openai_wrapper(schema):
        return _openai_schema(schema)
    return ResponseFormat("json_schema", schema)


# --- tool calls out ------------------------------------------------------------------------


def json_value(text: str) -> Any:
    """JSON text as Workers AI's native replies carry it (a call's arguments, a JSON-mode
    `response`): the value (`{}` for no text), or the text as given when it is not JSON."""
    if not text:
        return {}
    try:
        return loads(text)
    except ValueError:
        return text


def native_calls(calls: tuple[ToolCall, ...]) -> list[dict[str, Any]]:
    """`[{"id", "name", "arguments": {...}}]`: Workers AI's traditional function-calling
    shape, with each call's id added so a client can answer it."""
    return [
        {"id": call.id, "name": call.name, "arguments": json_value(call.arguments)}
        for call in calls
    ]


def openai_calls(calls: tuple[ToolCall, ...]) -> list[dict[str, Any]]:
    """`[{"id", "type": "function", "function": {"name", "arguments": "<JSON text>"}}]`."""
    return [
        {
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": call.arguments},
        }
        for call in calls
    ]


__all__ = [
    "MAX_TOOLS",
    "TOOL_NAME",
    "invalid",
    "json_value",
    "native_calls",
    "openai_calls",
    "parse_messages",
    "parse_parallel",
    "parse_response_format",
    "parse_tool_choice",
    "parse_tools",
]
