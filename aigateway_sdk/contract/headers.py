"""The `cf-aig-*` headers: request options with their bounds, and the reply headers.

Cloudflare's facts, with what is ours marked (docs/cloudflare-contract.md has the sources):
- `cf-aig-cache-ttl`: seconds, 0 to one month. Cloudflare documents 60 s as the minimum TTL
  and a month as the maximum, not what it does outside; ours: above a month is refused, and
  the gateway raises a TTL under 60 s to 60 s (`CACHE_TTL_FLOOR`).
- `cf-aig-max-attempts` 1..5, `cf-aig-retry-delay` 0..5,000 ms, `cf-aig-backoff`: Cloudflare's
  (`limits`). `cf-aig-request-timeout` 1..3,600,000 ms: ours.
- `cf-aig-metadata`: a JSON object of at most 5 entries whose values are strings, numbers or
  booleans (Cloudflare's); ours: numbers are finite and integers fit in 64 bits.
- `cf-aig-custom-cost`: see `contract.cost`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Literal

import attrs

from aigateway_sdk.contract.limits import (
    INT64_MAX,
    INT64_MIN,
    MAX_ATTEMPTS,
    REQUEST_TIMEOUT_MS,
    RETRY_DELAY_MS,
    IntRange,
)

PREFIX = "cf-aig-"
AUTHORIZATION = "cf-aig-authorization"
"""`Bearer <token>`: the gateway's own credential when it has `authentication` on."""

CACHE_STATUS = "cf-aig-cache-status"
"""Reply header: `HIT` or `MISS`."""
LOG_ID = "cf-aig-log-id"
"""Reply header: the id of the log entry the request made."""
STEP = "cf-aig-step"
"""Reply header on the Universal endpoint: the index of the step that answered."""
BODY_TRUNCATED = "cf-aig-body-truncated"
"""Ours: on a stored log body, `true` when the gateway kept only its first part."""

ONE_MONTH = 30 * 24 * 3600
CACHE_TTL = IntRange(0, ONE_MONTH)
CACHE_TTL_FLOOR = 60
"""The shortest TTL a cached reply gets: a smaller `cf-aig-cache-ttl` is raised to it."""
METADATA_MAX_ENTRIES = 5

MetadataValue = str | int | float | bool
"""A value of `cf-aig-metadata` (and of a log entry's metadata)."""

OptionKind = Literal["int", "bool", "text", "metadata", "backoff", "cost"]


@attrs.frozen(slots=True)
class HeaderOption:
    """One request option: its `GatewayOptions` field, its header and how its value reads."""

    field: str
    header: str
    kind: OptionKind
    range: IntRange | None = None


OPTIONS: tuple[HeaderOption, ...] = (
    HeaderOption("cache_ttl", "cf-aig-cache-ttl", "int", CACHE_TTL),
    HeaderOption("skip_cache", "cf-aig-skip-cache", "bool"),
    HeaderOption("cache_key", "cf-aig-cache-key", "text"),
    HeaderOption("metadata", "cf-aig-metadata", "metadata"),
    HeaderOption("collect_log", "cf-aig-collect-log", "bool"),
    HeaderOption("event_id", "cf-aig-event-id", "text"),
    HeaderOption("request_timeout_ms", "cf-aig-request-timeout", "int", REQUEST_TIMEOUT_MS),
    HeaderOption("max_attempts", "cf-aig-max-attempts", "int", MAX_ATTEMPTS),
    HeaderOption("retry_delay_ms", "cf-aig-retry-delay", "int", RETRY_DELAY_MS),
    HeaderOption("backoff", "cf-aig-backoff", "backoff"),
    HeaderOption("custom_cost", "cf-aig-custom-cost", "cost"),
)
"""Every `cf-aig-*` request option, in `GatewayOptions`' field order."""
OPTION_BY_FIELD = {option.field: option for option in OPTIONS}

UNIVERSAL_CONFIG: dict[str, tuple[str, IntRange]] = {
    "requestTimeout": ("request_timeout_ms", REQUEST_TIMEOUT_MS),
    "maxAttempts": ("max_attempts", MAX_ATTEMPTS),
    "retryDelay": ("retry_delay_ms", RETRY_DELAY_MS),
}
"""A Universal step's integer `config` keys: the header option each stands for, its range.
The step's `config.backoff` takes the same words as `cf-aig-backoff`."""


def text_problem(value: object) -> str | None:
    """What is wrong with a text option (`cache_key`, `event_id`), or None."""
    if not isinstance(value, str) or not value:
        return "must be a non-empty string"
    if any(c in value for c in "\r\n\0"):
        return "must not contain line breaks or NUL"
    return None


def _is_metadata_value(item: object) -> bool:
    if isinstance(item, bool | str):
        return True
    if isinstance(item, int):
        return INT64_MIN <= item <= INT64_MAX
    return isinstance(item, float) and math.isfinite(item)


def metadata_problem(value: object) -> tuple[str | None, str] | None:
    """What is wrong with a metadata object: `(key, message)`, the key None when the problem
    is the object's; None when it is fine."""
    if not isinstance(value, Mapping):
        return None, "must be a JSON object"
    if len(value) > METADATA_MAX_ENTRIES:
        return None, f"must have at most {METADATA_MAX_ENTRIES} entries, got {len(value)}"
    for key, item in value.items():
        if not isinstance(key, str):
            return None, f"keys must be strings, got {key!r}"
        if not _is_metadata_value(item):
            return key, "must be a string, a finite number (64-bit if whole) or a boolean"
    return None


__all__ = [
    "AUTHORIZATION",
    "BODY_TRUNCATED",
    "CACHE_STATUS",
    "CACHE_TTL",
    "CACHE_TTL_FLOOR",
    "LOG_ID",
    "METADATA_MAX_ENTRIES",
    "ONE_MONTH",
    "OPTIONS",
    "OPTION_BY_FIELD",
    "PREFIX",
    "STEP",
    "UNIVERSAL_CONFIG",
    "HeaderOption",
    "MetadataValue",
    "OptionKind",
    "metadata_problem",
    "text_problem",
]
