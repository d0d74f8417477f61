"""Configuration of the local gateway: `LocalGatewayConfig` and the upstream routing table."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import attrs

from aigateway_sdk.contract.gateway import MAX_GATEWAYS_PER_ACCOUNT
from aigateway_sdk.local.clock import Clock, SystemClock
from aigateway_sdk.local.policies.auth import secret_repr

UpstreamKind = Literal["builtin", "openai", "fault"]
LogDurability = Literal["commit", "background"]


def _positive(_i: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and value < 0:
        raise ValueError(f"{attribute.name} must be >= 0")


def _above_zero(_i: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not value > 0:
        raise ValueError(f"{attribute.name} must be > 0")


@attrs.frozen(slots=True)
class UpstreamRoute:
    """Which upstream answers the models matching `pattern` (fnmatch, first match wins).

    The pattern is tried against the bare model (`@cf/meta/llama-3.1-8b-instruct`) and against
    `provider/model` (`workers-ai/@cf/meta/llama-3.1-8b-instruct`, `openai/gpt-4o-mini`).

    - `builtin`: the deterministic offline model (`latency_ms` before the first token,
      `token_latency_ms` between streamed tokens).
    - `openai`: forward to an OpenAI-compatible server at `base_url` (llama.cpp, Ollama, vLLM,
      or real Workers AI at `https://api.cloudflare.com/client/v4/accounts/<id>/ai/v1`),
      sending `api_key` (else the caller's `Authorization` header) and `model` (else the
      requested model).
    - `fault`: always answers HTTP `status` (the first `fail_times` calls only, when set), for
      testing retries and Universal fallbacks.
    """

    pattern: str
    kind: UpstreamKind = "builtin"
    base_url: str | None = None
    api_key: str | None = attrs.field(default=None, repr=secret_repr)
    model: str | None = None
    timeout: float = attrs.field(default=120.0, validator=_positive)
    latency_ms: float = attrs.field(default=0.0, validator=_positive)
    token_latency_ms: float = attrs.field(default=0.0, validator=_positive)
    status: int = 500
    fail_times: int | None = None

    def __attrs_post_init__(self) -> None:
        if self.kind not in ("builtin", "openai", "fault"):
            raise ValueError(f"unknown upstream kind {self.kind!r}")
        if self.kind == "openai" and not self.base_url:
            raise ValueError(f"upstream {self.pattern!r}: kind 'openai' needs base_url")


def _route_tuple(routes: Iterable[UpstreamRoute]) -> tuple[UpstreamRoute, ...]:
    return tuple(routes)


@attrs.frozen(slots=True)
class LocalGatewayConfig:
    """Everything the local gateway needs. All fields have working defaults.

    - `port=0` picks a free port. `db_path=None` keeps state in a temporary database that is
      removed on exit.
    - `api_token=None` accepts any bearer token (loopback only, enforced by the CLI); on the
      control plane, any of Cloudflare's credential headers (`X-Auth-Key`, `X-Auth-Email`,
      `X-Auth-User-Service-Key`) too. With a token, the control plane also takes it as
      `X-Auth-Key` (any `X-Auth-Email`) or `X-Auth-User-Service-Key`.
    - `default_gateway_authentication=None` means: the auto-created `default` gateway has
      `authentication` on exactly when an `api_token` is configured.
    - `log_cap_override` (tests only): when set, a gateway with `log_management` keeps at most
      this many logs instead, so the cap rules can be tested without 10,000 requests.
    - `log_durability`: `commit` (a reply is sent only after its log is committed to SQLite)
      or `background` (logs are committed by the writer thread shortly after; flushed on stop).
    - `header_timeout` / `body_timeout` (seconds): a request's head, then its whole body, must
      arrive within them, else 408 and the connection is closed; `keep_alive_timeout`: an idle
      connection is closed after it; `max_connections`: one more is answered 503 at once.
    - `allow_unknown_models`: by default an `@cf/...` model id that is neither in the built-in
      catalog (`upstreams.catalog`) nor matched by an upstream route is refused with Workers
      AI's "No such model" error (400, code 5007), so a typo fails locally as it would at
      Cloudflare; `True` lets the built-in model answer any id.
    - `api_token` and every route's `api_key` show as `***` in reprs.
    """

    host: str = "127.0.0.1"
    port: int = 0
    db_path: Path | str | None = None
    api_token: str | None = attrs.field(default=None, repr=secret_repr)
    default_account_id: str = "local"
    auto_default_gateway: bool = True
    default_gateway_authentication: bool | None = None
    clock: Clock = attrs.field(factory=SystemClock)
    upstreams: tuple[UpstreamRoute, ...] = attrs.field(default=(), converter=_route_tuple)
    builtin_latency_ms: float = attrs.field(default=0.0, validator=_positive)
    builtin_token_latency_ms: float = attrs.field(default=0.0, validator=_positive)
    max_body_bytes: int = 1 << 20
    log_body_cap: int = 64 << 10
    cache_max_entries: int = 10_000
    cache_max_bytes: int = 64 << 20
    cache_max_entry_bytes: int = 25_000_000
    max_gateways_per_account: int = MAX_GATEWAYS_PER_ACCOUNT
    log_cap_override: int | None = None
    log_durability: LogDurability = "commit"
    log_batch_max: int = 512
    header_timeout: float = attrs.field(default=10.0, validator=_above_zero)
    body_timeout: float = attrs.field(default=30.0, validator=_above_zero)
    keep_alive_timeout: float = attrs.field(default=30.0, validator=_above_zero)
    max_connections: int = attrs.field(default=1000, validator=_above_zero)
    allow_unknown_models: bool = False

    def __attrs_post_init__(self) -> None:
        if self.log_durability not in ("commit", "background"):
            raise ValueError("log_durability must be 'commit' or 'background'")

    @property
    def default_gateway_auth(self) -> bool:
        if self.default_gateway_authentication is not None:
            return self.default_gateway_authentication
        return self.api_token is not None


def routes_from_toml(path: Path | str) -> tuple[UpstreamRoute, ...]:
    """Upstream routes from a TOML file with `[[upstreams]]` tables.

    Each table takes the `UpstreamRoute` fields; `api_key_env = "NAME"` reads the key from the
    environment instead of the file.
    """
    with open(path, "rb") as handle:
        data = tomllib.load(handle)
    return routes_from_mapping(data)


def routes_from_mapping(data: Mapping[str, Any]) -> tuple[UpstreamRoute, ...]:
    tables = data.get("upstreams", [])
    if not isinstance(tables, list):
        raise ValueError("`upstreams` must be an array of tables ([[upstreams]])")
    fields = {f.name for f in attrs.fields(UpstreamRoute)}
    routes = []
    for index, table in enumerate(tables):
        if not isinstance(table, dict):
            raise ValueError(f"upstreams[{index}] must be a table")
        table = dict(table)
        env_name = table.pop("api_key_env", None)
        if env_name is not None:
            table["api_key"] = os.environ.get(str(env_name))
        unknown = set(table) - fields
        if unknown:
            raise ValueError(f"upstreams[{index}]: unknown keys {sorted(unknown)}")
        if "pattern" not in table:
            raise ValueError(f"upstreams[{index}]: `pattern` is required")
        routes.append(UpstreamRoute(**table))
    return tuple(routes)


__all__ = [
    "LocalGatewayConfig",
    "LogDurability",
    "UpstreamKind",
    "UpstreamRoute",
    "routes_from_mapping",
    "routes_from_toml",
]
