"""dependency-injector wiring: config -> binding -> model providers.

    class Container(containers.DeclarativeContainer):
        config = providers.Configuration()
        ai_gateway = AiGatewayBinding(Gateway, account_id=config.account_id,
                                      api_token=config.api_token)
        language_model = ai_gateway.model(model="@cf/meta/llama-3.1-8b-instruct")

Providers stay synchronous (dependency-injector's async providers are asyncio-only) so the SDK
runs on trio too; all I/O happens inside the model's calls. `BindingProvider` keeps Singleton's
constructor untouched, because dependency-injector deep-copies providers through it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dependency_injector import containers, providers

from aigateway_sdk.binding import GatewayBinding
from aigateway_sdk.gateway_model import GatewayLanguageModel

if TYPE_CHECKING:
    from aigateway_sdk.control.spec import AiGateway


def _build_model(binding: GatewayBinding, model: str, **kwargs: Any) -> GatewayLanguageModel:
    return binding.model(model, **kwargs)


class BindingProvider(providers.Singleton[GatewayBinding]):
    """A Singleton of `GatewayBinding` that can build model providers."""

    def model(
        self, model: Any, parameters: Any = None, **kwargs: Any
    ) -> providers.Singleton[GatewayLanguageModel]:
        """A provider of the `LanguageModel` for `model`; arguments may be providers too."""
        return providers.Singleton(_build_model, self, model, parameters=parameters, **kwargs)


def AiGatewayBinding(spec: AiGateway | None = None, /, **kwargs: Any) -> BindingProvider:
    """A binding provider, optionally for a declared gateway (`spec.id` is the gateway id)."""
    if spec is not None:
        kwargs.setdefault("gateway_id", spec.id)
        kwargs["spec"] = spec
    return BindingProvider(GatewayBinding, **kwargs)


class AiGatewayContainer(containers.DeclarativeContainer):
    """A ready container: set `config` (account_id, gateway_id, api_token, gateway_token,
    base_url, model) and ask for `language_model`."""

    config = providers.Configuration()
    binding = AiGatewayBinding(
        account_id=config.account_id,
        gateway_id=config.gateway_id,
        api_token=config.api_token,
        gateway_token=config.gateway_token,
        base_url=config.base_url,
    )
    language_model = binding.model(config.model.as_(str))


__all__ = ["AiGatewayBinding", "AiGatewayContainer", "BindingProvider"]
