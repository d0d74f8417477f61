"""The two request/reply shapes of the data plane: Workers AI's native one and OpenAI's chat
completions (the `compat` and `workers-ai/v1` routes). Parsing checks types and names the bad
field; rendering produces the exact bytes sent (and cached). Tools, tool calls, JSON mode and
content parts are read and written by `wire_tools`, streamed replies by `frames`."""

from __future__ import annotations

import base64
import math
import struct
from typing import Any

import attrs

from aigateway_sdk._json import dumps
from aigateway_sdk.local.dataplane.wire_tools import (
    Shape,
    json_value,
    native_calls,
    openai_calls,
    parse_messages,
    parse_parallel,
    parse_response_format,
    parse_tool_choice,
    parse_tools,
)
from aigateway_sdk.local.dataplane.wire_tools import invalid as _invalid
from aigateway_sdk.local.upstreams.base import (
    ChatRequest,
    Completion,
    Embeddings,
    EmbedRequest,
    Message,
)

_NATIVE_NUMBERS = {
    "temperature": (0.0, 5.0),
    "top_p": (0.0, 2.0),
    "top_k": (1.0, 50.0),
    "seed": (0.0, 9_999_999_999.0),
    "repetition_penalty": (0.0, 2.0),
    "frequency_penalty": (-2.0, 2.0),
    "presence_penalty": (-2.0, 2.0),
}
_OPENAI_NUMBERS = {
    "temperature": (0.0, 2.0),
    "top_p": (0.0, 1.0),
    "top_k": (0.0, 1e9),
    "seed": (-(2.0**63), 2.0**63),
    "frequency_penalty": (-2.0, 2.0),
    "presence_penalty": (-2.0, 2.0),
}
_OPENAI_PASSTHROUGH = ("user",)
_MAX_STOP = 4  # OpenAI's limit on stop sequences


def _number(body: dict[str, Any], name: str, bounds: tuple[float, float]) -> float | int | None:
    if name not in body or body[name] is None:
        return None
    value = body[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _invalid(name, "must be a number")
    if not bounds[0] <= value <= bounds[1]:
        raise _invalid(name, f"must be between {bounds[0]:g} and {bounds[1]:g}")
    return value


def _max_tokens(body: dict[str, Any], *names: str) -> int | None:
    for name in names:
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise _invalid(name, "must be an integer >= 0")
        return value
    return None


def _stream_flag(body: dict[str, Any]) -> bool:
    value = body.get("stream", False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _invalid("stream", "must be a boolean")
    return value


def _object(payload: object) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise _invalid("body", "must be a JSON object")
    return payload


def parse_native(
    payload: object, *, provider: str, model: str, authorization: str | None
) -> ChatRequest:
    """A Workers AI body: `prompt` or `messages`, plus `max_tokens`, `temperature`, ..."""
    body = _object(payload)
    if "messages" in body and body["messages"] is not None:
        messages = parse_messages(body["messages"], "native")
    elif "prompt" in body:
        prompt = body["prompt"]
        if not isinstance(prompt, str):
            raise _invalid("prompt", "must be a string")
        messages = (Message("user", prompt),)
    else:
        raise _invalid("prompt", "is required (or messages)")
    request = ChatRequest(
        provider=provider,
        model=model,
        messages=messages,
        max_tokens=_max_tokens(body, "max_tokens"),
        stream=_stream_flag(body),
        params=tuple(_numbers(body, _NATIVE_NUMBERS)),
        authorization=authorization,
    )
    return _with_tools(request, body, "native")


def _with_tools(request: ChatRequest, body: dict[str, Any], shape: Shape) -> ChatRequest:
    """`request` with the body's `tools`, `tool_choice`, `parallel_tool_calls` (OpenAI's
    routes) and `response_format`."""
    tools = parse_tools(body.get("tools"), shape)
    return attrs.evolve(
        request,
        tools=tools,
        tool_choice=parse_tool_choice(body.get("tool_choice"), tools),
        parallel_tool_calls=(
            parse_parallel(body.get("parallel_tool_calls")) if shape == "openai" else None
        ),
        response_format=parse_response_format(body.get("response_format"), shape),
    )


def _numbers(body: dict[str, Any], bounds: dict[str, tuple[float, float]]) -> list[tuple[str, Any]]:
    """The numeric parameters given, each checked against its bounds, in the table's order."""
    params: list[tuple[str, Any]] = []
    for name, limits in bounds.items():
        value = _number(body, name, limits)
        if value is not None:
            params.append((name, value))
    return params


def parse_openai(
    payload: object, *, provider: str | None, authorization: str | None
) -> tuple[ChatRequest, str, bool]:
    """An OpenAI chat-completions body. Returns the request, the model as the caller wrote
    it, and whether the stream should end with a usage chunk (`stream_options.include_usage`).

    With `provider=None` (the `compat` route) the model must be `{provider}/{model}`.
    """
    body = _object(payload)
    raw_model = body.get("model")
    if not isinstance(raw_model, str) or not raw_model:
        raise _invalid("model", "is required and must be a string")
    provider, model = _provider_model(raw_model, provider)
    messages = parse_messages(body.get("messages"), "openai")
    params = _openai_params(body)
    stream = _stream_flag(body)
    include_usage = _include_usage(body.get("stream_options"))
    request = ChatRequest(
        provider=provider,
        model=model,
        messages=messages,
        max_tokens=_max_tokens(body, "max_completion_tokens", "max_tokens"),
        stream=stream,
        params=tuple(sorted(params)),
        authorization=authorization,
    )
    return _with_tools(request, body, "openai"), raw_model, include_usage


def _provider_model(raw_model: str, provider: str | None) -> tuple[str, str]:
    """The provider and model: the route's provider, else the model's `{provider}/` prefix."""
    if provider is not None:
        return provider, raw_model
    provider, slash, model = raw_model.partition("/")
    if not slash or not provider or not model:
        raise _invalid("model", "must be {provider}/{model}, e.g. workers-ai/@cf/meta/...")
    return provider, model


def _openai_params(body: dict[str, Any]) -> list[tuple[str, Any]]:
    """`n` (1 only), the numeric parameters checked, the others passed through as given."""
    n = body.get("n")
    if n is not None and n != 1:
        raise _invalid("n", "only n=1 is supported")
    params = _numbers(body, _OPENAI_NUMBERS)
    stop = _stop(body.get("stop"))
    if stop is not None:
        params.append(("stop", stop))
    for name in _OPENAI_PASSTHROUGH:
        if body.get(name) is not None:
            params.append((name, body[name]))
    return params


def _stop(value: object) -> str | list[str] | None:
    """`stop`: a string or a list of up to 4 strings, as OpenAI takes it."""
    if value is None or isinstance(value, str):
        return value
    if (
        not isinstance(value, list)
        or len(value) > _MAX_STOP
        or not all(isinstance(item, str) for item in value)
    ):
        raise _invalid("stop", f"must be a string or a list of at most {_MAX_STOP} strings")
    return value or None


def _include_usage(options: object) -> bool:
    """`stream_options.include_usage`: whether a stream ends with a usage chunk."""
    if options is None:
        return False
    if not isinstance(options, dict):
        raise _invalid("stream_options", "must be an object")
    flag = options.get("include_usage", False)
    if not isinstance(flag, bool):
        raise _invalid("stream_options.include_usage", "must be a boolean")
    return flag


# --- embeddings ----------------------------------------------------------------------------

MAX_NATIVE_TEXTS = 100
"""Workers AI's embedding models (`@cf/baai/bge-*`) take at most 100 texts per request (the
`text` array's `maxItems` in their input schema)."""
MAX_OPENAI_INPUTS = 2048
"""OpenAI's `/embeddings` takes at most 2048 inputs per request (its API reference)."""
MAX_EMBEDDING_DIMENSIONS = 3072
"""The largest `dimensions` asked of `/embeddings`: the native size of OpenAI's largest
embedding model (`text-embedding-3-large`, its API reference); `dimensions` may only shorten a
model's vectors. Without a bound, 2048 inputs x `dimensions: 10**9` would fill memory."""


def _texts(value: object, field: str, limit: int) -> tuple[str, ...]:
    """A non-empty string or a non-empty list of at most `limit` non-empty strings (both
    schemas refuse empty texts: Workers AI's `minLength: 1`, OpenAI's "cannot be an empty
    string")."""
    if isinstance(value, str):
        if not value:
            raise _invalid(field, "must not be empty")
        return (value,)
    if not isinstance(value, list) or not value:
        raise _invalid(field, "must be a string or a non-empty array of strings")
    if len(value) > limit:
        raise _invalid(field, f"must have at most {limit} items, got {len(value)}")
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item:
            raise _invalid(f"{field}[{index}]", "must be a non-empty string")
    return tuple(value)


def parse_native_embed(
    payload: object, *, provider: str, model: str, authorization: str | None
) -> EmbedRequest:
    """A Workers AI embeddings body: `{"text": "..." | ["...", ...]}`."""
    body = _object(payload)
    if "text" not in body:
        raise _invalid("text", "is required")
    texts = _texts(body["text"], "text", MAX_NATIVE_TEXTS)
    return EmbedRequest(provider, model, texts, authorization=authorization)


def parse_openai_embed(
    payload: object, *, provider: str | None, authorization: str | None
) -> tuple[EmbedRequest, str, bool]:
    """An OpenAI `/embeddings` body. Returns the request, the model as the caller wrote it,
    and whether the vectors go back as base64 (`encoding_format: "base64"`)."""
    body = _object(payload)
    raw_model = body.get("model")
    if not isinstance(raw_model, str) or not raw_model:
        raise _invalid("model", "is required and must be a string")
    provider, model = _provider_model(raw_model, provider)
    texts = _texts(body.get("input"), "input", MAX_OPENAI_INPUTS)
    encoding = body.get("encoding_format") or "float"
    if encoding not in ("float", "base64"):
        raise _invalid("encoding_format", "must be 'float' or 'base64'")
    dimensions = body.get("dimensions")
    if dimensions is not None and (
        isinstance(dimensions, bool)
        or not isinstance(dimensions, int)
        or not 1 <= dimensions <= MAX_EMBEDDING_DIMENSIONS
    ):
        raise _invalid("dimensions", f"must be an integer from 1 to {MAX_EMBEDDING_DIMENSIONS}")
    request = EmbedRequest(provider, model, texts, dimensions, authorization)
    return request, raw_model, encoding == "base64"


def native_embed_body(embeddings: Embeddings) -> bytes:
    """Workers AI's embeddings reply: `{"result": {"shape": [n, d], "data": [[...]], "pooling"},
    "success": true, ...}`."""
    vectors = embeddings.vectors
    shape = [len(vectors), len(vectors[0]) if vectors else 0]
    result = {"shape": shape, "data": [list(v) for v in vectors], "pooling": "cls"}
    return dumps({"result": result, "success": True, "errors": [], "messages": []})


def _base64(vector: tuple[float, ...]) -> str:
    """OpenAI's `encoding_format: "base64"`: the little-endian float32 values, base64."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


def openai_embed_body(model: str, embeddings: Embeddings, as_base64: bool) -> bytes:
    """OpenAI's embeddings reply: `{"object": "list", "data": [{"object": "embedding",
    "index", "embedding"}], "model", "usage": {"prompt_tokens", "total_tokens"}}`."""
    data = [
        {
            "object": "embedding",
            "index": index,
            "embedding": _base64(vector) if as_base64 else list(vector),
        }
        for index, vector in enumerate(embeddings.vectors)
    ]
    tokens = embeddings.prompt_tokens
    usage = {"prompt_tokens": tokens, "total_tokens": tokens}
    return dumps({"object": "list", "data": data, "model": model, "usage": usage})


# --- replies -------------------------------------------------------------------------------


def usage(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def native_result(completion: Completion, json_mode: bool) -> dict[str, Any]:
    """Workers AI's `result`: `response` (the JSON value in JSON mode when the text is JSON;
    null when the reply only calls tools), `tool_calls` when there are any, `usage`."""
    response: Any = completion.text
    if json_mode:
        response = json_value(completion.text) if completion.text else completion.text
    result: dict[str, Any] = {"response": response}
    if completion.tool_calls:
        result["response"] = completion.text or None
        result["tool_calls"] = native_calls(completion.tool_calls)
    result["usage"] = usage(completion.prompt_tokens, completion.completion_tokens)
    return result


def native_body(completion: Completion, json_mode: bool = False) -> bytes:
    return dumps(
        {
            "result": native_result(completion, json_mode),
            "success": True,
            "errors": [],
            "messages": [],
        }
    )


def openai_message(completion: Completion) -> dict[str, Any]:
    """The reply's `message`: `content` null when it only calls tools, then `tool_calls`."""
    message: dict[str, Any] = {
        "role": "assistant",
        "content": completion.text,
        "refusal": None,
    }
    if completion.tool_calls:
        message["content"] = completion.text or None
        message["tool_calls"] = openai_calls(completion.tool_calls)
    return message


def openai_body(completion_id: str, created: int, model: str, completion: Completion) -> bytes:
    return dumps(
        {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": openai_message(completion),
                    "logprobs": None,
                    "finish_reason": completion.finish_reason,
                }
            ],
            "usage": usage(completion.prompt_tokens, completion.completion_tokens),
        }
    )


__all__ = [
    "MAX_NATIVE_TEXTS",
    "MAX_OPENAI_INPUTS",
    "native_body",
    "native_embed_body",
    "native_result",
    "openai_body",
    "openai_embed_body",
    "openai_message",
    "parse_native",
    "parse_native_embed",
    "parse_openai",
    "parse_openai_embed",
    "usage",
]
