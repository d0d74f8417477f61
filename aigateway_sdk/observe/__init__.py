"""Observability: the `aigateway_sdk` logger (`log`) and OpenTelemetry GenAI spans and metrics
(`instrument()`, which imports OpenTelemetry only when called)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aigateway_sdk.observe.log import configure as configure_logging
    from aigateway_sdk.observe.otel import instrument, uninstrument

_LAZY = {
    "configure_logging": ("aigateway_sdk.observe.log", "configure"),
    "instrument": ("aigateway_sdk.observe.otel", "instrument"),
    "uninstrument": ("aigateway_sdk.observe.otel", "uninstrument"),
}


def __getattr__(name: str) -> Any:
    found = _LAZY.get(name)
    if found is None:
        raise AttributeError(f"module 'aigateway_sdk.observe' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(found[0]), found[1])


__all__ = ["configure_logging", "instrument", "uninstrument"]
