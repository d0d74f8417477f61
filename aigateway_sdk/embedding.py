"""The `EmbeddingModel` service and its gateway implementation.

`await em.embed(texts)` returns one vector per text, in order. Texts go out in batches of at
most the provider's limit per request (Workers AI's embedding models take 100 texts, OpenAI's
`/embeddings` 2048 inputs; `batch_size=` lowers it), one request after another within one
`total_timeout`; the vectors are concatenated in order and the usage summed. An empty list
returns an empty response without a request; an empty (or non-string) text is refused before
anything is sent (`AiError(InvalidRequest)`, like an empty prompt). A reply of the wrong shape,
or with a vector count other than the texts sent, is `MalformedOutput`.

Like `GatewayLanguageModel`, the model depends on an `Endpoint`, never on the binding.
"""

from __future__ import annotations

import functools
from collections.abc import Coroutine, Sequence
from typing import Any, Protocol, runtime_checkable

import attrs

from aigateway_sdk.codecs.embeddings import (
    EMBEDDING_ROUTES,
    DecodedEmbeddings,
    EmbeddingRoute,
    Vectors,
    embedding_codec_for,
)
from aigateway_sdk.endpoint import Endpoint
from aigateway_sdk.errors import AiError, InvalidRequest
from aigateway_sdk.observe import hooks
from aigateway_sdk.options import GatewayOptions
from aigateway_sdk.response import CacheStatus, InputTokens, ReplyHead, Usage
from aigateway_sdk.result import AiCall
from aigateway_sdk.streaming import Deadline, deadline_at
from aigateway_sdk.streaming.sse_parts import DECODE_ERRORS
from aigateway_sdk.transport.failures import malformed
from aigateway_sdk.transport.http import request_json
from aigateway_sdk.transport.retry import RetryPolicy
from aigateway_sdk.validation import FieldError, ValidationError

EmbedInput = str | Sequence[str]
"""One text, or a sequence of texts."""


@attrs.frozen(slots=True, kw_only=True)
class EmbedResponse:
    """The vectors of `embed(texts)`, one per text in order, and what the calls reported.

    `usage.input_tokens` sums every request's (0 where a reply does not say). `cache_status`
    and `log_id` are the last request's; `log_ids` lists every request's, in order."""

    vectors: Vectors
    usage: Usage = attrs.field(factory=Usage)
    model: str
    cache_status: CacheStatus | None = None
    log_id: str | None = None
    log_ids: tuple[str, ...] = ()

    @property
    def dimensions(self) -> int | None:
        """The vectors' length (None when there are none)."""
        return len(self.vectors[0]) if self.vectors else None


@runtime_checkable
class EmbeddingModel(Protocol):
    """Embed texts. Implemented by the gateway model and by `testing.FakeEmbeddingModel`."""

    @property
    def model_id(self) -> str: ...

    def embed(
        self, texts: EmbedInput, *, options: GatewayOptions | None = None
    ) -> AiCall[EmbedResponse]: ...


def to_texts(texts: EmbedInput) -> tuple[str, ...]:
    """The texts as a tuple; `AiError(InvalidRequest)` naming the first bad one."""
    items = (texts,) if isinstance(texts, str) else tuple(texts)
    for index, text in enumerate(items):
        if not isinstance(text, str):
            problem = f"text {index} is a {type(text).__name__}, not a string"
        elif not text:
            problem = f"text {index} is empty"
        else:
            continue
        raise AiError(InvalidRequest(message=f"invalid texts: {problem}"))
    return items


def _model_problem(model: object, route: object, batch_size: object) -> FieldError | None:
    if not isinstance(model, str) or not model or any(c.isspace() for c in model):
        return FieldError(("model",), "must be a model id such as '@cf/baai/bge-base-en-v1.5'")
    if route not in EMBEDDING_ROUTES:
        return FieldError(("route",), f"must be one of {', '.join(EMBEDDING_ROUTES)}")
    if route == "compat":
        provider, _, name = model.partition("/")
        if not provider or not name or provider.startswith("@"):
            return FieldError(("model",), f"{model!r} has no provider ('openai/...')")
    if batch_size is not None and (
        isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
    ):
        return FieldError(("batch_size",), "must be an integer >= 1")
    return None


class GatewayEmbeddingModel:
    """An `EmbeddingModel` that calls one model through a gateway `Endpoint`."""

    __slots__ = (
        "_codec",
        "_endpoint",
        "_headers",
        "_provider_key",
        "_retry",
        "_total_timeout",
        "_url",
        "batch_size",
        "model",
        "options",
        "route",
    )

    def __init__(
        self,
        endpoint: Endpoint,
        model: str,
        *,
        options: GatewayOptions | None = None,
        route: EmbeddingRoute | None = None,
        batch_size: int | None = None,
        retry: RetryPolicy | None = None,
        total_timeout: float | None = None,
    ) -> None:
        default: EmbeddingRoute = (
            "workers-ai" if isinstance(model, str) and model.startswith("@") else "compat"
        )
        chosen = route or default
        problem = _model_problem(model, chosen, batch_size)
        if problem is not None:
            raise ValidationError([problem], what="embedding model")
        self._endpoint = endpoint
        self.model = model
        self.route: EmbeddingRoute = chosen
        self.options = endpoint.options.merged(options)
        codec = self._codec = embedding_codec_for(chosen)
        limit = codec.max_batch(model)
        self.batch_size = min(batch_size, limit) if batch_size is not None else limit
        self._url = endpoint.url_for(codec.path(model))
        self._provider_key = codec.provider_key(model, endpoint.credentials)
        self._headers = endpoint.headers(self._provider_key, self.options)
        self._retry = retry or endpoint.retry
        self._total_timeout = total_timeout if total_timeout is not None else endpoint.total_timeout

    @property
    def model_id(self) -> str:
        return self.model

    def __repr__(self) -> str:
        return f"GatewayEmbeddingModel(model={self.model!r}, route={self.route!r})"

    def embed(
        self, texts: EmbedInput, *, options: GatewayOptions | None = None
    ) -> AiCall[EmbedResponse]:
        return AiCall(functools.partial(self._traced, texts, options))

    def _traced(
        self, texts: EmbedInput, options: GatewayOptions | None
    ) -> Coroutine[Any, Any, EmbedResponse]:
        """`_embed`, inside a span when tracing is on (`aigateway_sdk.observe`)."""
        call = self._embed(texts, options)
        tracing = hooks.tracing
        return call if tracing is None else tracing.embed(self, call)

    async def _embed(self, texts: EmbedInput, options: GatewayOptions | None) -> EmbedResponse:
        items = to_texts(texts)
        if not items:
            return EmbedResponse(vectors=(), model=self.model)
        startup = self._endpoint.startup
        if startup is not None and startup.needs_start:
            await startup.ensure_started()
        headers = self._headers
        if options is not None:
            headers = self._endpoint.headers(self._provider_key, self.options.merged(options))
        deadline = deadline_at(Deadline.after(self._total_timeout))
        vectors: list[tuple[float, ...]] = []
        tokens = 0
        heads: list[ReplyHead] = []
        model: str | None = None
        for start in range(0, len(items), self.batch_size):
            batch = items[start : start + self.batch_size]
            decoded, head = await self._request(batch, headers, deadline)
            vectors.extend(decoded.vectors)
            tokens += decoded.input_tokens
            heads.append(head)
            model = model or decoded.model
        return EmbedResponse(
            vectors=tuple(vectors),
            usage=Usage(InputTokens(tokens)),
            model=model or self.model,
            cache_status=heads[-1].cache_status,
            log_id=heads[-1].log_id,
            log_ids=tuple(h.log_id for h in heads if h.log_id is not None),
        )

    async def _request(
        self, batch: tuple[str, ...], headers: dict[str, str], deadline: float | None
    ) -> tuple[DecodedEmbeddings, ReplyHead]:
        endpoint = self._endpoint
        reply = await request_json(
            endpoint.client(),
            "POST",
            self._url,
            content=self._codec.encode(self.model, batch),
            headers=headers,
            retry=self._retry,
            deadline=deadline,
            max_response_bytes=endpoint.max_response_bytes,
        )
        try:
            decoded = self._codec.decode(reply.body, len(batch))
        except DECODE_ERRORS as error:
            message = f"unexpected embeddings reply ({type(error).__name__}: {error})"[:300]
            raise AiError(malformed(message, status=reply.status, headers=reply.headers)) from None
        return decoded, ReplyHead.of(reply.headers)


__all__ = [
    "EmbedInput",
    "EmbedResponse",
    "EmbeddingModel",
    "EmbeddingRoute",
    "GatewayEmbeddingModel",
    "to_texts",
]
