"""The `cf-aig-*` request headers, parsed and checked once per request into `RequestOptions`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from aigateway_sdk._json import dumps, loads
from aigateway_sdk.local.auth import secret_repr
from aigateway_sdk.local.errors import ApiError
from aigateway_sdk.validation import FieldError

Backoff = Literal["constant", "linear", "exponential"]

CACHE_TTL_MIN = 60
CACHE_TTL_MAX = 30 * 24 * 3600
MAX_ATTEMPTS = 5
METADATA_MAX_ENTRIES = 5
# This gateway's own bounds (Cloudflare documents none): an integer header must fit in 64 bits,
# a request timeout is at most an hour, a retry delay at most a minute (the gateway setting's
# `retry_delay` range in Cloudflare's OpenAPI schema), and every custom cost value is a finite
# number of at most a million.
INT64_MAX = 2**63 - 1
REQUEST_TIMEOUT_MAX_MS = 3_600_000
RETRY_DELAY_MAX_MS = 60_000
CUSTOM_COST_MAX = 1_000_000.0


@attrs.frozen(slots=True)
class CustomCost:
    per_token_in: float = 0.0
    per_token_out: float = 0.0
    total_cost: float | None = None

    def cost(self, tokens_in: int | None, tokens_out: int | None) -> float:
        if self.total_cost is not None:
            return self.total_cost
        return (tokens_in or 0) * self.per_token_in + (tokens_out or 0) * self.per_token_out


@attrs.frozen(slots=True)
class RequestOptions:
    cache_ttl: int | None = None
    skip_cache: bool = False
    cache_key: str | None = None
    metadata: str | None = None
    """The metadata object as compact JSON text (how logs store it)."""
    collect_log: bool | None = None
    event_id: str | None = None
    request_timeout_ms: int | None = None
    max_attempts: int | None = None
    retry_delay_ms: int | None = None
    backoff: Backoff | None = None
    custom_cost: CustomCost | None = None
    gateway_authorization: str | None = attrs.field(default=None, repr=secret_repr)


DEFAULT_OPTIONS = RequestOptions()


def _bad(header: str, message: str) -> ApiError:
    return ApiError.invalid([FieldError((header,), message)])


def _flag(header: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise _bad(header, "must be true or false")


def _int(header: str, value: str, minimum: int, maximum: int = INT64_MAX) -> int:
    try:
        number = int(value.strip())  # ValueError past 4,300 digits too
    except ValueError:
        raise _bad(header, "must be an integer") from None
    if not minimum <= number <= maximum:
        raise _bad(header, f"must be between {minimum} and {maximum}")
    return number


def check_metadata(value: object, where: str) -> str:
    """Metadata as JSON text, after checking it: an object of <= 5 string/number/bool values."""
    if not isinstance(value, dict):
        raise _bad(where, "must be a JSON object")
    if len(value) > METADATA_MAX_ENTRIES:
        raise _bad(where, f"must have at most {METADATA_MAX_ENTRIES} entries")
    for key, item in value.items():
        if not isinstance(item, str | int | float) or (
            isinstance(item, float) and not math.isfinite(item)
        ):
            raise _bad(where, f"value of {key!r} must be a string, number or boolean")
    return dumps(value).decode()


def _custom_cost(value: str) -> CustomCost:
    header = "cf-aig-custom-cost"
    try:
        data = loads(value)
    except ValueError:
        raise _bad(header, "must be JSON") from None
    if not isinstance(data, dict):
        raise _bad(header, "must be a JSON object")
    numbers: dict[str, float] = {}
    for key in ("per_token_in", "per_token_out", "total_cost"):
        if key in data:
            item = data[key]
            if (
                isinstance(item, bool)
                or not isinstance(item, int | float)
                or not 0 <= item <= CUSTOM_COST_MAX
            ):
                raise _bad(header, f"{key} must be a number from 0 to {CUSTOM_COST_MAX:.0f}")
            numbers[key] = float(item)
    if not numbers:
        raise _bad(header, "needs per_token_in/per_token_out or total_cost")
    return CustomCost(
        per_token_in=numbers.get("per_token_in", 0.0),
        per_token_out=numbers.get("per_token_out", 0.0),
        total_cost=numbers.get("total_cost"),
    )


def header_map(scope: Mapping[str, Any]) -> dict[str, str]:
    """The request's headers as a dict, built in one pass (names are lowercase in ASGI)."""
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}


def parse_options(headers: Mapping[str, str]) -> RequestOptions:
    """Every `cf-aig-*` header of a request. Raises ApiError (400) on a malformed one."""
    if not any(name.startswith("cf-aig-") for name in headers):
        return DEFAULT_OPTIONS
    get = headers.get
    ttl = get("cf-aig-cache-ttl")
    skip = get("cf-aig-skip-cache")
    key = get("cf-aig-cache-key")
    metadata = get("cf-aig-metadata")
    collect = get("cf-aig-collect-log")
    timeout = get("cf-aig-request-timeout")
    attempts = get("cf-aig-max-attempts")
    delay = get("cf-aig-retry-delay")
    backoff = get("cf-aig-backoff")
    cost = get("cf-aig-custom-cost")
    metadata_json: str | None = None
    if metadata is not None:
        try:
            parsed = loads(metadata)
        except ValueError:
            raise _bad("cf-aig-metadata", "must be a JSON object") from None
        metadata_json = check_metadata(parsed, "cf-aig-metadata")
    if backoff is not None and backoff.strip() not in ("constant", "linear", "exponential"):
        raise _bad("cf-aig-backoff", "must be constant, linear or exponential")
    return RequestOptions(
        cache_ttl=None
        if ttl is None
        else min(max(_int("cf-aig-cache-ttl", ttl, 0), CACHE_TTL_MIN), CACHE_TTL_MAX),
        skip_cache=False if skip is None else _flag("cf-aig-skip-cache", skip),
        cache_key=key if key else None,
        metadata=metadata_json,
        collect_log=None if collect is None else _flag("cf-aig-collect-log", collect),
        event_id=get("cf-aig-event-id") or None,
        request_timeout_ms=None
        if timeout is None
        else _int("cf-aig-request-timeout", timeout, 1, REQUEST_TIMEOUT_MAX_MS),
        max_attempts=None
        if attempts is None
        else _int("cf-aig-max-attempts", attempts, 1, MAX_ATTEMPTS),
        retry_delay_ms=None
        if delay is None
        else _int("cf-aig-retry-delay", delay, 0, RETRY_DELAY_MAX_MS),
        backoff=backoff.strip() if backoff is not None else None,  # type: ignore[arg-type]
        custom_cost=None if cost is None else _custom_cost(cost),
        gateway_authorization=get("cf-aig-authorization"),
    )


__all__ = [
    "CUSTOM_COST_MAX",
    "REQUEST_TIMEOUT_MAX_MS",
    "RETRY_DELAY_MAX_MS",
    "CustomCost",
    "RequestOptions",
    "check_metadata",
    "header_map",
    "parse_options",
]
