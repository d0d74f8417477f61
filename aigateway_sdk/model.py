"""The `LanguageModel` service: what handlers ask the container for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, runtime_checkable

from aigateway_sdk.options import GatewayOptions
from aigateway_sdk.parameters import ParametersInput
from aigateway_sdk.prompt import PromptInput
from aigateway_sdk.response import GenerateObjectResponse, GenerateTextResponse
from aigateway_sdk.result import AiCall, AiStream

if TYPE_CHECKING:
    from aigateway_sdk.calls import SchemaSpec
    from aigateway_sdk.tools import Toolkit

T = TypeVar("T")

DEFAULT_MAX_STEPS = 8
"""How many model calls a tool loop makes at most, unless `max_steps=` says otherwise."""
ToolErrorMode = Literal["raise", "return"]


@runtime_checkable
class LanguageModel(Protocol):
    """Generate or stream text, call tools, produce typed objects. Implemented by the gateway
    model and by the testing fakes.

    `prompt` may be given by position or by name; `parameters` may be a dict of
    `ModelParameters` fields; `extra_body` / `extra_headers` add body fields and headers the
    SDK does not model (merged over the model's own).

    Tools: `toolkit=` offers its tools to the model. When the toolkit has handlers, the calls
    the model asks for are run (concurrently) and their results sent back, until the model
    answers or `max_steps` model calls were made; without handlers the calls come back in
    `response.tool_calls` for the caller to run. `tool_choice`: "auto" (default), "none",
    "required", or a tool's name. `on_tool_error="return"` sends a failed call's error to the
    model instead of raising; `tool_timeout` bounds each handler (seconds)."""

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
        toolkit: Toolkit | None = None,
        tool_choice: str | None = None,
        max_steps: int = DEFAULT_MAX_STEPS,
        on_tool_error: ToolErrorMode = "raise",
        tool_timeout: float | None = None,
    ) -> AiCall[GenerateTextResponse]: ...

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
    ) -> AiStream: ...

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
        """A reply that is JSON matching `schema` (an attrs class, dataclass, TypedDict,
        pydantic model, `Schema`, or a JSON Schema dict), decoded to its type. `repairs=N`:
        on a reply that does not match, show the model what is wrong and ask again, up to N
        times. `strict`: OpenAI's strict structured outputs."""
        ...


__all__ = ["DEFAULT_MAX_STEPS", "LanguageModel", "ToolErrorMode"]
