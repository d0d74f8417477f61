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
from collections.abc import Iterable, Iterator, Mapping

from aigateway_sdk._json import dumps_str
from aigateway_sdk.local.upstreams.base import (
    ChatRequest,
    Message,
    Tool,
    ToolCall,
    UnservableRequest,
)
from aigateway_sdk.local.upstreams.schema_value import Budget, CannotGenerate, generate

RESULT_CHARS = 200
"""The most characters of one tool result quoted in the reply after tool results."""

_NAME = re.compile(r"(?<![\w-])([A-Za-z_][\w-]*)\s*[:=]\s*")
"""A `name=` / `name:` (a name starts where no letter, digit, `_` or `-` comes before)."""
_RUN = re.compile(r"[^\s,]+")
"""An unquoted value: a run of characters other than spaces and commas."""
_WORD_RUN = re.compile(r"[A-Za-z0-9_-]+", re.IGNORECASE)
_TRAILING = ".!?;:)"
_MAX_NAME = 64


class NamedValues(Mapping[str, str]):
    """The `name=value` pairs of a text (see `named_values`), each name's first value. Values
    are cut from the text only when asked for, so a text of many overlapping pairs costs no
    more than its length."""

    __slots__ = ("_folded", "_spans", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._spans: dict[str, tuple[int, int]] = {}
        self._folded: dict[str, tuple[int, int]] = {}

    def add(self, name: str, start: int, end: int) -> None:
        self._spans.setdefault(name, (start, end))
        self._folded.setdefault(name.lower(), (start, end))

    def __getitem__(self, name: str) -> str:
        start, end = self._spans[name]
        return self._text[start:end]

    def __iter__(self) -> Iterator[str]:
        return iter(self._spans)

    def __len__(self) -> int:
        return len(self._spans)

    def any_case(self, name: str) -> str | None:
        """The first value given under `name` in any case."""
        span = self._folded.get(name.lower())
        return None if span is None else self._text[span[0] : span[1]]


def last_user(request: ChatRequest) -> Message | None:
    """The last `user` message, else the last message (None when there is none)."""
    return next(
        (m for m in reversed(request.messages) if m.role == "user"),
        request.messages[-1] if request.messages else None,
    )


def _quoted(text: str, start: int) -> tuple[int, int] | None:
    """The inside of a quoted value at `start` (`"…"` or `'…'`), when it is closed."""
    quote = text[start]
    if quote not in "\"'":
        return None
    end = text.find(quote, start + 1)
    return (start + 1, end) if end >= 0 else None


def named_values(text: str) -> NamedValues:
    """The `name=value` / `name: value` pairs of a text, the first one of each name. A value
    is a quoted string (`"…"` or `'…'`, without the quotes) or a run of characters other than
    spaces and commas, without trailing `.!?;:)`. Pairs may overlap (`topic: name=India` has
    both). Linear in the text's length."""
    found = NamedValues(text)
    run_end = value_end = -1  # the unquoted run the last value was in, and its end unstripped
    for match in _NAME.finditer(text):
        start = match.end()
        if start >= len(text):
            break
        span = _quoted(text, start)
        if span is None:
            if start >= run_end:
                run = _RUN.match(text, start)
                if run is None:
                    continue
                run_end = value_end = run.end()
                while value_end > run.start() and text[value_end - 1] in _TRAILING:
                    value_end -= 1
            if value_end <= start:
                continue
            span = (start, value_end)
        found.add(match.group(1), *span)
    return found


def mentions(text: str, name: str) -> bool:
    """Whether `name` occurs in `text` as a whole word, in any case."""
    return bool(_mentioned(text, (name,)))


def _mentioned(text: str, names: Iterable[str]) -> set[str]:
    """Which of `names` occur in `text` as whole words, in any case (casefolded): one pass
    over the text, whatever the number of names."""
    wanted = {name.casefold() for name in names}
    runs = (m.group() for m in _WORD_RUN.finditer(text))
    return {word for word in (r.casefold() for r in runs if len(r) <= _MAX_NAME) if word in wanted}


def after_tool_results(request: ChatRequest) -> bool:
    return bool(request.messages) and request.messages[-1].role == "tool"


def _named(request: ChatRequest) -> tuple[Tool, ...]:
    """The tools the last user message names (only the first with `parallel_tool_calls:
    false`)."""
    user = last_user(request)
    text = user.text if user is not None else ""
    found = _mentioned(text, (tool.name for tool in request.tools))
    named = tuple(tool for tool in request.tools if tool.name.casefold() in found)
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


def tool_calls(
    request: ChatRequest, seed: int, budget: Budget | None = None
) -> tuple[ToolCall, ...]:
    """The calls of rule 1 with the arguments of rule 2 (compact JSON text), within the
    request's `budget`; `UnservableRequest` naming the tool whose schema asks for more."""
    user = last_user(request)
    given = named_values(user.text) if user is not None else {}
    budget = budget if budget is not None else Budget()
    position = {tool.name: index for index, tool in enumerate(request.tools)}
    calls = []
    for index, tool in enumerate(chosen_tools(request)):
        schema = tool.parameters if tool.parameters is not None else {"type": "object"}
        rng = random.Random(f"{seed}:{index}:{tool.name}")
        try:
            arguments = generate(schema, rng, given, budget)
        except CannotGenerate as error:
            raise UnservableRequest(
                f"tools[{position[tool.name]}]",
                f"(tool {tool.name!r}): the built-in model cannot generate arguments for its "
                f"parameters: {error}",
            ) from None
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
    "NamedValues",
    "after_tool_results",
    "call_id",
    "chosen_tools",
    "last_user",
    "mentions",
    "named_values",
    "results_text",
    "tool_calls",
]
