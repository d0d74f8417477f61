"""aigateway_sdk: the async Python SDK for Cloudflare AI Gateway.

binding = GatewayBinding.from_env()
lm = binding.model(model="@cf/meta/llama-3.1-8b-instruct")
response = await lm.generate_text(prompt="Say hello.")
"""

from aigateway_sdk.binding import DEFAULT_API_URL, DEFAULT_DATA_URL, GatewayBinding
from aigateway_sdk.container import AiGatewayBinding, AiGatewayContainer, BindingProvider
from aigateway_sdk.control.spec import AiGateway, GatewaySettings
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
from aigateway_sdk.gateway_model import GatewayLanguageModel, Route
from aigateway_sdk.model import LanguageModel
from aigateway_sdk.options import CustomCost, GatewayOptions
from aigateway_sdk.parameters import ModelParameters
from aigateway_sdk.parts import (
    Finish,
    ResponseMetadata,
    StreamPart,
    TextDelta,
    TextEnd,
    TextStart,
)
from aigateway_sdk.prompt import Message, PromptInput
from aigateway_sdk.response import (
    FinishReason,
    GenerateTextResponse,
    InputTokens,
    OutputTokens,
    Usage,
)
from aigateway_sdk.result import AiCall, AiStream, Err, Ok
from aigateway_sdk.sse_encode import SSE_HEADERS, sse_encode
from aigateway_sdk.transport.retry import NO_RETRY, RetryPolicy
from aigateway_sdk.validation import FieldError, ValidationError

__version__ = "0.1.0"

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
    "AuthenticationFailed",
    "BindingProvider",
    "Conflict",
    "CustomCost",
    "Defect",
    "Err",
    "ErrorDetail",
    "FieldError",
    "Finish",
    "FinishReason",
    "GatewayBinding",
    "GatewayLanguageModel",
    "GatewayOptions",
    "GatewaySettings",
    "GenerateTextResponse",
    "InputTokens",
    "InvalidRequest",
    "LanguageModel",
    "MalformedOutput",
    "Message",
    "ModelParameters",
    "NetworkError",
    "NotFound",
    "Ok",
    "OutputTokens",
    "PermissionDenied",
    "PromptInput",
    "ProviderError",
    "RateLimited",
    "Reason",
    "ResponseMetadata",
    "RetryPolicy",
    "Route",
    "StreamPart",
    "TextDelta",
    "TextEnd",
    "TextStart",
    "Timeout",
    "UnexpectedStatus",
    "Usage",
    "ValidationError",
    "__version__",
    "sse_encode",
]
