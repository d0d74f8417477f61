"""Gateway options: the `cf-aig-*` request headers, set per binding, per model or per call.

A narrower level wins field by field: call over model over binding. Headers are computed once
per model and only merged again when a call brings options of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

from aigateway_sdk import _json
from aigateway_sdk.validation import FieldError, ValidationError

Backoff = Literal["constant", "linear", "exponential"]
MetadataValue = str | int | float | bool
MAX_METADATA_ENTRIES = 5
MAX_CACHE_TTL = 30 * 24 * 3600  # one month, Cloudflare's documented maximum


def _fail(field: str, message: str) -> ValidationError:
    return ValidationError([FieldError((field,), message)], what="gateway options")


def _int_range(low: int, high: int | None) -> Any:
    def check(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(attribute.name, "must be an integer")
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f">= {low}"
            raise _fail(attribute.name, f"must be {bound}, got {value}")

    return check


def _check_metadata(_instance: Any, _attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise _fail("metadata", "must be a mapping")
    if len(value) > MAX_METADATA_ENTRIES:
        raise _fail("metadata", f"at most {MAX_METADATA_ENTRIES} entries, got {len(value)}")
    for key, item in value.items():
        if not isinstance(key, str):
            raise _fail("metadata", f"keys must be strings, got {key!r}")
        if not isinstance(item, str | int | float | bool):
            raise _fail(f"metadata.{key}", "values must be strings, numbers or booleans")


def _check_text(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not value:
        raise _fail(attribute.name, "must be a non-empty string")
    if any(c in value for c in "\r\n\0"):
        raise _fail(attribute.name, "must not contain line breaks or NUL")


def _check_backoff(_instance: Any, _attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and value not in ("constant", "linear", "exponential"):
        raise _fail("backoff", "must be 'constant', 'linear' or 'exponential'")


def _freeze_metadata(
    value: Mapping[str, MetadataValue] | None,
) -> Mapping[str, MetadataValue] | None:
    return None if value is None else dict(value) if isinstance(value, Mapping) else value


@attrs.frozen(slots=True, kw_only=True)
class CustomCost:
    """`cf-aig-custom-cost`: per-token prices, or one total for the request."""

    per_token_in: float | None = None
    per_token_out: float | None = None
    total_cost: float | None = None

    def to_json(self) -> dict[str, float]:
        return {k: v for k, v in attrs.asdict(self).items() if v is not None}


@attrs.frozen(slots=True, kw_only=True)
class GatewayOptions:
    """Per-request gateway behaviour. `None` means "not set here"."""

    cache_ttl: int | None = attrs.field(default=None, validator=_int_range(0, MAX_CACHE_TTL))
    """Seconds to cache this reply (`cf-aig-cache-ttl`)."""
    skip_cache: bool | None = None
    """Do not serve from the cache (`cf-aig-skip-cache`)."""
    cache_key: str | None = attrs.field(default=None, validator=_check_text)
    """A custom cache key (`cf-aig-cache-key`)."""
    metadata: Mapping[str, MetadataValue] | None = attrs.field(
        default=None, converter=_freeze_metadata, validator=_check_metadata
    )
    """Up to 5 entries stored with the log (`cf-aig-metadata`); not part of the cache key."""
    collect_log: bool | None = None
    """Override the gateway's `collect_logs` for this request (`cf-aig-collect-log`)."""
    event_id: str | None = attrs.field(default=None, validator=_check_text)
    """A caller-chosen id stored with the log (`cf-aig-event-id`)."""
    request_timeout_ms: int | None = attrs.field(default=None, validator=_int_range(1, None))
    """Milliseconds the gateway waits for the provider's first byte (`cf-aig-request-timeout`)."""
    max_attempts: int | None = attrs.field(default=None, validator=_int_range(1, 5))
    """Attempts the gateway makes at the provider (`cf-aig-max-attempts`)."""
    retry_delay_ms: int | None = attrs.field(default=None, validator=_int_range(0, 5_000))
    """Milliseconds between the gateway's attempts (`cf-aig-retry-delay`)."""
    backoff: Backoff | None = attrs.field(default=None, validator=_check_backoff)
    """How the gateway's retry delay grows (`cf-aig-backoff`)."""
    custom_cost: CustomCost | None = None
    """Cost to record for this request (`cf-aig-custom-cost`)."""

    def merged(self, override: GatewayOptions | None) -> GatewayOptions:
        """These options with every field set in `override` replacing ours."""
        if override is None:
            return self
        changes = {
            a.name: value
            for a in attrs.fields(GatewayOptions)
            if (value := getattr(override, a.name)) is not None
        }
        return attrs.evolve(self, **changes) if changes else self

    def headers(self) -> dict[str, str]:
        """The `cf-aig-*` headers for these options."""
        out: dict[str, str] = {}
        if self.cache_ttl is not None:
            out["cf-aig-cache-ttl"] = str(self.cache_ttl)
        if self.skip_cache is not None:
            out["cf-aig-skip-cache"] = _bool(self.skip_cache)
        if self.cache_key is not None:
            out["cf-aig-cache-key"] = self.cache_key
        if self.metadata is not None:
            out["cf-aig-metadata"] = _json.dumps_str(dict(self.metadata))
        if self.collect_log is not None:
            out["cf-aig-collect-log"] = _bool(self.collect_log)
        if self.event_id is not None:
            out["cf-aig-event-id"] = self.event_id
        if self.request_timeout_ms is not None:
            out["cf-aig-request-timeout"] = str(self.request_timeout_ms)
        if self.max_attempts is not None:
            out["cf-aig-max-attempts"] = str(self.max_attempts)
        if self.retry_delay_ms is not None:
            out["cf-aig-retry-delay"] = str(self.retry_delay_ms)
        if self.backoff is not None:
            out["cf-aig-backoff"] = self.backoff
        if self.custom_cost is not None:
            out["cf-aig-custom-cost"] = _json.dumps_str(self.custom_cost.to_json())
        return out


def _bool(value: bool) -> str:
    return "true" if value else "false"


NO_OPTIONS = GatewayOptions()

__all__ = ["NO_OPTIONS", "Backoff", "CustomCost", "GatewayOptions", "MetadataValue"]
