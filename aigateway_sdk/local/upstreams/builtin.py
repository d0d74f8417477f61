"""A deterministic offline model: same request, same reply, with real token counts.

Tokens are words and single punctuation marks (`\\w+|[^\\w\\s]`). The prompt's tokens are the
tokens of every message's text, of the tool calls in the messages (name and arguments), of
the tools offered (name, description and the JSON of `parameters`) and of a `json_schema`
response format's schema (its JSON), plus `IMAGE_TOKENS` (85) per image part.

Which reply, in this order (the tool rule is `toolrule`'s):
1. Tool calls, when the request has tools, `tool_choice` is not `none` and the last message
   is not a tool result: the tool `tool_choice` names; else every tool whose name occurs in
   the last user message (any case, as a whole word), in the order of `tools` (the first of
   them only with `parallel_tool_calls: false`); else, with `tool_choice: "required"`, the
   first tool; with none of these (`auto`), no call. `finish_reason` "tool_calls", no text.
2. Their arguments: a value of the tool's `parameters` schema (`schema_value`) from a PRNG
   seeded with the request's seed, the call's position and the tool's name; a top-level
   property the last user message gives as `name=value` or `name: value` (a quoted string,
   or a run of characters other than spaces and commas without trailing `.!?;:)`; names in
   any case) takes that value, converted to the property's type, when it is valid for the
   property. The arguments are compact JSON; call ids are `call_` + 24 hex digits derived
   from the seed. Tool calls are never cut by `max_tokens` or `stop`.
3. With `response_format` `json_schema`: a value of its schema, generated the same way (the
   PRNG seeded with the request's seed; `name=value` pairs of the last user message used);
   `json_object` (or `json_schema` without a schema): `{"response": "<the text reply>"}`,
   the text reply being the one of 4 or 5 uncut. Compact JSON; `stop` does not apply and
   only an explicit `max_tokens` cuts it (`finish_reason` "length"; the default does not).
4. After tool results (the last message has role `tool`): `Tool results: <name> returned
   <content>.`, one `<name> returned <content>` per trailing tool message joined by `; `,
   the name being the one of the call it answers, each content on one line and cut to 200
   characters. `finish_reason` "stop".
5. Otherwise text: it starts by quoting the start of the last user message's text (so
   different conversations get different replies), followed by ` [N image(s)]` when that
   message has image parts, then adds 8-40 words picked by a PRNG seeded with
   sha256(model, messages, parameters, tools, response format), so the same `seed` (like
   every other parameter) gives the same reply and another `seed` another one.

`stop` is not part of that hash: a text reply (4 or 5) ends just before the first occurrence
of any stop sequence in the uncut text (the sequence itself left out, `finish_reason`
"stop"), so a reply with `stop` is a prefix of the same reply without. It stops at
`max_tokens` (`finish_reason` "length") when that comes first (default 256). Streams send one
token per event: text deltas, or per tool call one piece with its id and name then its
arguments one token per piece (a token a stop sequence cuts is sent cut).

Embeddings: a model id containing `bge` or `embed` (any case) is an embedding model. Each text
gets a unit-length vector drawn from a PRNG seeded with sha256(model, text), so the same text
always gets the same vector; its dimension is fixed per model id (`embedding_dimension`).
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections.abc import AsyncIterator

import anyio
import attrs

from aigateway_sdk._json import dumps, dumps_str
from aigateway_sdk.local.upstreams import toolrule
from aigateway_sdk.local.upstreams.base import (
    ChatRequest,
    Completion,
    Delta,
    Embeddings,
    EmbedRequest,
    Finish,
    Message,
    StreamEvent,
    ToolCall,
    ToolCallDelta,
    UnservableRequest,
)
from aigateway_sdk.local.upstreams.schema_value import Budget, CannotGenerate, generate
from aigateway_sdk.local.upstreams.words import WORDS

TOKEN_PATTERN = re.compile(r"\w+|[^\w\s]")
_PIECE = re.compile(r"\s*(?:\w+|[^\w\s])")
ECHO_TOKENS = 12
DEFAULT_MAX_TOKENS = 256
IMAGE_TOKENS = 85
"""Prompt tokens an image part counts (OpenAI's base cost of an image at low detail)."""


EMBEDDING_DIMENSIONS = (
    ("bge-small", 384),
    ("bge-base", 768),
    ("bge-large", 1024),
    ("bge-m3", 1024),
    ("text-embedding-3-small", 1536),
    ("text-embedding-3-large", 3072),
    ("text-embedding-ada-002", 1536),
)
"""The vector length of a model id containing the name (first match); else 768."""
DEFAULT_EMBEDDING_DIMENSION = 768


def is_embedding_model(model: str) -> bool:
    """Whether the built-in model answers embeddings for `model` (`bge` or `embed` in it)."""
    lowered = model.lower()
    return "bge" in lowered or "embed" in lowered


def embedding_dimension(model: str) -> int:
    lowered = model.lower()
    return next(
        (size for name, size in EMBEDDING_DIMENSIONS if name in lowered),
        DEFAULT_EMBEDDING_DIMENSION,
    )


def embedding_vector(model: str, text: str, dimension: int) -> tuple[float, ...]:
    """The unit-length vector of `text` under `model`: the same inputs, the same vector."""
    digest = hashlib.sha256(model.encode() + b"\x00" + text.encode()).digest()
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    values = [rng.gauss(0.0, 1.0) for _ in range(dimension)]
    norm = math.sqrt(math.fsum(v * v for v in values)) or 1.0
    return tuple(v / norm for v in values)


def tokenize(text: str) -> list[str]:
    return TOKEN_PATTERN.findall(text)


def count_tokens(text: str) -> int:
    return sum(1 for _ in TOKEN_PATTERN.finditer(text))


def _is_word(token: str) -> bool:
    return token[0].isalnum() or token[0] == "_"


def _echo_pieces(tokens: list[str]) -> list[str]:
    """Tokens with the spacing that makes their concatenation read as text."""
    return [
        token if index == 0 or not _is_word(token) else " " + token
        for index, token in enumerate(tokens)
    ]


def split_pieces(text: str) -> list[str]:
    """`text` cut into pieces of one token each (spaces kept with the token after them), so
    the pieces join back into `text`."""
    pieces = _PIECE.findall(text)
    rest = text[sum(len(p) for p in pieces) :]
    if rest:
        if pieces:
            pieces[-1] += rest
        else:
            pieces.append(rest)
    return pieces


def _extras(request: ChatRequest) -> list[object]:
    """What a request has beyond plain text messages (empty for a plain one, so plain
    requests keep the seed they always had)."""
    extras: list[object] = []
    for index, message in enumerate(request.messages):
        images = [image.url for image in message.images]
        calls = [[c.id, c.name, c.arguments] for c in message.tool_calls]
        if images or calls or message.tool_call_id is not None:
            extras.append([index, images, calls, message.tool_call_id])
    if request.tools:
        extras.append([[t.name, t.description, t.parameters, t.strict] for t in request.tools])
    choice = request.tool_choice
    if choice is not None or request.parallel_tool_calls is not None:
        extras.append([choice and [choice.mode, choice.name], request.parallel_tool_calls])
    form = request.response_format
    if form is not None:
        extras.append([form.type, form.schema, form.name])
    return extras


def seed_of(request: ChatRequest) -> int:
    digest = hashlib.sha256()
    digest.update(request.model.encode())
    for message in request.messages:
        digest.update(b"\x00" + message.role.encode() + b"\x00" + message.text.encode())
    digest.update(dumps([list(p) for p in request.params if p[0] != "stop"]))
    digest.update(str(request.max_tokens).encode())
    extras = _extras(request)
    if extras:
        digest.update(dumps(extras))
    return int.from_bytes(digest.digest()[:8], "big")


def _image_pieces(message: Message | None) -> list[str]:
    """` [N image(s)]` as pieces, when the message has image parts."""
    count = len(message.images) if message is not None else 0
    if not count:
        return []
    return [" [", str(count), " image" if count == 1 else " images", "]"]


def reply_pieces(request: ChatRequest) -> list[str]:
    """The full (uncut) text reply as pieces, one token each."""
    if toolrule.after_tool_results(request):
        return split_pieces(toolrule.results_text(request))
    user = toolrule.last_user(request)
    echo = tokenize(user.text if user is not None else "")[:ECHO_TOKENS]
    rng = random.Random(seed_of(request))
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 40))]
    words[0] = words[0].capitalize()
    return [
        "You",
        " said",
        ":",
        ' "',
        *_echo_pieces(echo),
        '"',
        *_image_pieces(user),
        ".",
        *(" " + word for word in words),
        ".",
    ]


def json_text(request: ChatRequest, budget: Budget | None = None) -> str:
    """The JSON-mode reply (rule 3): a value of the requested schema, or `{"response": ...}`
    holding the text reply. `UnservableRequest` when the schema asks for more than `budget`
    (the request's) allows."""
    form = request.response_format
    if form is None or form.schema is None:
        return dumps_str({"response": "".join(reply_pieces(request))})
    user = toolrule.last_user(request)
    given = toolrule.named_values(user.text) if user is not None else {}
    rng = random.Random(seed_of(request))
    try:
        return dumps_str(generate(form.schema, rng, given, budget))
    except CannotGenerate as error:
        raise UnservableRequest(
            "response_format.json_schema",
            f"the built-in model cannot generate a value of this schema: {error}",
        ) from None


def cut_at_stop(pieces: list[str], stops: list[str]) -> list[str]:
    """`pieces` up to (not including) the first occurrence of any of `stops` in their text."""
    text = "".join(pieces)
    found = [index for index in (text.find(s) for s in stops if s) if index >= 0]
    if not found:
        return pieces
    end = min(found)
    kept: list[str] = []
    length = 0
    for piece in pieces:
        if length + len(piece) > end:
            if end > length:
                kept.append(piece[: end - length])
            break
        kept.append(piece)
        length += len(piece)
    return kept


def _message_tokens(message: Message) -> int:
    calls = sum(count_tokens(c.name) + count_tokens(c.arguments) for c in message.tool_calls)
    return count_tokens(message.text) + calls + IMAGE_TOKENS * len(message.images)


def prompt_tokens(request: ChatRequest) -> int:
    """The prompt's tokens: messages (text, tool calls, images), tools, response schema."""
    total = sum(_message_tokens(m) for m in request.messages)
    for tool in request.tools:
        total += count_tokens(tool.name) + count_tokens(tool.description or "")
        if tool.parameters is not None:
            total += count_tokens(dumps_str(tool.parameters))
    form = request.response_format
    if form is not None and form.schema is not None:
        total += count_tokens(dumps_str(form.schema))
    return total


def call_tokens(calls: tuple[ToolCall, ...]) -> int:
    return sum(count_tokens(call.name) + count_tokens(call.arguments) for call in calls)


@attrs.frozen(slots=True)
class Plan:
    """One reply worked out: text pieces (one token each) or tool calls, and the counts."""

    pieces: list[str]
    tool_calls: tuple[ToolCall, ...]
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str


def _text_plan(request: ChatRequest) -> tuple[list[str], str]:
    pieces = reply_pieces(request)
    stop = next((value for name, value in request.params if name == "stop"), None)
    if stop:
        pieces = cut_at_stop(pieces, [stop] if isinstance(stop, str) else stop)
    limit = DEFAULT_MAX_TOKENS if request.max_tokens is None else request.max_tokens
    if len(pieces) > limit:
        return pieces[:limit], "length"
    return pieces, "stop"


def _json_plan(request: ChatRequest, budget: Budget) -> tuple[list[str], str]:
    pieces = split_pieces(json_text(request, budget))
    limit = request.max_tokens
    if limit is not None and len(pieces) > limit:
        return pieces[:limit], "length"
    return pieces, "stop"


def plan(request: ChatRequest) -> Plan:
    """The reply to `request` (see the module docstring for the order of the rules)."""
    prompt = prompt_tokens(request)
    budget = Budget()  # one for the request: its tool calls and its JSON reply
    calls = toolrule.tool_calls(request, seed_of(request), budget) if request.tools else ()
    if calls:
        return Plan([], calls, prompt, call_tokens(calls), "tool_calls")
    pieces, reason = _json_plan(request, budget) if request.json_mode else _text_plan(request)
    return Plan(pieces, (), prompt, len(pieces), reason)


def _call_deltas(calls: tuple[ToolCall, ...]) -> list[ToolCallDelta]:
    """Per call: its id and name, then its arguments one token per piece."""
    deltas: list[ToolCallDelta] = []
    for index, call in enumerate(calls):
        deltas.append(ToolCallDelta(index, call.id, call.name, ""))
        deltas.extend(ToolCallDelta(index, arguments=p) for p in split_pieces(call.arguments))
    return deltas


class BuiltinModel:
    """The offline model. `latency_ms` passes before the first token, `token_latency_ms`
    between streamed tokens (both for benchmarks; zero by default)."""

    def __init__(self, *, latency_ms: float = 0.0, token_latency_ms: float = 0.0) -> None:
        self.latency = latency_ms / 1000
        self.token_latency = token_latency_ms / 1000

    async def complete(self, request: ChatRequest) -> Completion:
        reply = plan(request)
        if self.latency:
            await anyio.sleep(self.latency)
        return Completion(
            "".join(reply.pieces),
            reply.prompt_tokens,
            reply.completion_tokens,
            reply.finish_reason,
            reply.tool_calls,
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        reply = plan(request)
        if self.latency:
            await anyio.sleep(self.latency)
        events: list[Delta | ToolCallDelta] = [Delta(piece) for piece in reply.pieces]
        events += _call_deltas(reply.tool_calls)
        for index, event in enumerate(events):
            if index and self.token_latency:
                await anyio.sleep(self.token_latency)
            yield event
        yield Finish(reply.prompt_tokens, reply.completion_tokens, reply.finish_reason)

    async def embed(self, request: EmbedRequest) -> Embeddings:
        dimension = request.dimensions or embedding_dimension(request.model)
        if self.latency:
            await anyio.sleep(self.latency)
        vectors = tuple(embedding_vector(request.model, t, dimension) for t in request.texts)
        return Embeddings(vectors, sum(count_tokens(t) for t in request.texts))

    async def aclose(self) -> None:
        return None


__all__ = [
    "IMAGE_TOKENS",
    "BuiltinModel",
    "Plan",
    "count_tokens",
    "embedding_dimension",
    "embedding_vector",
    "is_embedding_model",
    "plan",
    "prompt_tokens",
    "split_pieces",
    "tokenize",
]
