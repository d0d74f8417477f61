"""Prompts: a string, or a list of messages (system / user / assistant)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, TypeAlias

import attrs

from aigateway_sdk.errors import AiError, InvalidRequest

Role = Literal["system", "user", "assistant"]
ROLES: frozenset[str] = frozenset(("system", "user", "assistant"))


@attrs.frozen(slots=True)
class Message:
    """One chat message."""

    role: Role
    content: str

    def to_json(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


PromptInput: TypeAlias = str | Sequence[Message | Mapping[str, str]]
"""What `generate_text(prompt=...)` accepts: text, `Message`s, or `{"role", "content"}` dicts."""


def _invalid(message: str) -> AiError:
    return AiError(InvalidRequest(message=f"invalid prompt: {message}"))


def to_messages(prompt: PromptInput) -> tuple[Message, ...]:
    """Normalise a prompt to messages; raise `AiError(InvalidRequest)` naming what is wrong.
    A prompt with no text (an empty or blank string, or messages that are all blank) is
    refused: a model call must ask something."""
    if isinstance(prompt, str):
        if not prompt.strip():
            raise _invalid("the prompt is empty")
        return (Message("user", prompt),)
    if not isinstance(prompt, Sequence):
        raise _invalid(f"expected a string or a list of messages, got {type(prompt).__name__}")
    if not prompt:
        raise _invalid("the list of messages is empty")
    messages: list[Message] = []
    role: object
    content: object
    for index, item in enumerate(prompt):
        if isinstance(item, Message):
            role, content = item.role, item.content
        elif isinstance(item, Mapping):
            role, content = item.get("role"), item.get("content")
        else:
            raise _invalid(f"message {index} is a {type(item).__name__}, not a message")
        if role not in ROLES:
            raise _invalid(f"message {index} has role {role!r}; use system, user or assistant")
        if not isinstance(content, str):
            raise _invalid(f"message {index} has no text content")
        messages.append(item if isinstance(item, Message) else Message(role, content))  # type: ignore[arg-type]
    if not any(m.content.strip() for m in messages):
        raise _invalid("every message is empty")
    return tuple(messages)


__all__ = ["ROLES", "Message", "PromptInput", "Role", "to_messages"]
