"""The one switch the SDK's core reads on every call: `tracing`, None unless `instrument()` ran.

Core modules read `hooks.tracing` (one module attribute) and do nothing more when it is None,
so tracing costs nothing when it is off and OpenTelemetry is never imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aigateway_sdk.observe.otel import Tracing

tracing: Tracing | None = None
"""The active OpenTelemetry instrumentation (`aigateway_sdk.observe.instrument()`), or None."""

__all__ = ["tracing"]
