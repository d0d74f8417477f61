"""aigateway_sdk: the async Python SDK for Cloudflare AI Gateway.

binding = GatewayBinding.from_env()
lm = binding.model(model="@cf/meta/llama-3.1-8b-instruct")
response = await lm.generate_text(prompt="Say hello.")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# The public API, each name once, under the module that defines it. `__all__` and the names
# resolved on first use (`_LAZY`) derive from this table.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "aigateway_sdk.errors": (
        "AiError",
        "AuthenticationFailed",
        "Conflict",
        "Defect",
        "ErrorDetail",
        "InvalidOutput",
        "InvalidRequest",
        "InvalidToolArguments",
        "MalformedOutput",
        "MaxStepsExceeded",
        "NetworkError",
        "NotFound",
        "PermissionDenied",
        "ProviderError",
        "RateLimited",
        "Reason",
        "RouteFailed",
        "Timeout",
        "ToolFailed",
        "ToolLoopReason",
        "UnexpectedStatus",
        "UnknownModel",
        "UnknownTool",
    ),
    "aigateway_sdk.validation": ("FieldError", "ValidationError"),
    "aigateway_sdk.options": ("CustomCost", "GatewayOptions"),
    "aigateway_sdk.parameters": ("ModelParameters",),
    "aigateway_sdk.prompt": ("Message", "PromptInput"),
    "aigateway_sdk.content": ("ImagePart", "TextPart", "ToolCall", "ToolResult"),
    "aigateway_sdk.request": ("OutputFormat", "ToolDefinition", "ToolsRequest"),
    "aigateway_sdk.response": (
        "FinishReason",
        "GenerateObjectResponse",
        "GenerateTextResponse",
        "InputTokens",
        "OutputTokens",
        "RawReply",
        "Step",
        "Usage",
    ),
    "aigateway_sdk.parts": (
        "Finish",
        "ResponseMetadata",
        "StreamPart",
        "TextDelta",
        "TextEnd",
        "TextStart",
        "ToolCallPart",
        "ToolParamsDelta",
        "ToolParamsEnd",
        "ToolParamsStart",
        "ToolResultPart",
    ),
    "aigateway_sdk.result": ("AiCall", "AiStream", "Err", "Ok"),
    "aigateway_sdk.model": ("LanguageModel",),
    "aigateway_sdk.schema": ("Constraints", "Injected", "Schema", "SchemaError", "SchemaMismatch"),
    "aigateway_sdk.tools": ("Tool", "ToolError", "Toolkit", "tool"),
    "aigateway_sdk.sse_response": ("SSE_HEADERS", "sse_encode"),
    # These import httpx (the container also dependency-injector).
    "aigateway_sdk.binding": ("DEFAULT_API_URL", "DEFAULT_DATA_URL", "GatewayBinding"),
    "aigateway_sdk.gateway_model": ("GatewayLanguageModel", "Route"),
    "aigateway_sdk.embedding": (
        "EmbedResponse",
        "EmbeddingModel",
        "EmbeddingRoute",
        "GatewayEmbeddingModel",
    ),
    "aigateway_sdk.transport.pool": ("PooledTransport",),
    "aigateway_sdk.transport.retry": ("NO_RETRY", "RetryPolicy"),
    "aigateway_sdk.catalog": (
        "ModelCatalog",
        "ModelInfo",
        "ModelPrice",
        "ModelProperty",
        "ModelTask",
    ),
    "aigateway_sdk.cassettes": (
        "Cassette",
        "CassetteError",
        "CassetteFormatError",
        "CassetteMissError",
        "CassetteNotFoundError",
    ),
    "aigateway_sdk.contract.spend": (
        "SPEND_LIMITED_CODE",
        "SpendFilter",
        "SpendLimits",
        "SpendPartition",
        "SpendRule",
    ),
    "aigateway_sdk.container": ("AiGatewayBinding", "AiGatewayContainer", "BindingProvider"),
    "aigateway_sdk.control": (
        "AiGateway",
        "AiRoute",
        "ApplyResult",
        "Create",
        "FieldChange",
        "Gateway",
        "GatewayAdmin",
        "GatewaySettings",
        "LogBody",
        "LogEntry",
        "LogFilter",
        "LogsClient",
        "NoChange",
        "Plan",
        "ProviderKey",
        "ProviderKeysClient",
        "RouteAdmin",
        "SpecLoadError",
        "Update",
        "ensure_gateway",
        "gateway_id_from_name",
        "load_specs",
    ),
}

__all__ = ["__version__", *(name for names in _EXPORTS.values() for name in names)]

_LAZY: dict[str, str] = {name: module for module, names in _EXPORTS.items() for name in names}
"""Name -> the module that defines it. Every name resolves on first use (PEP 562): the modules
that import httpx or dependency-injector are most of the SDK's import time, and the value
modules are not free either (building their attrs classes and importing attrs took ~60 of
~80 ms when they were loaded with the package), so `import aigateway_sdk` alone loads none."""


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'aigateway_sdk' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if TYPE_CHECKING:
    # What type checkers see: the table above as imports (tests/sdk/test_public_api.py
    # checks the two list the same names).
    from aigateway_sdk.binding import DEFAULT_API_URL as DEFAULT_API_URL
    from aigateway_sdk.binding import DEFAULT_DATA_URL as DEFAULT_DATA_URL
    from aigateway_sdk.binding import GatewayBinding as GatewayBinding
    from aigateway_sdk.cassettes import Cassette as Cassette
    from aigateway_sdk.cassettes import CassetteError as CassetteError
    from aigateway_sdk.cassettes import CassetteFormatError as CassetteFormatError
    from aigateway_sdk.cassettes import CassetteMissError as CassetteMissError
    from aigateway_sdk.cassettes import CassetteNotFoundError as CassetteNotFoundError
    from aigateway_sdk.catalog import ModelCatalog as ModelCatalog
    from aigateway_sdk.catalog import ModelInfo as ModelInfo
    from aigateway_sdk.catalog import ModelPrice as ModelPrice
    from aigateway_sdk.catalog import ModelProperty as ModelProperty
    from aigateway_sdk.catalog import ModelTask as ModelTask
    from aigateway_sdk.container import AiGatewayBinding as AiGatewayBinding
    from aigateway_sdk.container import AiGatewayContainer as AiGatewayContainer
    from aigateway_sdk.container import BindingProvider as BindingProvider
    from aigateway_sdk.content import ImagePart as ImagePart
    from aigateway_sdk.content import TextPart as TextPart
    from aigateway_sdk.content import ToolCall as ToolCall
    from aigateway_sdk.content import ToolResult as ToolResult
    from aigateway_sdk.contract.spend import SPEND_LIMITED_CODE as SPEND_LIMITED_CODE
    from aigateway_sdk.contract.spend import SpendFilter as SpendFilter
    from aigateway_sdk.contract.spend import SpendLimits as SpendLimits
    from aigateway_sdk.contract.spend import SpendPartition as SpendPartition
    from aigateway_sdk.contract.spend import SpendRule as SpendRule
    from aigateway_sdk.control import AiGateway as AiGateway
    from aigateway_sdk.control import AiRoute as AiRoute
    from aigateway_sdk.control import ApplyResult as ApplyResult
    from aigateway_sdk.control import Create as Create
    from aigateway_sdk.control import FieldChange as FieldChange
    from aigateway_sdk.control import Gateway as Gateway
    from aigateway_sdk.control import GatewayAdmin as GatewayAdmin
    from aigateway_sdk.control import GatewaySettings as GatewaySettings
    from aigateway_sdk.control import LogBody as LogBody
    from aigateway_sdk.control import LogEntry as LogEntry
    from aigateway_sdk.control import LogFilter as LogFilter
    from aigateway_sdk.control import LogsClient as LogsClient
    from aigateway_sdk.control import NoChange as NoChange
    from aigateway_sdk.control import Plan as Plan
    from aigateway_sdk.control import ProviderKey as ProviderKey
    from aigateway_sdk.control import ProviderKeysClient as ProviderKeysClient
    from aigateway_sdk.control import RouteAdmin as RouteAdmin
    from aigateway_sdk.control import SpecLoadError as SpecLoadError
    from aigateway_sdk.control import Update as Update
    from aigateway_sdk.control import ensure_gateway as ensure_gateway
    from aigateway_sdk.control import gateway_id_from_name as gateway_id_from_name
    from aigateway_sdk.control import load_specs as load_specs
    from aigateway_sdk.embedding import EmbeddingModel as EmbeddingModel
    from aigateway_sdk.embedding import EmbeddingRoute as EmbeddingRoute
    from aigateway_sdk.embedding import EmbedResponse as EmbedResponse
    from aigateway_sdk.embedding import GatewayEmbeddingModel as GatewayEmbeddingModel
    from aigateway_sdk.errors import AiError as AiError
    from aigateway_sdk.errors import AuthenticationFailed as AuthenticationFailed
    from aigateway_sdk.errors import Conflict as Conflict
    from aigateway_sdk.errors import Defect as Defect
    from aigateway_sdk.errors import ErrorDetail as ErrorDetail
    from aigateway_sdk.errors import InvalidOutput as InvalidOutput
    from aigateway_sdk.errors import InvalidRequest as InvalidRequest
    from aigateway_sdk.errors import InvalidToolArguments as InvalidToolArguments
    from aigateway_sdk.errors import MalformedOutput as MalformedOutput
    from aigateway_sdk.errors import MaxStepsExceeded as MaxStepsExceeded
    from aigateway_sdk.errors import NetworkError as NetworkError
    from aigateway_sdk.errors import NotFound as NotFound
    from aigateway_sdk.errors import PermissionDenied as PermissionDenied
    from aigateway_sdk.errors import ProviderError as ProviderError
    from aigateway_sdk.errors import RateLimited as RateLimited
    from aigateway_sdk.errors import Reason as Reason
    from aigateway_sdk.errors import RouteFailed as RouteFailed
    from aigateway_sdk.errors import Timeout as Timeout
    from aigateway_sdk.errors import ToolFailed as ToolFailed
    from aigateway_sdk.errors import ToolLoopReason as ToolLoopReason
    from aigateway_sdk.errors import UnexpectedStatus as UnexpectedStatus
    from aigateway_sdk.errors import UnknownModel as UnknownModel
    from aigateway_sdk.errors import UnknownTool as UnknownTool
    from aigateway_sdk.gateway_model import GatewayLanguageModel as GatewayLanguageModel
    from aigateway_sdk.gateway_model import Route as Route
    from aigateway_sdk.model import LanguageModel as LanguageModel
    from aigateway_sdk.options import CustomCost as CustomCost
    from aigateway_sdk.options import GatewayOptions as GatewayOptions
    from aigateway_sdk.parameters import ModelParameters as ModelParameters
    from aigateway_sdk.parts import Finish as Finish
    from aigateway_sdk.parts import ResponseMetadata as ResponseMetadata
    from aigateway_sdk.parts import StreamPart as StreamPart
    from aigateway_sdk.parts import TextDelta as TextDelta
    from aigateway_sdk.parts import TextEnd as TextEnd
    from aigateway_sdk.parts import TextStart as TextStart
    from aigateway_sdk.parts import ToolCallPart as ToolCallPart
    from aigateway_sdk.parts import ToolParamsDelta as ToolParamsDelta
    from aigateway_sdk.parts import ToolParamsEnd as ToolParamsEnd
    from aigateway_sdk.parts import ToolParamsStart as ToolParamsStart
    from aigateway_sdk.parts import ToolResultPart as ToolResultPart
    from aigateway_sdk.prompt import Message as Message
    from aigateway_sdk.prompt import PromptInput as PromptInput
    from aigateway_sdk.request import OutputFormat as OutputFormat
    from aigateway_sdk.request import ToolDefinition as ToolDefinition
    from aigateway_sdk.request import ToolsRequest as ToolsRequest
    from aigateway_sdk.response import FinishReason as FinishReason
    from aigateway_sdk.response import GenerateObjectResponse as GenerateObjectResponse
    from aigateway_sdk.response import GenerateTextResponse as GenerateTextResponse
    from aigateway_sdk.response import InputTokens as InputTokens
    from aigateway_sdk.response import OutputTokens as OutputTokens
    from aigateway_sdk.response import RawReply as RawReply
    from aigateway_sdk.response import Step as Step
    from aigateway_sdk.response import Usage as Usage
    from aigateway_sdk.result import AiCall as AiCall
    from aigateway_sdk.result import AiStream as AiStream
    from aigateway_sdk.result import Err as Err
    from aigateway_sdk.result import Ok as Ok
    from aigateway_sdk.schema import Constraints as Constraints
    from aigateway_sdk.schema import Injected as Injected
    from aigateway_sdk.schema import Schema as Schema
    from aigateway_sdk.schema import SchemaError as SchemaError
    from aigateway_sdk.schema import SchemaMismatch as SchemaMismatch
    from aigateway_sdk.sse_response import SSE_HEADERS as SSE_HEADERS
    from aigateway_sdk.sse_response import sse_encode as sse_encode
    from aigateway_sdk.tools import Tool as Tool
    from aigateway_sdk.tools import ToolError as ToolError
    from aigateway_sdk.tools import Toolkit as Toolkit
    from aigateway_sdk.tools import tool as tool
    from aigateway_sdk.transport.pool import PooledTransport as PooledTransport
    from aigateway_sdk.transport.retry import NO_RETRY as NO_RETRY
    from aigateway_sdk.transport.retry import RetryPolicy as RetryPolicy
    from aigateway_sdk.validation import FieldError as FieldError
    from aigateway_sdk.validation import ValidationError as ValidationError
