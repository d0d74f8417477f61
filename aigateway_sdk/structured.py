"""Structured output: a model call whose reply must be JSON matching a schema, decoded to a type.

`generate_object` asks the model for JSON (Workers AI JSON mode on the native route,
`response_format: json_schema` on OpenAI-compatible ones: the codecs write it), reads the reply,
validates it against the schema and returns the typed value. A reply that is not JSON, or does
not match, is `AiError(InvalidOutput)` naming each failing path; with `repairs=N` the model is
shown its reply and what is wrong with it and asked again, up to N more times.

It works over any single model call (`StepCall`), so the gateway model and the test fake share it.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from types import MappingProxyType
from typing import Any, TypeVar

from aigateway_sdk import _json
from aigateway_sdk.errors import AiError, ErrorDetail, InvalidOutput
from aigateway_sdk.prompt import Message
from aigateway_sdk.request import OutputFormat
from aigateway_sdk.response import (
    EMPTY_USAGE,
    GenerateObjectResponse,
    GenerateTextResponse,
    Step,
    add_usage,
)
from aigateway_sdk.schema import Schema, SchemaError, SchemaMismatch
from aigateway_sdk.validation import FieldError, ValidationError

T = TypeVar("T")

StepCall = Callable[[tuple[Message, ...]], Awaitable[GenerateTextResponse]]
"""One model call with the conversation so far (the output format bound by the caller)."""

MAX_REPAIRS = 10
_SHOWN_ERRORS = 8
"""How many schema errors a repair request lists (the first ones, each with its path)."""


def output_format(schema: Schema[Any], *, strict: bool = False) -> OutputFormat:
    """What a call asks of the provider for `schema` (strict: OpenAI's strict form). Built once
    per schema and form (a `Schema` is immutable) and shared, read-only: copying the JSON
    Schema on every call cost more than validating the reply (benchmarks/README.md)."""
    return _output_format(schema, bool(strict))


@functools.lru_cache(maxsize=256)
def _output_format(schema: Schema[Any], strict: bool) -> OutputFormat:
    body = schema.strict_json_schema() if strict else schema.json_schema
    return OutputFormat(MappingProxyType(dict(body)), schema.name, schema.description, strict)


def check_repairs(repairs: int) -> int:
    if isinstance(repairs, bool) or not isinstance(repairs, int) or not 0 <= repairs <= MAX_REPAIRS:
        raise ValidationError(
            [FieldError(("repairs",), f"must be an integer from 0 to {MAX_REPAIRS}")],
            what="generate_object call",
        )
    return repairs


def _json_text(text: str) -> str:
    """The JSON in a reply: the text itself, or the inside of one ``` fence around it (some
    models fence their JSON even in JSON mode)."""
    stripped = text.strip()
    if stripped.startswith("```") and stripped.endswith("```") and len(stripped) > 6:
        inner = stripped[3:-3]
        newline = inner.find("\n")
        if newline >= 0 and inner[:newline].strip().isalpha():  # ```json
            inner = inner[newline + 1 :]
        return inner.strip()
    return stripped


def _parse(reply: GenerateTextResponse) -> tuple[Any, tuple[SchemaError, ...]]:
    """The reply's JSON value, or the problem with it as a root error."""
    text = _json_text(reply.text)
    try:
        return _json.loads(text), ()
    except ValueError as error:
        cut = " (the reply was cut at max_tokens)" if reply.finish_reason == "length" else ""
        detail = str(error).splitlines()[0][:160] if str(error) else "not JSON"
        return None, (SchemaError((), f"the reply is not JSON{cut}: {detail}"),)


def _decode(
    schema: Schema[Any], reply: GenerateTextResponse
) -> tuple[Any, tuple[SchemaError, ...]]:
    value, problems = _parse(reply)
    if problems:
        if reply.text and not schema.errors(reply.text):  # a bare string for a string schema
            return schema.decode(reply.text), ()  # (Workers AI JSON mode gives the value)
        return None, problems
    try:
        return schema.decode(value), ()
    except SchemaMismatch as mismatch:
        return None, mismatch.errors
    except RecursionError:  # nested deeper than the validator can follow
        return None, (SchemaError((), f"the reply cannot be checked: {_json.TOO_DEEP}"),)


def _repair_request(problems: tuple[SchemaError, ...]) -> Message:
    listed = "\n".join(f"- {problem}" for problem in problems[:_SHOWN_ERRORS])
    more = len(problems) - _SHOWN_ERRORS
    if more > 0:
        listed += f"\n- and {more} more"
    return Message.user(
        "Your reply does not match the required JSON schema:\n"
        f"{listed}\n"
        "Reply again with only the corrected JSON value."
    )


def _failure(
    problems: tuple[SchemaError, ...], reply: GenerateTextResponse, steps: tuple[Step, ...]
) -> AiError:
    first = problems[0]
    attempts = len(steps)
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    return AiError(
        InvalidOutput(
            message=f"the model's output does not match the schema{tries}: {first}",
            log_id=reply.log_id,
            details=tuple(
                ErrorDetail(None, p.message, tuple(str(part) for part in p.path)) for p in problems
            ),
            text=reply.text,
            steps=steps,
        )
    )


async def generate_object(
    step: StepCall, messages: tuple[Message, ...], schema: Schema[T], *, repairs: int = 0
) -> GenerateObjectResponse[T]:
    """Call the model until its reply decodes to `schema`, at most `1 + repairs` times."""
    conversation = messages
    steps: list[Step] = []
    usage = EMPTY_USAGE
    while True:
        reply = await step(conversation)
        steps.append(Step.of(reply))
        usage = add_usage(usage, reply.usage)
        value, problems = _decode(schema, reply)
        if not problems:
            return GenerateObjectResponse(
                value=value,
                text=reply.text,
                usage=usage,
                finish_reason=reply.finish_reason,
                model=reply.model,
                response_id=reply.response_id,
                cache_status=reply.cache_status,
                log_id=reply.log_id,
                attempts=len(steps),
                raw=reply.raw,
            )
        if len(steps) > repairs:
            raise _failure(problems, reply, tuple(steps))
        conversation = (*conversation, Message.assistant(reply.text), _repair_request(problems))


__all__ = ["MAX_REPAIRS", "StepCall", "check_repairs", "generate_object", "output_format"]
