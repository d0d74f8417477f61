"""The `LanguageModel` service: what handlers ask the container for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from aigateway_sdk.options import GatewayOptions
from aigateway_sdk.parameters import ParametersInput
from aigateway_sdk.prompt import PromptInput
from aigateway_sdk.response import GenerateTextResponse
from aigateway_sdk.result import AiCall, AiStream


@runtime_checkable
class LanguageModel(Protocol):
    """Generate or stream text. Implemented by the gateway model and by the testing fakes.

    `prompt` may be given by position or by name; `parameters` may be a dict of
    `ModelParameters` fields; `extra_body` / `extra_headers` add body fields and headers the
    SDK does not model (merged over the model's own)."""

    @property
    def model_id(self) -> str: ...

    def generate_text(
        self,
        prompt: PromptInput,
        *,
        parameters: ParametersInput | None = None,
        options: GatewayOptions | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> AiCall[GenerateTextResponse]: ...

    def stream_text(
        self,
        prompt: PromptInput,
        *,
        parameters: ParametersInput | None = None,
        options: GatewayOptions | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> AiStream: ...


__all__ = ["LanguageModel"]
