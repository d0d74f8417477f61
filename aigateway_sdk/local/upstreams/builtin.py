"""A deterministic offline model: same request, same reply, with real token counts.

Tokens are words and single punctuation marks (`\\w+|[^\\w\\s]`). The prompt's tokens are the
tokens of every message's content. The reply starts by quoting the start of the last user
message (so different conversations get different replies), then adds 8-40 words picked by a
PRNG seeded with sha256(model, messages, parameters), so the same `seed` (like every other
parameter) gives the same reply and another `seed` another one. `stop` is not part of that
hash: the reply ends just before the first occurrence of any stop sequence in the uncut text
(the sequence itself left out, `finish_reason` "stop"), so a reply with `stop` is a prefix of
the same reply without. It stops at `max_tokens` (`finish_reason` "length") when that comes
first, and streams one token per event (a token a stop sequence cuts is sent cut).

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

from aigateway_sdk._json import dumps
from aigateway_sdk.local.upstreams.base import (
    ChatRequest,
    Completion,
    Delta,
    Embeddings,
    EmbedRequest,
    Finish,
    StreamEvent,
)

TOKEN_PATTERN = re.compile(r"\w+|[^\w\s]")
ECHO_TOKENS = 12
DEFAULT_MAX_TOKENS = 256

_WORDS = (
    "gateway",
    "cache",
    "model",
    "token",
    "stream",
    "request",
    "reply",
    "edge",
    "latency",
    "cloud",
    "worker",
    "prompt",
    "answer",
    "signal",
    "river",
    "mountain",
    "lantern",
    "orbit",
    "garden",
    "harbor",
    "quiet",
    "bright",
    "swift",
    "gentle",
    "careful",
    "simple",
    "steady",
    "local",
    "global",
    "vector",
    "window",
    "moment",
    "pattern",
    "reason",
    "question",
    "system",
    "network",
    "packet",
    "server",
    "client",
    "python",
    "async",
    "value",
    "field",
    "record",
    "detail",
)


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


def seed_of(request: ChatRequest) -> int:
    digest = hashlib.sha256()
    digest.update(request.model.encode())
    for message in request.messages:
        digest.update(b"\x00" + message.role.encode() + b"\x00" + message.content.encode())
    digest.update(dumps([list(p) for p in request.params if p[0] != "stop"]))
    digest.update(str(request.max_tokens).encode())
    return int.from_bytes(digest.digest()[:8], "big")


def reply_pieces(request: ChatRequest) -> list[str]:
    """The full (uncut) reply as pieces, one token each."""
    last_user = next(
        (m.content for m in reversed(request.messages) if m.role == "user"),
        request.messages[-1].content if request.messages else "",
    )
    echo = tokenize(last_user)[:ECHO_TOKENS]
    rng = random.Random(seed_of(request))
    words = [rng.choice(_WORDS) for _ in range(rng.randint(8, 40))]
    words[0] = words[0].capitalize()
    return [
        "You",
        " said",
        ":",
        ' "',
        *_echo_pieces(echo),
        '"',
        ".",
        *(" " + word for word in words),
        ".",
    ]


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


def prompt_tokens(request: ChatRequest) -> int:
    return sum(count_tokens(m.content) for m in request.messages)


class BuiltinModel:
    """The offline model. `latency_ms` passes before the first token, `token_latency_ms`
    between streamed tokens (both for benchmarks; zero by default)."""

    def __init__(self, *, latency_ms: float = 0.0, token_latency_ms: float = 0.0) -> None:
        self.latency = latency_ms / 1000
        self.token_latency = token_latency_ms / 1000

    def _plan(self, request: ChatRequest) -> tuple[list[str], int, str]:
        pieces = reply_pieces(request)
        stop = next((value for name, value in request.params if name == "stop"), None)
        if stop:
            pieces = cut_at_stop(pieces, [stop] if isinstance(stop, str) else stop)
        limit = DEFAULT_MAX_TOKENS if request.max_tokens is None else request.max_tokens
        reason = "stop"
        if len(pieces) > limit:
            pieces, reason = pieces[:limit], "length"
        return pieces, prompt_tokens(request), reason

    async def complete(self, request: ChatRequest) -> Completion:
        pieces, prompt, reason = self._plan(request)
        if self.latency:
            await anyio.sleep(self.latency)
        return Completion("".join(pieces), prompt, len(pieces), reason)

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        pieces, prompt, reason = self._plan(request)
        if self.latency:
            await anyio.sleep(self.latency)
        for index, piece in enumerate(pieces):
            if index and self.token_latency:
                await anyio.sleep(self.token_latency)
            yield Delta(piece)
        yield Finish(prompt, len(pieces), reason)

    async def embed(self, request: EmbedRequest) -> Embeddings:
        dimension = request.dimensions or embedding_dimension(request.model)
        if self.latency:
            await anyio.sleep(self.latency)
        vectors = tuple(embedding_vector(request.model, t, dimension) for t in request.texts)
        return Embeddings(vectors, sum(count_tokens(t) for t in request.texts))

    async def aclose(self) -> None:
        return None


__all__ = [
    "BuiltinModel",
    "count_tokens",
    "embedding_dimension",
    "embedding_vector",
    "is_embedding_model",
    "tokenize",
]
