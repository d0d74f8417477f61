"""Prompts: a string, or a list of messages (system / user / assistant / tool).

A message's content is text, or a tuple of parts (`TextPart`, `ImagePart`). An assistant
message may carry the tool calls the model asked for; a `tool` message carries one call's result.
OpenAI-style dicts are accepted too (`{"role": "user", "content": [{"type": "text", ...},
{"type": "image_url", "image_url": {"url": ...}}]}`, assistant `tool_calls`, `tool_call_id`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeAlias, TypeGuard

import attrs

from aigateway_sdk.content import ContentPart, ImagePart, TextPart, ToolCall, ToolResult
from aigateway_sdk.errors import AiError, InvalidRequest
from aigateway_sdk.validation import ValidationError

Role = Literal["system", "user", "assistant", "tool"]
ROLES: frozenset[str] = frozenset(("system", "user", "assistant", "tool"))


@attrs.frozen(slots=True)
class Message:
    """One chat message. `content` is text or a tuple of parts; `tool_calls` (assistant) the
    calls the model asked for; `tool_call_id` (tool) the call a result answers."""

    role: Role
    content: str | tuple[ContentPart, ...] = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None

    @classmethod
    def system(cls, text: str) -> Message:
        return cls("system", text)

    @classmethod
    def user(cls, *content: str | ContentPart) -> Message:
        """A user message: one text, or several parts (`"text"`, `ImagePart(...)`)."""
        if len(content) == 1 and isinstance(content[0], str):
            return cls("user", content[0])
        return cls("user", tuple(TextPart(c) if isinstance(c, str) else c for c in content))

    @classmethod
    def assistant(cls, text: str = "", tool_calls: Sequence[ToolCall] = ()) -> Message:
        return cls("assistant", text, tuple(tool_calls))

    @classmethod
    def tool(cls, result: ToolResult) -> Message:
        """The message that gives a tool call's result back to the model."""
        return cls("tool", result.content, tool_call_id=result.call_id)

    @property
    def text(self) -> str:
        """The message's text (its text parts joined, for a message made of parts)."""
        content = self.content
        if isinstance(content, str):
            return content
        return "".join(p.text for p in content if type(p) is TextPart)

    @property
    def images(self) -> tuple[ImagePart, ...]:
        content = self.content
        if isinstance(content, str):
            return ()
        return tuple(p for p in content if type(p) is ImagePart)

    def to_json(self) -> dict[str, Any]:
        """OpenAI's chat message shape (a plain text message is `{"role", "content"}`)."""
        content = self.content
        if isinstance(content, str) and not self.tool_calls and self.tool_call_id is None:
            return {"role": self.role, "content": content}
        body: dict[str, Any] = {"role": self.role}
        if isinstance(content, str):
            body["content"] = content if content or not self.tool_calls else None
        else:
            body["content"] = [part.to_json() for part in content]
        if self.tool_calls:
            body["tool_calls"] = [call.to_json() for call in self.tool_calls]
        if self.tool_call_id is not None:
            body["tool_call_id"] = self.tool_call_id
        return body

    def is_empty(self) -> bool:
        content = self.content
        if self.tool_calls:
            return False
        if isinstance(content, str):
            return not content.strip()
        return not any(isinstance(p, ImagePart) or p.text.strip() for p in content)


PromptInput: TypeAlias = str | Message | Mapping[str, Any] | Sequence[Message | Mapping[str, Any]]
"""What `generate_text(prompt=...)` accepts: text, a message, or a list of `Message`s or
OpenAI-style message dicts."""


def _shown(value: object) -> str:
    """`repr(value)`, cut to a length a message can carry."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _invalid(message: str) -> AiError:
    return AiError(InvalidRequest(message=f"invalid prompt: {message}"))


def _part(raw: object, where: str) -> ContentPart:
    """One OpenAI content part: `{"type": "text", "text"}` or `{"type": "image_url",
    "image_url": {"url", "detail"?} | "<url>"}` (a `TextPart`/`ImagePart` passes as is)."""
    if isinstance(raw, TextPart | ImagePart):
        return raw
    if isinstance(raw, str):
        return TextPart(raw)
    if not isinstance(raw, Mapping):
        raise _invalid(f"{where} is a {type(raw).__name__}, not a content part")
    kind = raw.get("type")
    if kind == "text" and isinstance(raw.get("text"), str):
        return TextPart(raw["text"])
    if kind == "image_url":
        image = raw.get("image_url")
        url, detail = (image, None) if isinstance(image, str) else (None, None)
        if isinstance(image, Mapping):
            url, detail = image.get("url"), image.get("detail")
        try:
            return ImagePart(url, detail)  # type: ignore[arg-type]
        except ValidationError as error:
            raise _invalid(f"{where}: {error}") from None
    raise _invalid(f"{where} has type {_shown(kind)}; use text or image_url parts")


def _content(raw: object, where: str) -> str | tuple[ContentPart, ...]:
    if raw is None:
        return ""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, Sequence) and not isinstance(raw, bytes | bytearray):
        return tuple(_part(part, f"{where}.content[{i}]") for i, part in enumerate(raw))
    raise _invalid(f"{where} has no text content (a string or a list of parts)")


def _call(raw: object, where: str) -> ToolCall:
    """An OpenAI tool call dict: `{"id", "type": "function", "function": {"name",
    "arguments"}}` (a `ToolCall` passes as is)."""
    if isinstance(raw, ToolCall):
        return raw
    function = raw.get("function") if isinstance(raw, Mapping) else None
    if not isinstance(raw, Mapping) or not isinstance(function, Mapping):
        raise _invalid(f"{where} must be {{id, type: function, function: {{name, arguments}}}}")
    call_id, name, arguments = raw.get("id"), function.get("name"), function.get("arguments")
    if not isinstance(call_id, str) or not isinstance(name, str):
        raise _invalid(f"{where} needs a string id and function.name")
    if isinstance(arguments, str):
        return ToolCall.from_json(call_id, name, arguments)
    try:
        return ToolCall.of(call_id, name, arguments if arguments is not None else {})
    except (TypeError, ValueError) as error:
        raise _invalid(f"{where}.function.arguments cannot be written as JSON ({error})") from None


def _known_role(role: object) -> TypeGuard[Role]:
    return isinstance(role, str) and role in ROLES


def _from_mapping(item: Mapping[str, Any], where: str) -> Message:
    role = item.get("role")
    if not _known_role(role):
        raise _invalid(f"{where} has role {_shown(role)}; use system, user, assistant or tool")
    content = _content(item.get("content"), where)
    raw_calls = item.get("tool_calls") or ()
    if not isinstance(raw_calls, Sequence) or isinstance(raw_calls, str):
        raise _invalid(f"{where}.tool_calls must be a list")
    calls = tuple(_call(c, f"{where}.tool_calls[{i}]") for i, c in enumerate(raw_calls))
    call_id = item.get("tool_call_id")
    if call_id is not None and not isinstance(call_id, str):
        raise _invalid(f"{where}.tool_call_id must be a string")
    return Message(role, content, calls, call_id)


def _check(message: Message, where: str) -> None:
    """The rules a provider would reject a request over, checked before anything is sent."""
    if message.role == "tool":
        if not message.tool_call_id:
            raise _invalid(f"{where} (a tool result) needs tool_call_id")
        if not isinstance(message.content, str):
            raise _invalid(f"{where} (a tool result) must have text content")
    elif message.tool_call_id is not None:
        raise _invalid(f"{where}: only tool messages carry tool_call_id")
    if message.tool_calls and message.role != "assistant":
        raise _invalid(f"{where}: only assistant messages carry tool_calls")
    if message.role != "user" and message.images:
        raise _invalid(f"{where}: only user messages carry images")


def to_messages(prompt: PromptInput) -> tuple[Message, ...]:
    """Normalise a prompt to messages; raise `AiError(InvalidRequest)` naming what is wrong.
    A prompt with nothing in it (an empty or blank string, or messages that are all blank) is
    refused: a model call must ask something."""
    if isinstance(prompt, str):
        if not prompt.strip():
            raise _invalid("the prompt is empty")
        return (Message("user", prompt),)
    if isinstance(prompt, Message) or (isinstance(prompt, Mapping) and "role" in prompt):
        prompt = [prompt]  # one message, given alone
    if not isinstance(prompt, Sequence):
        raise _invalid(f"expected a string or a list of messages, got {type(prompt).__name__}")
    if not prompt:
        raise _invalid("the list of messages is empty")
    messages: list[Message] = []
    for index, item in enumerate(prompt):
        where = f"message {index}"
        if isinstance(item, Message):
            if not _known_role(item.role):
                raise _invalid(
                    f"{where} has role {_shown(item.role)}; use system, user, assistant or tool"
                )
            message = item
        elif isinstance(item, Mapping):
            message = _from_mapping(item, where)
        else:
            raise _invalid(f"{where} is a {type(item).__name__}, not a message")
        _check(message, where)
        messages.append(message)
    if all(m.is_empty() for m in messages):
        raise _invalid("every message is empty")
    return tuple(messages)


__all__ = ["ROLES", "Message", "PromptInput", "Role", "to_messages"]
