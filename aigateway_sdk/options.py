"""Gateway options: the `cf-aig-*` request headers, set per binding, per model or per call.

A narrower level wins field by field: call over model over binding. Headers are computed once
per model and only merged again when a call brings options of its own. The header names and
bounds are Cloudflare's, from `aigateway_sdk.contract.headers`; building `GatewayOptions`
refuses exactly what the gateway would refuse (tests/test_contract.py holds both to it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from aigateway_sdk import _json
from aigateway_sdk.contract.cost import CustomCost
from aigateway_sdk.contract.headers import (
    CACHE_TTL,
    METADATA_MAX_ENTRIES,
    OPTION_BY_FIELD,
    OPTIONS,
    MetadataValue,
    OptionKind,
    metadata_problem,
    text_problem,
)
from aigateway_sdk.contract.limits import BACKOFFS, Backoff
from aigateway_sdk.validation import FieldError, ValidationError

MAX_METADATA_ENTRIES = METADATA_MAX_ENTRIES
MAX_CACHE_TTL = CACHE_TTL.high  # one month, Cloudflare's documented maximum


def _fail(path: tuple[str, ...], message: str) -> ValidationError:
    return ValidationError([FieldError(path, message)], what="gateway options")


def _check_int(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    bounds = OPTION_BY_FIELD[attribute.name].range
    if value is not None and bounds is not None and (problem := bounds.problem(value)):
        raise _fail((attribute.name,), problem)


def _check_bool(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not isinstance(value, bool):
        raise _fail((attribute.name,), "must be True or False")


def _check_text(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (problem := text_problem(value)):
        raise _fail((attribute.name,), problem)


def _check_metadata(_instance: Any, _attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (found := metadata_problem(value)) is not None:
        key, problem = found
        raise _fail(("metadata",) if key is None else ("metadata", key), problem)


def _check_backoff(_instance: Any, _attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and value not in BACKOFFS:
        raise _fail(("backoff",), "must be 'constant', 'linear' or 'exponential'")


def _check_cost(_instance: Any, _attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not isinstance(value, CustomCost):
        raise _fail(("custom_cost",), "must be a CustomCost")


def _freeze_metadata(
    value: Mapping[str, MetadataValue] | None,
) -> Mapping[str, MetadataValue] | None:
    return None if value is None else dict(value) if isinstance(value, Mapping) else value


@attrs.frozen(slots=True, kw_only=True)
class GatewayOptions:
    """Per-request gateway behaviour. `None` means "not set here"."""

    cache_ttl: int | None = attrs.field(default=None, validator=_check_int)
    """Seconds to cache this reply (`cf-aig-cache-ttl`): 0 to one month; the gateway raises
    a TTL under 60 s to 60 s."""
    skip_cache: bool | None = attrs.field(default=None, validator=_check_bool)
    """Do not serve from the cache (`cf-aig-skip-cache`)."""
    cache_key: str | None = attrs.field(default=None, validator=_check_text)
    """A custom cache key (`cf-aig-cache-key`)."""
    metadata: Mapping[str, MetadataValue] | None = attrs.field(
        default=None, converter=_freeze_metadata, validator=_check_metadata
    )
    """Up to 5 entries stored with the log (`cf-aig-metadata`); not part of the cache key."""
    collect_log: bool | None = attrs.field(default=None, validator=_check_bool)
    """Override the gateway's `collect_logs` for this request (`cf-aig-collect-log`)."""
    event_id: str | None = attrs.field(default=None, validator=_check_text)
    """A caller-chosen id stored with the log (`cf-aig-event-id`)."""
    request_timeout_ms: int | None = attrs.field(default=None, validator=_check_int)
    """Milliseconds the gateway waits for the provider's first byte (`cf-aig-request-timeout`),
    1 to 3,600,000."""
    max_attempts: int | None = attrs.field(default=None, validator=_check_int)
    """Attempts the gateway makes at the provider (`cf-aig-max-attempts`), 1 to 5."""
    retry_delay_ms: int | None = attrs.field(default=None, validator=_check_int)
    """Milliseconds between the gateway's attempts (`cf-aig-retry-delay`), 0 to 5,000."""
    backoff: Backoff | None = attrs.field(default=None, validator=_check_backoff)
    """How the gateway's retry delay grows (`cf-aig-backoff`)."""
    custom_cost: CustomCost | None = attrs.field(default=None, validator=_check_cost)
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
        return {
            option.header: _ENCODERS[option.kind](value)
            for option in OPTIONS
            if (value := getattr(self, option.field)) is not None
        }


def _bool(value: bool) -> str:
    return "true" if value else "false"


_ENCODERS: dict[OptionKind, Callable[[Any], str]] = {
    "int": str,
    "bool": _bool,
    "text": str,
    "metadata": lambda value: _json.dumps_str(dict(value)),
    "backoff": str,
    "cost": lambda value: _json.dumps_str(value.to_json()),
}

NO_OPTIONS = GatewayOptions()

__all__ = ["NO_OPTIONS", "Backoff", "CustomCost", "GatewayOptions", "MetadataValue"]
