"""aigateway_sdk: the async Python SDK for Cloudflare AI Gateway.

binding = GatewayBinding.from_env()
lm = binding.model(model="@cf/meta/llama-3.1-8b-instruct")
response = await lm.generate_text(prompt="Say hello.")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aigateway_sdk.binding import (
        DEFAULT_API_URL,
        DEFAULT_DATA_URL,
        GatewayBinding,
    )
    from aigateway_sdk.container import (
        AiGatewayBinding,
        AiGatewayContainer,
        BindingProvider,
    )
    from aigateway_sdk.control import (
        AiGateway,
        ApplyResult,
        Create,
        FieldChange,
        Gateway,
        GatewayAdmin,
        GatewaySettings,
        LogBody,
        LogEntry,
        LogFilter,
        LogsClient,
        NoChange,
        Plan,
        SpecLoadError,
        Update,
        ensure_gateway,
        gateway_id_from_name,
        load_specs,
    )
    from aigateway_sdk.errors import (
        AiError,
        AuthenticationFailed,
        Conflict,
        Defect,
        ErrorDetail,
        InvalidRequest,
        MalformedOutput,
        NetworkError,
        NotFound,
        PermissionDenied,
        ProviderError,
        RateLimited,
        Reason,
        Timeout,
        UnexpectedStatus,
    )
    from aigateway_sdk.gateway_model import (
        GatewayLanguageModel,
        Route,
    )
    from aigateway_sdk.model import (
        LanguageModel,
    )
    from aigateway_sdk.options import (
        CustomCost,
        GatewayOptions,
    )
    from aigateway_sdk.parameters import (
        ModelParameters,
    )
    from aigateway_sdk.parts import (
        Finish,
        ResponseMetadata,
        StreamPart,
        TextDelta,
        TextEnd,
        TextStart,
    )
    from aigateway_sdk.prompt import (
        Message,
        PromptInput,
    )
    from aigateway_sdk.response import (
        FinishReason,
        GenerateTextResponse,
        InputTokens,
        OutputTokens,
        Usage,
    )
    from aigateway_sdk.result import (
        AiCall,
        AiStream,
        Err,
        Ok,
    )
    from aigateway_sdk.sse_response import (
        SSE_HEADERS,
        sse_encode,
    )
    from aigateway_sdk.transport.pool import PooledTransport
    from aigateway_sdk.transport.retry import (
        NO_RETRY,
        RetryPolicy,
    )
    from aigateway_sdk.validation import (
        FieldError,
        ValidationError,
    )

__version__ = "0.1.0"

# Names resolve on first use (PEP 562), so `import aigateway_sdk` stays cheap: the container
# (dependency-injector), the control plane and httpx load only when a program needs them.
_LAZY: dict[str, str] = {
    "AiCall": "aigateway_sdk.result",
    "AiError": "aigateway_sdk.errors",
    "AiGateway": "aigateway_sdk.control",
    "AiGatewayBinding": "aigateway_sdk.container",
    "AiGatewayContainer": "aigateway_sdk.container",
    "AiStream": "aigateway_sdk.result",
    "ApplyResult": "aigateway_sdk.control",
    "AuthenticationFailed": "aigateway_sdk.errors",
    "BindingProvider": "aigateway_sdk.container",
    "Conflict": "aigateway_sdk.errors",
    "Create": "aigateway_sdk.control",
    "CustomCost": "aigateway_sdk.options",
    "DEFAULT_API_URL": "aigateway_sdk.binding",
    "DEFAULT_DATA_URL": "aigateway_sdk.binding",
    "Defect": "aigateway_sdk.errors",
    "Err": "aigateway_sdk.result",
    "ErrorDetail": "aigateway_sdk.errors",
    "FieldChange": "aigateway_sdk.control",
    "FieldError": "aigateway_sdk.validation",
    "Finish": "aigateway_sdk.parts",
    "FinishReason": "aigateway_sdk.response",
    "Gateway": "aigateway_sdk.control",
    "GatewayAdmin": "aigateway_sdk.control",
    "GatewayBinding": "aigateway_sdk.binding",
    "GatewayLanguageModel": "aigateway_sdk.gateway_model",
    "GatewayOptions": "aigateway_sdk.options",
    "GatewaySettings": "aigateway_sdk.control",
    "GenerateTextResponse": "aigateway_sdk.response",
    "InputTokens": "aigateway_sdk.response",
    "InvalidRequest": "aigateway_sdk.errors",
    "LanguageModel": "aigateway_sdk.model",
    "LogBody": "aigateway_sdk.control",
    "LogEntry": "aigateway_sdk.control",
    "LogFilter": "aigateway_sdk.control",
    "LogsClient": "aigateway_sdk.control",
    "MalformedOutput": "aigateway_sdk.errors",
    "Message": "aigateway_sdk.prompt",
    "ModelParameters": "aigateway_sdk.parameters",
    "NO_RETRY": "aigateway_sdk.transport.retry",
    "NetworkError": "aigateway_sdk.errors",
    "NoChange": "aigateway_sdk.control",
    "NotFound": "aigateway_sdk.errors",
    "Ok": "aigateway_sdk.result",
    "OutputTokens": "aigateway_sdk.response",
    "PermissionDenied": "aigateway_sdk.errors",
    "PooledTransport": "aigateway_sdk.transport.pool",
    "Plan": "aigateway_sdk.control",
    "PromptInput": "aigateway_sdk.prompt",
    "ProviderError": "aigateway_sdk.errors",
    "RateLimited": "aigateway_sdk.errors",
    "Reason": "aigateway_sdk.errors",
    "ResponseMetadata": "aigateway_sdk.parts",
    "RetryPolicy": "aigateway_sdk.transport.retry",
    "Route": "aigateway_sdk.gateway_model",
    "SSE_HEADERS": "aigateway_sdk.sse_response",
    "SpecLoadError": "aigateway_sdk.control",
    "StreamPart": "aigateway_sdk.parts",
    "TextDelta": "aigateway_sdk.parts",
    "TextEnd": "aigateway_sdk.parts",
    "TextStart": "aigateway_sdk.parts",
    "Timeout": "aigateway_sdk.errors",
    "UnexpectedStatus": "aigateway_sdk.errors",
    "Update": "aigateway_sdk.control",
    "Usage": "aigateway_sdk.response",
    "ValidationError": "aigateway_sdk.validation",
    "ensure_gateway": "aigateway_sdk.control",
    "gateway_id_from_name": "aigateway_sdk.control",
    "load_specs": "aigateway_sdk.control",
    "sse_encode": "aigateway_sdk.sse_response",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'aigateway_sdk' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_DATA_URL",
    "NO_RETRY",
    "SSE_HEADERS",
    "AiCall",
    "AiError",
    "AiGateway",
    "AiGatewayBinding",
    "AiGatewayContainer",
    "AiStream",
    "ApplyResult",
    "AuthenticationFailed",
    "BindingProvider",
    "Conflict",
    "Create",
    "CustomCost",
    "Defect",
    "Err",
    "ErrorDetail",
    "FieldChange",
    "FieldError",
    "Finish",
    "FinishReason",
    "Gateway",
    "GatewayAdmin",
    "GatewayBinding",
    "GatewayLanguageModel",
    "GatewayOptions",
    "GatewaySettings",
    "GenerateTextResponse",
    "InputTokens",
    "InvalidRequest",
    "LanguageModel",
    "LogBody",
    "LogEntry",
    "LogFilter",
    "LogsClient",
    "MalformedOutput",
    "Message",
    "ModelParameters",
    "NetworkError",
    "NoChange",
    "NotFound",
    "Ok",
    "OutputTokens",
    "PermissionDenied",
    "Plan",
    "PooledTransport",
    "PromptInput",
    "ProviderError",
    "RateLimited",
    "Reason",
    "ResponseMetadata",
    "RetryPolicy",
    "Route",
    "SpecLoadError",
    "StreamPart",
    "TextDelta",
    "TextEnd",
    "TextStart",
    "Timeout",
    "UnexpectedStatus",
    "Update",
    "Usage",
    "ValidationError",
    "__version__",
    "ensure_gateway",
    "gateway_id_from_name",
    "load_specs",
    "sse_encode",
]
