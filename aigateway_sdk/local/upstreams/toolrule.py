"""The built-in model's tool rule: which tools it calls, with which arguments, and what it says
once the tools have answered. The rule is documented in `builtin` and docs/local-gateway.md.

1. Tools are called when the request has tools, `tool_choice` is not `none` and the last
   message is not a tool result: the tool `tool_choice` names; else every tool whose name
   occurs in the last user message (any case, as a whole word: not inside a longer run of
   letters, digits, `_` or `-`), in the order of `tools` (only the first of them with
   `parallel_tool_calls: false`); else, with `tool_choice: "required"`, the first tool.
2. Arguments are a value of the tool's `parameters` schema (`schema_value.generate`) drawn
   from a PRNG seeded with the request's seed and the call's position, with the top-level
   properties the last user message names as `name=value` or `name: value` (`named_values`).
3. After tool results (the last message has role `tool`), the reply is
   `Tool results: <name> returned <content>; <name> returned <content>.`, each content on one
   line and cut to `RESULT_CHARS` characters (`…` marks a cut).
"""

from __future__ import annotations

import hashlib
import random
import re

from aigateway_sdk._json import dumps_str
from aigateway_sdk.local.upstreams.base import ChatRequest, Message, Tool, ToolCall
from aigateway_sdk.local.upstreams.schema_value import generate

RESULT_CHARS = 200
"""The most characters of one tool result quoted in the reply after tool results."""

_PAIR = re.compile(  # a lookahead, so pairs may overlap: `topic: name=India` has both
    r"""(?=(?<![\w-])([A-Za-z_][\w-]*)\s*[:=]\s*(?:"([^"]*)"|'([^']*)'|([^\s,]+)))"""
)
_TRAILING = ".!?;:)"


def last_user(request: ChatRequest) -> Message | None:
    """The last `user` message, else the last message (None when there is none)."""
    return next(
        (m for m in reversed(request.messages) if m.role == "user"),
        request.messages[-1] if request.messages else None,
    )


def named_values(text: str) -> dict[str, str]:
    """The `name=value` / `name: value` pairs of a text, the first one of each name. A value
    is a quoted string (`"…"` or `'…'`, without the quotes) or a run of characters other than
    spaces and commas, without trailing `.!?;:)`."""
    found: dict[str, str] = {}
    for match in _PAIR.finditer(text):
        name, double, single, bare = match.groups()
        value = double if double is not None else single
        if value is None:
            value = bare.rstrip(_TRAILING)
            if not value:
                continue
        found.setdefault(name, value)
    return found


def mentions(text: str, name: str) -> bool:
    """Whether `name` occurs in `text` as a whole word, in any case."""
    pattern = rf"(?<![A-Za-z0-9_-]){re.escape(name)}(?![A-Za-z0-9_-])"
    return re.search(pattern, text, re.IGNORECASE) is not None


def after_tool_results(request: ChatRequest) -> bool:
    return bool(request.messages) and request.messages[-1].role == "tool"


def _named(request: ChatRequest) -> tuple[Tool, ...]:
    """The tools the last user message names (only the first with `parallel_tool_calls:
    false`)."""
    user = last_user(request)
    text = user.text if user is not None else ""
    named = tuple(tool for tool in request.tools if mentions(text, tool.name))
    return named[:1] if request.parallel_tool_calls is False else named


def chosen_tools(request: ChatRequest) -> tuple[Tool, ...]:
    """The tools the built-in model calls for `request` (rule 1), in order."""
    choice = request.tool_choice
    mode = choice.mode if choice is not None else "auto"
    if not request.tools or after_tool_results(request) or mode == "none":
        return ()
    if choice is not None and mode == "function":
        return tuple(tool for tool in request.tools if tool.name == choice.name)[:1]
    named = _named(request)
    if not named and mode == "required":
        return request.tools[:1]
    return named


def call_id(seed: int, index: int, name: str) -> str:
    """A call's id, OpenAI-like (`call_` and 24 hex digits), the same for the same request."""
    digest = hashlib.sha256(f"{seed}:{index}:{name}".encode()).hexdigest()
    return f"call_{digest[:24]}"


def tool_calls(request: ChatRequest, seed: int) -> tuple[ToolCall, ...]:
    """The calls of rule 1 with the arguments of rule 2 (compact JSON text)."""
    user = last_user(request)
    given = named_values(user.text) if user is not None else {}
    calls = []
    for index, tool in enumerate(chosen_tools(request)):
        schema = tool.parameters if tool.parameters is not None else {"type": "object"}
        rng = random.Random(f"{seed}:{index}:{tool.name}")
        arguments = generate(schema, rng, given)
        calls.append(ToolCall(call_id(seed, index, tool.name), tool.name, dumps_str(arguments)))
    return tuple(calls)


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= RESULT_CHARS else text[:RESULT_CHARS] + "…"


def results_text(request: ChatRequest) -> str:
    """The reply after tool results (rule 3): each trailing `tool` message, by the name of
    the call it answers (else its `name`, else its `tool_call_id`)."""
    names = {call.id: call.name for message in request.messages for call in message.tool_calls}
    results: list[Message] = []
    for message in reversed(request.messages):
        if message.role != "tool":
            break
        results.append(message)
    parts = []
    for message in reversed(results):
        call = message.tool_call_id or ""
        name = names.get(call) or message.name or call or "tool"
        parts.append(f"{name} returned {_one_line(message.text)}")
    return "Tool results: " + "; ".join(parts) + "."


__all__ = [
    "RESULT_CHARS",
    "after_tool_results",
    "call_id",
    "chosen_tools",
    "last_user",
    "mentions",
    "named_values",
    "results_text",
    "tool_calls",
]
