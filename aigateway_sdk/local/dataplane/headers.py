"""The `cf-aig-*` request headers, parsed and checked once per request into `RequestOptions`.

Names and bounds come from `aigateway_sdk.contract.headers`; the parsing is this server's own,
so the local gateway tests the SDK's encoding independently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from aigateway_sdk._json import dumps, loads
from aigateway_sdk.contract.cost import COST_FIELDS, CustomCost, price_problem
from aigateway_sdk.contract.headers import (
    AUTHORIZATION,
    CACHE_TTL_FLOOR,
    OPTIONS,
    PREFIX,
    HeaderOption,
    OptionKind,
    metadata_problem,
)
from aigateway_sdk.contract.limits import BACKOFFS, Backoff
from aigateway_sdk.contract.provider_keys import BYOK_ALIAS_HEADER
from aigateway_sdk.local.policies.auth import secret_repr
from aigateway_sdk.local.web.errors import ApiError
from aigateway_sdk.validation import FieldError


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
    byok_alias: str | None = None
    """`cf-aig-byok-alias`: the stored provider key to use (see `policies.provider_keys`)."""


DEFAULT_OPTIONS = RequestOptions()


def _bad(header: str, message: str) -> ApiError:
    return ApiError.invalid([FieldError((header,), message)])


def _flag(option: HeaderOption, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise _bad(option.header, "must be true or false")


def _int(option: HeaderOption, value: str) -> int:
    bounds = option.range
    assert bounds is not None
    try:
        number = int(value.strip())  # ValueError past 4,300 digits too
    except ValueError:
        raise _bad(option.header, "must be an integer") from None
    if number not in bounds:
        raise _bad(option.header, f"must be between {bounds.low} and {bounds.high}")
    return number


def _text(_option: HeaderOption, value: str) -> str | None:
    return value or None  # an empty header is no header


def check_metadata(value: object, where: str) -> str:
    """Metadata as JSON text, after checking it (`contract.headers.metadata_problem`)."""
    found = metadata_problem(value)
    if found is not None:
        key, problem = found
        raise _bad(where, problem if key is None else f"value of {key!r} {problem}")
    return dumps(value).decode()


def _json_object(option: HeaderOption, value: str) -> dict[str, Any]:
    try:
        parsed = loads(value)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise _bad(option.header, "must be a JSON object")
    return parsed


def _metadata(option: HeaderOption, value: str) -> str:
    return check_metadata(_json_object(option, value), option.header)


def _backoff(option: HeaderOption, value: str) -> str:
    word = value.strip()
    if word not in BACKOFFS:
        raise _bad(option.header, "must be constant, linear or exponential")
    return word


def _custom_cost(option: HeaderOption, value: str) -> CustomCost:
    data = _json_object(option, value)
    numbers: dict[str, float] = {}
    for key in COST_FIELDS:
        if key in data:
            if (problem := price_problem(data[key])) is not None:
                raise _bad(option.header, f"{key} {problem}")
            numbers[key] = float(data[key])
    if not numbers:
        raise _bad(option.header, "needs per_token_in/per_token_out or total_cost")
    return CustomCost(**numbers)


_PARSERS: dict[OptionKind, Callable[[HeaderOption, str], Any]] = {
    "int": _int,
    "bool": _flag,
    "text": _text,
    "metadata": _metadata,
    "backoff": _backoff,
    "cost": _custom_cost,
}


def header_map(scope: Mapping[str, Any]) -> dict[str, str]:
    """The request's headers as a dict, built in one pass (names are lowercase in ASGI)."""
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}


def parse_options(headers: Mapping[str, str]) -> RequestOptions:
    """Every `cf-aig-*` header of a request. Raises ApiError (400) on a malformed one."""
    if not any(name.startswith(PREFIX) for name in headers):
        return DEFAULT_OPTIONS
    values: dict[str, Any] = {
        option.field: _PARSERS[option.kind](option, raw)
        for option in OPTIONS
        if (raw := headers.get(option.header)) is not None
    }
    if "cache_ttl" in values:
        values["cache_ttl"] = max(values["cache_ttl"], CACHE_TTL_FLOOR)
    return RequestOptions(
        **values,
        gateway_authorization=headers.get(AUTHORIZATION),
        byok_alias=headers.get(BYOK_ALIAS_HEADER) or None,
    )


def provider_authorization(value: str | None) -> str | None:
    """The caller's provider `Authorization` (a request header, or a Universal step's), checked:
    it is forwarded as an HTTP header, so anything but printable ASCII (bytes past 0x7F, line
    breaks) is a 400 naming it; the message never quotes the value, a key."""
    if value is not None and any(not 0x20 <= ord(c) < 0x7F for c in value):
        problem = "must be printable ASCII (it is forwarded as an HTTP header)"
        raise ApiError.invalid([FieldError(("authorization",), problem)])
    return value


__all__ = [
    "RequestOptions",
    "check_metadata",
    "header_map",
    "parse_options",
    "provider_authorization",
]
