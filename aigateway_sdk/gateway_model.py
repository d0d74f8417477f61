"""The gateway-backed `LanguageModel`: one model id, its route, parameters and options.

Everything that does not change between calls (URL, headers, encoded parameters) is computed
once when the model is built; building does no I/O.
"""

from __future__ import annotations

import functools
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Literal

import anyio
import httpx

from aigateway_sdk import _json
from aigateway_sdk.codecs import Codec, OpenAICompatCodec, WorkersAiCodec
from aigateway_sdk.codecs.base import DONE
from aigateway_sdk.errors import AiError, MalformedOutput, NetworkError, ProviderError, Timeout
from aigateway_sdk.options import GatewayOptions
from aigateway_sdk.parameters import ModelParameters, ParametersInput, to_parameters
from aigateway_sdk.parts import Finish, ResponseMetadata, StreamPart, TextDelta, TextEnd, TextStart
from aigateway_sdk.prompt import PromptInput, to_messages
from aigateway_sdk.response import (
    EMPTY_USAGE,
    FinishReason,
    GenerateTextResponse,
    Usage,
    cache_status_of,
    step_of,
)
from aigateway_sdk.result import AiCall, AiStream
from aigateway_sdk.transport.failures import error_details, reason_from_exception
from aigateway_sdk.transport.http import (
    SEND_ERRORS,
    decode_json,
    open_stream,
    read_body,
    request_json,
)
from aigateway_sdk.transport.retry import RetryPolicy
from aigateway_sdk.transport.sse import SseDecoder, SseError, SseEvent
from aigateway_sdk.validation import FieldError, ValidationError

if TYPE_CHECKING:
    from aigateway_sdk.binding import GatewayBinding

Route = Literal["workers-ai", "compat", "workers-ai-openai"]
"""`workers-ai`: native Workers AI API; `compat`: the OpenAI-compatible `compat` endpoint with
`provider/model` ids; `workers-ai-openai`: Workers AI's own `/v1/chat/completions`."""

_DECODE_ERRORS = (KeyError, TypeError, ValueError, IndexError, AttributeError, SseError)
_READ_ERRORS = SEND_ERRORS
_DRAIN_SECONDS = 0.25
"""How long a finished stream may take to deliver the rest of its body before it is closed."""


def route_for(model: str) -> Route:
    """`@cf/...` and `@hf/...` ids go to Workers AI; `provider/model` ids to `compat`."""
    return "workers-ai" if model.startswith("@") else "compat"


_ROUTES: tuple[Route, ...] = ("workers-ai", "compat", "workers-ai-openai")


def _model_problem(model: object, route: object) -> FieldError | None:
    """What is wrong with a model id (and route), before anything goes on the wire."""
    if not isinstance(model, str) or not model:
        return FieldError(
            ("model",), "is required: a model id such as '@cf/meta/llama-3.1-8b-instruct'"
        )
    if any(c.isspace() for c in model):
        return FieldError(("model",), f"must not contain whitespace, got {model!r}")
    if route not in _ROUTES:
        return FieldError(("route",), f"must be one of {', '.join(_ROUTES)}, got {route!r}")
    if route == "compat":
        provider, _, name = model.partition("/")
        if not provider or not name or provider.startswith("@"):
            return FieldError(
                ("model",),
                f"{model!r} has no provider: the compat route takes 'provider/model' ids "
                "('openai/gpt-4o-mini', 'workers-ai/@cf/meta/llama-3.1-8b-instruct'); "
                "Workers AI ids start with '@cf/' or '@hf/'",
            )
    return None


def _codec(route: Route) -> Codec:
    if route == "workers-ai":
        return WorkersAiCodec()
    if route == "compat":
        return OpenAICompatCodec()
    return OpenAICompatCodec("workers-ai/v1/chat/completions")


def _malformed(message: str, response: httpx.Response | None = None) -> AiError:
    return AiError(
        MalformedOutput(
            message=message,
            status=response.status_code if response is not None else None,
            log_id=response.headers.get("cf-aig-log-id") if response is not None else None,
        )
    )


def _stream_failure(event: SseEvent, log_id: str | None) -> AiError | None:
    """The error a provider reported inside a stream (an `event: error`, or a frame that holds
    only `error`/`errors`), as a `ProviderError`; None for any other event."""
    try:
        body = _json.loads(event.data)
    except ValueError:
        body = None
    is_error_frame = isinstance(body, dict) and bool(body.get("error") or body.get("errors"))
    if event.event != "error" and not is_error_frame:
        return None
    details = error_details(body)
    message = "; ".join(d.message for d in details if d.message)
    if not message and isinstance(body, dict) and isinstance(body.get("message"), str):
        message = body["message"]
    message = message or event.data.decode("utf-8", "replace")
    return AiError(
        ProviderError(
            message=f"the stream failed: {message}"[:500],
            code=details[0].code if details else None,
            log_id=log_id,
            details=details,
        )
    )


class GatewayLanguageModel:
    """A `LanguageModel` that calls one model through a `GatewayBinding`."""

    __slots__ = (
        "_binding",
        "_codec",
        "_headers",
        "_max_event_bytes",
        "_max_tokens",
        "_params",
        "_retry",
        "_total_timeout",
        "_url",
        "model",
        "options",
        "parameters",
        "route",
    )

    def __init__(
        self,
        binding: GatewayBinding,
        model: str,
        parameters: ParametersInput | None = None,
        *,
        options: GatewayOptions | None = None,
        route: Route | None = None,
        retry: RetryPolicy | None = None,
        total_timeout: float | None = None,
    ) -> None:
        chosen = route or (route_for(model) if isinstance(model, str) else None)
        problem = _model_problem(model, chosen)
        if problem is not None:
            raise ValidationError([problem], what="language model")
        self._binding = binding
        self.model = model
        self.route: Route = chosen  # checked above
        self.parameters = to_parameters(parameters) or ModelParameters()
        self.options = binding.options.merged(options)
        self._codec = _codec(self.route)
        url = binding.data_url(self._codec.path(model))
        try:  # parsed once here: httpx parses a str URL again on every request
            self._url: str | httpx.URL = httpx.URL(url)
        except httpx.InvalidURL:
            self._url = url  # a call reports it, as before
        self._headers = binding.headers_for(self.route, model, self.options)
        self._params = self.parameters.to_json()
        self._max_tokens = self.parameters.max_tokens
        self._retry = retry or binding.retry
        self._total_timeout = total_timeout if total_timeout is not None else binding.total_timeout
        self._max_event_bytes = binding.max_event_bytes

    @property
    def model_id(self) -> str:
        return self.model

    def __repr__(self) -> str:
        return f"GatewayLanguageModel(model={self.model!r}, route={self.route!r})"

    # -- per-call settings ---------------------------------------------------------------

    def _call_settings(
        self, parameters: ModelParameters | None, options: GatewayOptions | None
    ) -> tuple[dict[str, Any], int | None, dict[str, str]]:
        params, max_tokens, headers = self._params, self._max_tokens, self._headers
        if parameters is not None:
            merged = self.parameters.merged(parameters)
            params, max_tokens = merged.to_json(), merged.max_tokens
        if options is not None:
            headers = self._binding.headers_for(
                self.route, self.model, self.options.merged(options)
            )
        return params, max_tokens, headers

    # -- generate -----------------------------------------------------------------------

    def generate_text(
        self,
        prompt: PromptInput,
        *,
        parameters: ParametersInput | None = None,
        options: GatewayOptions | None = None,
    ) -> AiCall[GenerateTextResponse]:
        call = functools.partial(self._generate, prompt, to_parameters(parameters), options)
        binding = self._binding
        if binding.needs_start:  # ensure_gateway=True and not started: the first call applies it
            return AiCall(functools.partial(binding._started_then, call))
        return AiCall(call)

    async def _generate(
        self,
        prompt: PromptInput,
        parameters: ModelParameters | None,
        options: GatewayOptions | None,
    ) -> GenerateTextResponse:
        messages = to_messages(prompt)
        params, max_tokens, headers = self._call_settings(parameters, options)
        content = self._codec.encode(self.model, messages, params, False)
        binding, total_timeout = self._binding, self._total_timeout
        reply = await request_json(
            binding.client,
            "POST",
            self._url,
            content=content,
            headers=headers,
            retry=self._retry,
            deadline=None if total_timeout is None else time.monotonic() + total_timeout,
            max_response_bytes=binding.max_response_bytes,
        )
        reply_headers = reply.headers
        try:
            decoded = self._codec.decode(reply.body, max_tokens)
        except _DECODE_ERRORS as error:
            raise AiError(
                MalformedOutput(
                    message=f"unexpected reply shape ({type(error).__name__}: {error})"[:300],
                    status=reply.status,
                    log_id=reply_headers.get("cf-aig-log-id"),
                )
            ) from None
        return GenerateTextResponse(
            text=decoded.text,
            usage=decoded.usage,
            finish_reason=decoded.finish_reason,
            model=decoded.model or self.model,
            response_id=decoded.response_id,
            cache_status=cache_status_of(reply_headers.get("cf-aig-cache-status")),
            log_id=reply_headers.get("cf-aig-log-id"),
            step=step_of(reply_headers.get("cf-aig-step")),
        )

    # -- stream -------------------------------------------------------------------------

    def stream_text(
        self,
        prompt: PromptInput,
        *,
        parameters: ParametersInput | None = None,
        options: GatewayOptions | None = None,
    ) -> AiStream:
        parts = functools.partial(self._stream, prompt, to_parameters(parameters), options)
        binding = self._binding
        if binding.needs_start:
            return AiStream(functools.partial(binding._started_then_stream, parts))
        return AiStream(parts)

    async def _stream(
        self,
        prompt: PromptInput,
        parameters: ModelParameters | None,
        options: GatewayOptions | None,
    ) -> AsyncIterator[StreamPart]:
        messages = to_messages(prompt)
        params, max_tokens, headers = self._call_settings(parameters, options)
        content = self._codec.encode(self.model, messages, params, True)
        deadline = None if self._total_timeout is None else time.monotonic() + self._total_timeout
        async with open_stream(
            self._binding.client,
            "POST",
            self._url,
            content=content,
            headers=headers,
            retry=self._retry,
            deadline=deadline,
            max_response_bytes=self._binding.max_response_bytes,
        ) as response:
            reply_headers = response.headers
            log_id = reply_headers.get("cf-aig-log-id")
            yield ResponseMetadata(
                model=self.model,
                cache_status=cache_status_of(reply_headers.get("cf-aig-cache-status")),
                log_id=log_id,
                step=step_of(reply_headers.get("cf-aig-step")),
            )
            content_type = reply_headers.get("content-type", "")
            if "json" in content_type:
                # A provider (or a cached reply) that answered in one piece.
                async for part in self._parts_from_json(response, max_tokens, deadline):
                    yield part
                return
            if "event-stream" not in content_type:
                raise _malformed(f"expected an event stream, got {content_type!r}", response)
            codec = self._codec
            decoder = SseDecoder(self._max_event_bytes)
            chunks = response.aiter_bytes().__aiter__()
            started = done = False
            usage: Usage | None = None
            finish: FinishReason | None = None
            while not done:
                try:
                    if deadline is None:
                        raw = await chunks.__anext__()
                    else:
                        with anyio.fail_after(max(0.0, deadline - time.monotonic())):
                            raw = await chunks.__anext__()
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    raise AiError(
                        Timeout(
                            message=f"stream not complete within {self._total_timeout} s",
                            log_id=log_id,
                        )
                    ) from None
                except _READ_ERRORS as error:
                    reason = reason_from_exception(error)
                    raise AiError(
                        type(reason)(message=f"stream interrupted: {reason.message}", log_id=log_id)
                    ) from error
                try:
                    events = decoder.feed(raw)
                    decoded = [
                        None if event.event == "error" else codec.decode_chunk(event.data)
                        for event in events
                    ]
                except _DECODE_ERRORS as error:
                    raise _malformed(
                        f"bad stream event ({type(error).__name__}: {error})"[:300], response
                    ) from None
                for event, chunk in zip(events, decoded, strict=True):
                    if chunk is None:
                        if event.event == "error" or b'"error' in event.data:
                            failure = _stream_failure(event, log_id)
                            if failure is not None:
                                raise failure
                        continue
                    if chunk is DONE:
                        done = True
                        break
                    if chunk.delta is not None:
                        if not started:
                            started = True
                            yield TextStart()
                        yield TextDelta(chunk.delta)
                    if chunk.usage is not None:
                        usage = chunk.usage
                    if chunk.finish_reason is not None:
                        finish = chunk.finish_reason
            if done:
                # Read the rest of the body (usually just the chunked terminator) so that the
                # connection goes back to the pool; a body left unread makes httpx close it.
                with anyio.move_on_after(_DRAIN_SECONDS):
                    try:
                        async for _rest in chunks:
                            pass
                    except _READ_ERRORS:
                        pass
            if not done:
                if decoder.has_partial:
                    raise _malformed("the stream ended in the middle of an event", response)
                if finish is None and usage is None:
                    raise AiError(
                        NetworkError(
                            message="the stream ended before it was complete", log_id=log_id
                        )
                    )
            if started:
                yield TextEnd()
            yield Finish(
                reason=finish or _finish_from_usage(usage, max_tokens),
                usage=usage or EMPTY_USAGE,
            )

    async def _parts_from_json(
        self, response: httpx.Response, max_tokens: int | None, deadline: float | None
    ) -> AsyncIterator[StreamPart]:
        """A stream answered with one JSON reply: read it whole, within the size limit and the
        same `total_timeout` deadline as the SSE path."""
        limit = self._binding.max_response_bytes
        content: bytes | None = None
        try:
            if deadline is None:
                content = await read_body(response, limit)
            else:
                with anyio.move_on_after(max(0.0, deadline - time.monotonic())):
                    content = await read_body(response, limit)
        except _READ_ERRORS as error:
            raise AiError(reason_from_exception(error)) from error
        if content is None:
            raise AiError(
                Timeout(
                    message=f"stream not complete within {self._total_timeout} s",
                    log_id=response.headers.get("cf-aig-log-id"),
                )
            )
        body = decode_json(response, content)
        try:
            decoded = self._codec.decode(body, max_tokens)
        except _DECODE_ERRORS as error:
            raise _malformed(f"unexpected reply shape ({type(error).__name__})", response) from None
        if decoded.text:
            yield TextStart()
            yield TextDelta(decoded.text)
            yield TextEnd()
        yield Finish(reason=decoded.finish_reason, usage=decoded.usage)


def _finish_from_usage(usage: Usage | None, max_tokens: int | None) -> FinishReason:
    if usage is not None and max_tokens is not None and usage.output_tokens.total >= max_tokens:
        return "length"
    return "stop"


__all__ = ["GatewayLanguageModel", "Route", "route_for"]
