"""The gateway-backed `LanguageModel`: one model id, its route, parameters and options.

Everything that does not change between calls (URL, headers, encoded parameters) is computed
once when the model is built; building does no I/O. The model depends on an `Endpoint` (the
gateway's URL, credentials, client and defaults), never on `GatewayBinding`, which builds the
endpoint and imports this module, not the other way round.

`stream_text` connects the stages of `aigateway_sdk.streaming` (chunk reader, SSE decoder,
codec, assembler); `generate_text` and `stream_text` bound a call by the same `Deadline`.

One model call is `step` (a response) or `stream_step` (parts): the messages (checked as a
prompt is), the call's settings (`settings_of`), the tools offered and the output format asked
for. A tool loop or structured output calls them once per model call; `generate_text` and
`stream_text` are one such call of a prompt, through the same code.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import httpx

from aigateway_sdk.codecs import ROUTES, Decoded, Route, codec_for, route_for
from aigateway_sdk.endpoint import Endpoint, Startup
from aigateway_sdk.errors import AiError
from aigateway_sdk.model import DEFAULT_MAX_STEPS, ToolErrorMode
from aigateway_sdk.observe import hooks
from aigateway_sdk.options import GatewayOptions
from aigateway_sdk.parameters import (
    ModelParameters,
    ParametersInput,
    to_extra_body,
    to_extra_headers,
    to_parameters,
)
from aigateway_sdk.parts import StreamPart
from aigateway_sdk.prompt import Message, PromptInput, to_messages
from aigateway_sdk.request import OutputFormat, ToolsRequest
from aigateway_sdk.response import (
    GenerateObjectResponse,
    GenerateTextResponse,
    RawReply,
    ReplyHead,
)
from aigateway_sdk.result import AiCall, AiStream
from aigateway_sdk.streaming import ChunkReader, Deadline, SseParts, StreamAssembler, deadline_at
from aigateway_sdk.streaming.sse_parts import DECODE_ERRORS
from aigateway_sdk.transport.failures import malformed, reason_from_exception
from aigateway_sdk.transport.http import (
    SEND_ERRORS,
    decode_json,
    open_stream,
    read_body,
    request_json,
)
from aigateway_sdk.transport.retry import RetryPolicy
from aigateway_sdk.validation import FieldError, ValidationError

if TYPE_CHECKING:  # imported when first used: plain text calls never load tools or schemas
    from aigateway_sdk.calls import OneCall, OneStream, SchemaSpec
    from aigateway_sdk.tools import Toolkit

T = TypeVar("T")

_DRAIN_SECONDS = 0.25
"""How long a finished stream may take to deliver the rest of its body before it is closed."""


@attrs.frozen(slots=True)
class CallSettings:
    """A call's own parameters, options, extra_body and extra_headers, checked (`settings_of`);
    each merges over the model's. `NO_SETTINGS`: a call that brings none."""

    parameters: ModelParameters | None = None
    options: GatewayOptions | None = None
    extra_body: dict[str, Any] | None = None
    extra_headers: dict[str, str] | None = None


NO_SETTINGS = CallSettings()
"""A call that brings no settings: the model's precomputed body parts and headers serve as
they are."""


def settings_of(
    parameters: ParametersInput | None = None,
    options: GatewayOptions | None = None,
    extra_body: Mapping[str, Any] | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> CallSettings:
    """A call's own settings, checked now (a bad one raises `ValidationError` before anything
    is sent)."""
    if parameters is None and options is None and extra_body is None and extra_headers is None:
        return NO_SETTINGS
    return CallSettings(
        to_parameters(parameters),
        options,
        to_extra_body(extra_body),
        to_extra_headers(extra_headers),
    )


_Request = tuple[bytes, dict[str, str], int | None]


def _model_problem(model: object, route: object) -> FieldError | None:
    """What is wrong with a model id (and route), before anything goes on the wire."""
    if not isinstance(model, str) or not model:
        return FieldError(
            ("model",), "is required: a model id such as '@cf/meta/llama-3.1-8b-instruct'"
        )
    if any(c.isspace() for c in model):
        return FieldError(("model",), f"must not contain whitespace, got {model!r}")
    if route not in ROUTES:
        return FieldError(("route",), f"must be one of {', '.join(ROUTES)}, got {route!r}")
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


def _refused(route: Route, refused: frozenset[str], params: Mapping[str, object]) -> None:
    """ValidationError naming each parameter the route's API has no place for."""
    names = [name for name in params if name in refused]
    if names:
        raise ValidationError(
            [
                FieldError((name,), f"is not a parameter of the {route!r} route's API")
                for name in names
            ],
            what="model parameters",
        )


def _parsed(url: str) -> str | httpx.URL:
    """`url` parsed once (httpx parses a str URL again on every request); a URL httpx refuses
    stays a str, for the call to report."""
    try:
        return httpx.URL(url)
    except httpx.InvalidURL:
        return url


async def _started_then(startup: Startup, call: Callable[[], Awaitable[T]]) -> T:
    """`call()` once `startup` has run: a call made before `start()` runs it."""
    await startup.ensure_started()
    return await call()


async def _started_then_stream(
    startup: Startup, open_parts: Callable[[], AsyncIterator[StreamPart]]
) -> AsyncIterator[StreamPart]:
    await startup.ensure_started()
    parts = open_parts()
    try:
        async for part in parts:
            yield part
    finally:
        aclose = getattr(parts, "aclose", None)
        if aclose is not None:
            await aclose()


class GatewayLanguageModel:
    """A `LanguageModel` that calls one model through a gateway `Endpoint`."""

    __slots__ = (
        "_codec",
        "_endpoint",
        "_extra_body",
        "_extra_headers",
        "_headers",
        "_max_tokens",
        "_params",
        "_provider_key",
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
        endpoint: Endpoint,
        model: str,
        parameters: ParametersInput | None = None,
        *,
        options: GatewayOptions | None = None,
        route: Route | None = None,
        retry: RetryPolicy | None = None,
        total_timeout: float | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> None:
        chosen = route or (route_for(model) if isinstance(model, str) else None)
        problem = _model_problem(model, chosen)
        if problem is not None:
            raise ValidationError([problem], what="language model")
        self._endpoint = endpoint
        self.model = model
        self.route: Route = chosen  # checked above
        self.parameters = to_parameters(parameters) or ModelParameters()
        self.options = endpoint.options.merged(options)
        codec = self._codec = codec_for(self.route)
        self._params = self.parameters.to_json()
        _refused(self.route, codec.refused_parameters, self._params)
        self._extra_body = to_extra_body(extra_body)
        self._extra_headers = to_extra_headers(extra_headers)
        self._url = _parsed(endpoint.url_for(codec.path(model)))
        self._provider_key = codec.provider_key(model, endpoint.credentials)
        self._headers = self._headers_for(self.options)
        self._max_tokens = self.parameters.max_tokens
        self._retry = retry or endpoint.retry
        self._total_timeout = total_timeout if total_timeout is not None else endpoint.total_timeout

    @property
    def model_id(self) -> str:
        return self.model

    def __repr__(self) -> str:
        return f"GatewayLanguageModel(model={self.model!r}, route={self.route!r})"

    @property
    def extra_body(self) -> Mapping[str, Any]:
        """Fields every request of this model adds to its body (`extra_body=`)."""
        return MappingProxyType(self._extra_body or {})

    @property
    def extra_headers(self) -> Mapping[str, str]:
        """Headers every request of this model carries besides the SDK's (`extra_headers=`)."""
        return MappingProxyType(self._extra_headers or {})

    # -- per-call settings ---------------------------------------------------------------

    def _headers_for(self, options: GatewayOptions) -> dict[str, str]:
        headers = self._endpoint.headers(self._provider_key, options)
        if self._extra_headers:
            headers.update(self._extra_headers)
        return headers

    def _merged(
        self, call: CallSettings
    ) -> tuple[dict[str, Any], int | None, dict[str, str], dict[str, Any] | None]:
        """The body parameters, `max_tokens`, headers and extra body of a call that brings
        settings of its own, merged over the model's."""
        params, max_tokens, headers = self._params, self._max_tokens, self._headers
        extra = self._extra_body
        if call.parameters is not None:
            merged = self.parameters.merged(call.parameters)
            params, max_tokens = merged.to_json(), merged.max_tokens
            _refused(self.route, self._codec.refused_parameters, params)
        if call.options is not None:
            headers = self._headers_for(self.options.merged(call.options))
        if call.extra_headers:
            headers = {**headers, **call.extra_headers}
        if call.extra_body:
            extra = {**extra, **call.extra_body} if extra else call.extra_body
        return params, max_tokens, headers, extra

    def _request(
        self,
        prompt: PromptInput,
        call: CallSettings,
        stream: bool,
        tools: ToolsRequest | None,
        output: OutputFormat | None,
    ) -> _Request:
        """The body and headers of a call, and its `max_tokens`: the model's, unless the call
        brings settings of its own (which merge over the model's)."""
        messages = to_messages(prompt)
        if call is NO_SETTINGS:
            params, max_tokens, headers = self._params, self._max_tokens, self._headers
            extra = self._extra_body
        else:
            params, max_tokens, headers, extra = self._merged(call)
        content = self._codec.encode(
            self.model, messages, params, stream, extra, tools=tools, output=output
        )
        return content, headers, max_tokens

    # -- generate -----------------------------------------------------------------------

    def generate_text(
        self,
        prompt: PromptInput,
        *,
        parameters: ParametersInput | None = None,
        options: GatewayOptions | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        toolkit: Toolkit | None = None,
        tool_choice: str | None = None,
        max_steps: int = DEFAULT_MAX_STEPS,
        on_tool_error: ToolErrorMode = "raise",
        tool_timeout: float | None = None,
    ) -> AiCall[GenerateTextResponse]:
        settings = settings_of(parameters, options, extra_body, extra_headers)
        if toolkit is not None or tool_choice is not None:
            from aigateway_sdk import calls

            use = calls.tool_use(toolkit, tool_choice, max_steps, on_tool_error, tool_timeout)
            return AiCall(functools.partial(calls.generate, self._one(settings), prompt, use))
        call = functools.partial(self._generate, prompt, settings, None, None)
        startup = self._endpoint.startup
        if startup is not None and startup.needs_start:  # the first call runs it
            return AiCall(functools.partial(_started_then, startup, call))
        return AiCall(call)

    def _one(self, settings: CallSettings) -> OneCall:
        """One model call with this call's settings, for the tool loop and structured output."""

        def one(
            messages: tuple[Message, ...], tools: ToolsRequest | None, output: OutputFormat | None
        ) -> Awaitable[GenerateTextResponse]:
            return self.step(messages, settings, tools=tools, output=output)

        return one

    def _one_stream(self, settings: CallSettings) -> OneStream:
        def one(
            messages: tuple[Message, ...], tools: ToolsRequest | None, output: OutputFormat | None
        ) -> AsyncIterator[StreamPart]:
            return self.stream_step(messages, settings, tools=tools, output=output)

        return one

    def generate_object(
        self,
        prompt: PromptInput,
        *,
        schema: SchemaSpec[T],
        repairs: int = 0,
        strict: bool = False,
        parameters: ParametersInput | None = None,
        options: GatewayOptions | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> AiCall[GenerateObjectResponse[T]]:
        """A reply that is JSON matching `schema`, decoded to its type (see `LanguageModel`):
        Workers AI JSON mode on the native route, `response_format: json_schema` on the
        OpenAI-compatible ones."""
        from aigateway_sdk import calls

        settings = settings_of(parameters, options, extra_body, extra_headers)
        request = calls.object_request(schema, repairs, strict)
        one = self._one(settings)
        return AiCall(functools.partial(calls.generate_structured, one, prompt, request))

    def step(
        self,
        messages: tuple[Message, ...],
        settings: CallSettings = NO_SETTINGS,
        *,
        tools: ToolsRequest | None = None,
        output: OutputFormat | None = None,
    ) -> Awaitable[GenerateTextResponse]:
        """One model call of `messages`, offering `tools` and asking for `output`: the reply,
        its `tool_calls` included. Raises `AiError` (a message a provider would refuse:
        `InvalidRequest`, checked by `to_messages` as for a prompt)."""
        call = functools.partial(self._generate, messages, settings, tools, output)
        startup = self._endpoint.startup
        if startup is not None and startup.needs_start:
            return _started_then(startup, call)
        return call()

    def _generate(
        self,
        prompt: PromptInput,
        settings: CallSettings,
        tools: ToolsRequest | None,
        output: OutputFormat | None,
    ) -> Coroutine[Any, Any, GenerateTextResponse]:
        """One model call; inside a span when tracing is on (`aigateway_sdk.observe`)."""
        call = self._generate_once(prompt, settings, tools, output)
        tracing = hooks.tracing
        return call if tracing is None else tracing.chat(self, settings, call)

    async def _generate_once(
        self,
        prompt: PromptInput,
        settings: CallSettings,
        tools: ToolsRequest | None,
        output: OutputFormat | None,
    ) -> GenerateTextResponse:
        content, headers, max_tokens = self._request(prompt, settings, False, tools, output)
        endpoint = self._endpoint
        reply = await request_json(
            endpoint.client(),
            "POST",
            self._url,
            content=content,
            headers=headers,
            retry=self._retry,
            deadline=deadline_at(Deadline.after(self._total_timeout)),
            max_response_bytes=endpoint.max_response_bytes,
        )
        try:
            decoded = self._codec.decode(reply.body, max_tokens, json_mode=output is not None)
        except DECODE_ERRORS as error:
            message = f"unexpected reply shape ({type(error).__name__}: {error})"[:300]
            raise AiError(malformed(message, status=reply.status, headers=reply.headers)) from None
        head = ReplyHead.of(reply.headers)
        return GenerateTextResponse(
            text=decoded.text,
            usage=decoded.usage,
            finish_reason=decoded.finish_reason,
            model=decoded.model or self.model,
            response_id=decoded.response_id,
            cache_status=head.cache_status,
            log_id=head.log_id,
            step=head.step,
            raw=RawReply(reply.status, MappingProxyType(reply.headers), reply.body),
            tool_calls=decoded.tool_calls,
        )

    # -- stream -------------------------------------------------------------------------

    def stream_text(
        self,
        prompt: PromptInput,
        *,
        parameters: ParametersInput | None = None,
        options: GatewayOptions | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        toolkit: Toolkit | None = None,
        tool_choice: str | None = None,
        max_steps: int = DEFAULT_MAX_STEPS,
        on_tool_error: ToolErrorMode = "raise",
        tool_timeout: float | None = None,
    ) -> AiStream:
        settings = settings_of(parameters, options, extra_body, extra_headers)
        if toolkit is not None or tool_choice is not None:
            from aigateway_sdk import calls

            use = calls.tool_use(toolkit, tool_choice, max_steps, on_tool_error, tool_timeout)
            one = self._one_stream(settings)
            return AiStream(functools.partial(calls.stream, one, prompt, use), loop=True)
        parts = functools.partial(self._stream, prompt, settings, None, None)
        startup = self._endpoint.startup
        if startup is not None and startup.needs_start:
            return AiStream(functools.partial(_started_then_stream, startup, parts))
        return AiStream(parts)

    def stream_step(
        self,
        messages: tuple[Message, ...],
        settings: CallSettings = NO_SETTINGS,
        *,
        tools: ToolsRequest | None = None,
        output: OutputFormat | None = None,
    ) -> AsyncIterator[StreamPart]:
        """One streamed model call of `messages`, offering `tools` and asking for `output`: its
        parts, tool-call parts included, ending with `Finish`. Close it (`aclose()`) when
        leaving early; a failure raises `AiError` while iterating."""
        parts = functools.partial(self._stream, messages, settings, tools, output)
        startup = self._endpoint.startup
        if startup is not None and startup.needs_start:
            return _started_then_stream(startup, parts)
        return parts()

    def _stream(
        self,
        prompt: PromptInput,
        settings: CallSettings,
        tools: ToolsRequest | None,
        output: OutputFormat | None,
    ) -> AsyncIterator[StreamPart]:
        """One streamed model call; inside a span when tracing is on."""
        parts = self._stream_once(prompt, settings, tools, output)
        tracing = hooks.tracing
        return parts if tracing is None else tracing.stream(self, settings, parts)

    async def _stream_once(
        self,
        prompt: PromptInput,
        settings: CallSettings,
        tools: ToolsRequest | None,
        output: OutputFormat | None,
    ) -> AsyncIterator[StreamPart]:
        content, headers, max_tokens = self._request(prompt, settings, True, tools, output)
        endpoint = self._endpoint
        deadline = Deadline.after(self._total_timeout)
        async with open_stream(
            endpoint.client(),
            "POST",
            self._url,
            content=content,
            headers=headers,
            retry=self._retry,
            deadline=deadline_at(deadline),
            max_response_bytes=endpoint.max_response_bytes,
        ) as response:
            reply_headers = response.headers
            assembler = StreamAssembler(
                self.model,
                ReplyHead.of(reply_headers),
                max_tokens,
                max_arguments=endpoint.max_response_bytes,
            )
            yield assembler.start(response.status_code, MappingProxyType(reply_headers))
            content_type = reply_headers.get("content-type", "")
            if "json" in content_type:  # a provider (or a cached reply) answered in one piece
                reply = await self._whole_reply(response, max_tokens, deadline, output)
                for part in assembler.whole(reply):
                    yield part
                return
            if "event-stream" not in content_type:
                message = f"expected an event stream, got {content_type!r}"
                raise AiError(
                    malformed(message, status=response.status_code, headers=reply_headers)
                )
            events = SseParts(
                self._codec,
                assembler,
                endpoint.max_event_bytes,
                status=response.status_code,
                headers=reply_headers,
            )
            chunks = ChunkReader(response.aiter_bytes(), deadline, assembler.head.log_id)
            async for raw in chunks:
                for part in events.feed(raw):
                    yield part
                if events.stopped:
                    break
            if events.done:
                await chunks.drain(_DRAIN_SECONDS)
            for part in events.end():
                yield part

    async def _whole_reply(
        self,
        response: httpx.Response,
        max_tokens: int | None,
        deadline: Deadline | None,
        output: OutputFormat | None = None,
    ) -> Decoded:
        """A stream answered with one JSON reply: read it whole, within the size limit and the
        same deadline as the SSE path, and decode it."""
        limit = self._endpoint.max_response_bytes
        try:
            if deadline is None:
                content = await read_body(response, limit)
            else:
                with deadline.within():
                    content = await read_body(response, limit)
        except TimeoutError as error:  # before SEND_ERRORS: TimeoutError is an OSError
            if deadline is None:
                raise AiError(reason_from_exception(error)) from error
            raise AiError(deadline.passed(response.headers.get("cf-aig-log-id"))) from None
        except SEND_ERRORS as error:
            raise AiError(reason_from_exception(error)) from error
        body = decode_json(response, content)
        try:
            return self._codec.decode(body, max_tokens, json_mode=output is not None)
        except DECODE_ERRORS as error:
            message = f"unexpected reply shape ({type(error).__name__})"
            raise AiError(
                malformed(message, status=response.status_code, headers=response.headers)
            ) from None


__all__ = [
    "NO_SETTINGS",
    "CallSettings",
    "GatewayLanguageModel",
    "Route",
    "route_for",
    "settings_of",
]
