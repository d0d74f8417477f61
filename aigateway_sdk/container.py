"""dependency-injector wiring: config -> binding -> model providers.

    class Container(containers.DeclarativeContainer):
        config = providers.Configuration()
        ai_gateway = AiGatewayBinding(Gateway, account_id=config.account_id,
                                      api_token=config.api_token)
        language_model = ai_gateway.model(model="@cf/meta/llama-3.1-8b-instruct")

Providers stay synchronous (dependency-injector's async providers are asyncio-only) so the SDK
runs on trio too; all I/O happens inside the model's calls. `BindingProvider` keeps Singleton's
constructor untouched, because dependency-injector deep-copies providers through it.

Overrides: `Container()` deep-copies the class's providers, so on a plain provider an override
of the class provider made after the container was built (`Container.language_model.override(
...)`) never reaches that container, and the real model would still be called. The SDK's
providers remember the provider they were copied from and follow its overrides while they are
active: overriding the class provider or the container's provider both work, before or after
the container is built, and undoing the class override restores every container.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from dependency_injector import containers, providers

from aigateway_sdk.binding import GatewayBinding
from aigateway_sdk.embedding import GatewayEmbeddingModel
from aigateway_sdk.gateway_model import GatewayLanguageModel

if TYPE_CHECKING:
    from aigateway_sdk.control.spec import AiGateway


def _build_model(binding: GatewayBinding, model: str, **kwargs: Any) -> GatewayLanguageModel:
    return binding.model(model, **kwargs)


def _build_embedding_model(
    binding: GatewayBinding, model: str, **kwargs: Any
) -> GatewayEmbeddingModel:
    return binding.embedding_model(model, **kwargs)


_SOURCE = "_aigateway_source"
"""The attribute a copied provider keeps its original in."""


def _copied(original: Any, copied: Any) -> Any:
    """A deep copy that follows `original`'s overrides live instead of a snapshot of them."""
    setattr(copied, _SOURCE, original)
    copied.reset_override()  # the overrides copied from `original` are followed through it
    return copied


def _source_override(provider: Any) -> Any:
    """The active override of the provider this one was copied from (or of its original)."""
    source = getattr(provider, _SOURCE, None)
    while source is not None:
        overriding = source.last_overriding
        if overriding is not None:
            return overriding
        source = getattr(source, _SOURCE, None)
    return None


class ModelProvider(providers.Singleton[GatewayLanguageModel]):
    """A Singleton of `GatewayLanguageModel`; an override of the class provider it was copied
    from (the declaration in a `DeclarativeContainer`) wins while it is active."""

    def __deepcopy__(self, memo: dict[Any, Any] | None) -> ModelProvider:
        return cast(ModelProvider, _copied(self, super().__deepcopy__(memo)))

    def _provide(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        overriding = _source_override(self)
        if overriding is not None:
            return overriding(*args, **kwargs)
        return cast(Any, super())._provide(args, kwargs)


class EmbeddingModelProvider(providers.Singleton[GatewayEmbeddingModel]):
    """A Singleton of `GatewayEmbeddingModel`; follows overrides like `ModelProvider`."""

    def __deepcopy__(self, memo: dict[Any, Any] | None) -> EmbeddingModelProvider:
        return cast(EmbeddingModelProvider, _copied(self, super().__deepcopy__(memo)))

    def _provide(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        overriding = _source_override(self)
        if overriding is not None:
            return overriding(*args, **kwargs)
        return cast(Any, super())._provide(args, kwargs)


class BindingProvider(providers.Singleton[GatewayBinding]):
    """A Singleton of `GatewayBinding` that can build model providers; like `ModelProvider`,
    it follows overrides of the class provider it was copied from."""

    def __deepcopy__(self, memo: dict[Any, Any] | None) -> BindingProvider:
        return cast(BindingProvider, _copied(self, super().__deepcopy__(memo)))

    def _provide(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        overriding = _source_override(self)
        if overriding is not None:
            return overriding(*args, **kwargs)
        return cast(Any, super())._provide(args, kwargs)

    def model(self, model: Any, parameters: Any = None, **kwargs: Any) -> ModelProvider:
        """A provider of the `LanguageModel` for `model`; arguments may be providers too."""
        return ModelProvider(_build_model, self, model, parameters=parameters, **kwargs)

    def embedding_model(self, model: Any, **kwargs: Any) -> EmbeddingModelProvider:
        """A provider of the `EmbeddingModel` for `model`; arguments may be providers too."""
        return EmbeddingModelProvider(_build_embedding_model, self, model, **kwargs)


def AiGatewayBinding(spec: AiGateway | None = None, /, **kwargs: Any) -> BindingProvider:
    """A binding provider, optionally for a declared gateway (`spec.id` is the gateway id)."""
    if spec is not None:
        kwargs.setdefault("gateway_id", spec.id)
        kwargs["spec"] = spec
    return BindingProvider(GatewayBinding, **kwargs)


class AiGatewayContainer(containers.DeclarativeContainer):
    """A ready container: set `config` (account_id, gateway_id, api_token, gateway_token,
    base_url, api_base_url, model) and ask for `language_model`. An unset `model` (or
    `account_id`) raises `ValidationError` naming it when the provider builds."""

    config = providers.Configuration()
    binding = AiGatewayBinding(
        account_id=config.account_id,
        gateway_id=config.gateway_id,
        api_token=config.api_token,
        gateway_token=config.gateway_token,
        base_url=config.base_url,
        api_base_url=config.api_base_url,
    )
    language_model = binding.model(config.model)


__all__ = [
    "AiGatewayBinding",
    "AiGatewayContainer",
    "BindingProvider",
    "EmbeddingModelProvider",
    "ModelProvider",
]
