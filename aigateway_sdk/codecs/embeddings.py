"""Embedding codecs, one per upstream API: the path, the credential, the request body, how many
texts one request may carry, and how the reply is read. A reply of the wrong shape (or with a
vector count other than the texts sent) raises `ValueError`/`KeyError`/`TypeError`, which the
model turns into `MalformedOutput`.

Workers AI (`POST {gateway}/workers-ai/{model}`): request `{"text": [...]}`, reply
`{"result": {"shape": [n, d], "data": [[...], ...], "pooling"}, "success": true}`; at most 100
texts per request (the bge models' input schema). OpenAI (`POST {gateway}/compat/embeddings`,
`provider/model` ids): request `{"model", "input": [...], "encoding_format": "float"}`, reply
`{"object": "list", "data": [{"object": "embedding", "index", "embedding"}], "model",
"usage": {"prompt_tokens", "total_tokens"}}`; at most 2048 inputs per request.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal, Protocol

import attrs

from aigateway_sdk import _json
from aigateway_sdk.codecs.base import WORKERS_AI, int_or_zero, workers_ai_key
from aigateway_sdk.endpoint import Credentials

EmbeddingRoute = Literal["workers-ai", "compat"]
"""`workers-ai`: Workers AI's native API (`@cf/...` ids); `compat`: OpenAI's `/embeddings` on
the gateway's `compat` endpoint (`provider/model` ids)."""

EMBEDDING_ROUTES: tuple[EmbeddingRoute, ...] = ("workers-ai", "compat")

WORKERS_AI_MAX_TEXTS = 100
"""Texts per request to a Workers AI embedding model (`text`'s `maxItems` in the schema of
`@cf/baai/bge-*`)."""
OPENAI_MAX_INPUTS = 2048
"""Inputs per request to OpenAI's `/embeddings` (its API reference)."""

Vectors = tuple[tuple[float, ...], ...]


@attrs.frozen(slots=True)
class DecodedEmbeddings:
    """One reply: a vector per text sent, in order, and the input tokens it reports (0 when
    the reply does not say)."""

    vectors: Vectors
    input_tokens: int = 0
    model: str | None = None


def _vector(raw: Any, where: str) -> tuple[float, ...]:
    if not isinstance(raw, list) or not raw:
        raise TypeError(f"{where} is not a list of numbers")
    for value in raw:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"{where} is not a list of numbers")
        if not math.isfinite(value):
            raise ValueError(f"{where} holds a non-finite number")
    return tuple(float(value) for value in raw)


def _checked(vectors: Vectors, count: int) -> Vectors:
    if len(vectors) != count:
        raise ValueError(f"{len(vectors)} vectors for {count} texts")
    if len({len(v) for v in vectors}) > 1:
        raise ValueError("vectors of different lengths")
    return vectors


class EmbeddingCodec(Protocol):
    def path(self, model: str) -> str: ...

    def provider_key(self, model: str, credentials: Credentials) -> str | None: ...

    def max_batch(self, model: str) -> int:
        """How many texts one request may carry."""
        ...

    def encode(self, model: str, texts: Sequence[str]) -> bytes: ...

    def decode(self, body: Any, count: int) -> DecodedEmbeddings:
        """The reply to a request of `count` texts."""
        ...


class WorkersAiEmbeddingCodec:
    __slots__ = ()

    def path(self, model: str) -> str:
        return f"workers-ai/{model}"

    def provider_key(self, model: str, credentials: Credentials) -> str | None:
        return workers_ai_key(credentials)

    def max_batch(self, model: str) -> int:
        return WORKERS_AI_MAX_TEXTS

    def encode(self, model: str, texts: Sequence[str]) -> bytes:
        return _json.dumps({"text": list(texts)})

    def decode(self, body: Any, count: int) -> DecodedEmbeddings:
        result = body["result"]
        data = result["data"]
        if not isinstance(data, list):
            raise TypeError("result.data is not a list")
        vectors = tuple(_vector(row, f"result.data[{i}]") for i, row in enumerate(data))
        shape = result.get("shape")
        if shape is not None and shape != [len(vectors), len(vectors[0]) if vectors else 0]:
            raise ValueError(f"result.shape {shape!r} does not match result.data")
        usage = result.get("usage")
        tokens = int_or_zero(usage.get("prompt_tokens")) if isinstance(usage, dict) else 0
        return DecodedEmbeddings(_checked(vectors, count), tokens)


class OpenAIEmbeddingCodec:
    __slots__ = ()

    def path(self, model: str) -> str:
        return "compat/embeddings"

    def provider_key(self, model: str, credentials: Credentials) -> str | None:
        provider = model.partition("/")[0]
        if provider == WORKERS_AI:
            return workers_ai_key(credentials)
        return credentials.provider_key(provider)

    def max_batch(self, model: str) -> int:
        if model.partition("/")[0] == WORKERS_AI:
            return WORKERS_AI_MAX_TEXTS
        return OPENAI_MAX_INPUTS

    def encode(self, model: str, texts: Sequence[str]) -> bytes:
        return _json.dumps({"model": model, "input": list(texts), "encoding_format": "float"})

    def decode(self, body: Any, count: int) -> DecodedEmbeddings:
        data = body["data"]
        if not isinstance(data, list):
            raise TypeError("data is not a list")
        rows: dict[int, tuple[float, ...]] = {}
        for position, item in enumerate(data):
            if not isinstance(item, dict):
                raise TypeError(f"data[{position}] is not an object")
            index = item.get("index", position)
            if isinstance(index, bool) or not isinstance(index, int) or index in rows:
                raise ValueError(f"data[{position}].index is missing or repeated")
            rows[index] = _vector(item["embedding"], f"data[{position}].embedding")
        if sorted(rows) != list(range(len(rows))):
            raise ValueError("data indexes are not 0..n-1")
        vectors = tuple(rows[i] for i in range(len(rows)))
        usage = body.get("usage")
        tokens = int_or_zero(usage.get("prompt_tokens")) if isinstance(usage, dict) else 0
        model = body.get("model")
        return DecodedEmbeddings(
            _checked(vectors, count), tokens, model if isinstance(model, str) else None
        )


def embedding_codec_for(route: EmbeddingRoute) -> EmbeddingCodec:
    if route == "workers-ai":
        return WorkersAiEmbeddingCodec()
    return OpenAIEmbeddingCodec()


__all__ = [
    "EMBEDDING_ROUTES",
    "OPENAI_MAX_INPUTS",
    "WORKERS_AI_MAX_TEXTS",
    "DecodedEmbeddings",
    "EmbeddingCodec",
    "EmbeddingRoute",
    "OpenAIEmbeddingCodec",
    "WorkersAiEmbeddingCodec",
    "embedding_codec_for",
]
