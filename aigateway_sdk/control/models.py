"""Values the control plane returns: `Gateway` (a gateway as it exists) and `LogEntry`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from aigateway_sdk import _json
from aigateway_sdk._decode import MetadataValue, Reader, malformed
from aigateway_sdk.contract.gateway import SETTINGS_RULES, GatewaySettings
from aigateway_sdk.validation import ValidationError


@attrs.frozen(slots=True)
class Gateway(GatewaySettings):
    """A gateway as Cloudflare reports it: its settings plus `id` and the read-only fields.

    `gateway.cache_ttl` and the other settings read like an `AiGateway`'s;
    `gateway.settings()` gives them as a `GatewaySettings` to compare with a spec.
    """

    id: str = attrs.field(kw_only=True)
    created_at: datetime = attrs.field(kw_only=True)
    modified_at: datetime = attrs.field(kw_only=True)
    is_default: bool = attrs.field(default=False, kw_only=True)

    @classmethod
    def from_api(cls, body: object) -> Gateway:
        """A gateway from an API `result`; raises `AiError(MalformedOutput)` on a bad shape."""
        read = Reader(body, "gateway")
        settings = {name: read.body[name] for name in SETTINGS_RULES if name in read.body}
        try:
            return cls(
                id=read.text("id"),
                created_at=read.time("created_at"),
                modified_at=read.time("modified_at"),
                is_default=read.flag("is_default"),
                **settings,
            )
        except ValidationError as error:
            raise malformed("gateway", str(error)) from None

    def to_json(self) -> dict[str, Any]:
        """Cloudflare's JSON shape (times in RFC 3339), e.g. for `--json` output."""
        return {
            "id": self.id,
            **self.settings_json(),
            "created_at": self.created_at.isoformat(),
            "modified_at": self.modified_at.isoformat(),
            "is_default": self.is_default,
        }


@attrs.frozen(slots=True, kw_only=True)
class LogEntry:
    """One request the gateway logged. Durations are in milliseconds.

    The list endpoint fills the summary fields; `LogsClient.get` adds the heads and sizes
    of the stored request and response.
    """

    id: str
    created_at: datetime
    provider: str = ""
    model: str = ""
    path: str = ""
    success: bool = False
    cached: bool = False
    status_code: int | None = None
    duration: int | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost: float | None = None
    metadata: Mapping[str, MetadataValue] = attrs.field(factory=dict, hash=False)
    event_id: str | None = None
    feedback: int | None = None
    score: float | None = None
    step: int | None = None
    model_type: str | None = None
    request_type: str | None = None
    request_content_type: str | None = None
    response_content_type: str | None = None
    request_size: int | None = None
    response_size: int | None = None
    request_head: str | None = None
    response_head: str | None = None

    @classmethod
    def from_api(cls, body: object) -> LogEntry:
        """A log entry from an API `result`; raises `AiError(MalformedOutput)` on a bad shape."""
        read = Reader(body, "log entry")
        feedback = read.opt_float("feedback")
        return cls(
            id=read.text("id"),
            created_at=read.time("created_at"),
            provider=read.opt_text("provider") or "",
            model=read.opt_text("model") or "",
            path=read.opt_text("path") or "",
            success=read.flag("success"),
            cached=read.flag("cached"),
            status_code=read.opt_int("status_code"),
            duration=read.opt_int("duration"),
            tokens_in=read.opt_int("tokens_in"),
            tokens_out=read.opt_int("tokens_out"),
            cost=read.opt_float("cost"),
            metadata=read.metadata("metadata"),
            event_id=read.opt_text("event_id"),
            feedback=None if feedback is None else int(feedback),
            score=read.opt_float("score"),
            step=read.opt_int("step"),
            model_type=read.opt_text("model_type"),
            request_type=read.opt_text("request_type"),
            request_content_type=read.opt_text("request_content_type"),
            response_content_type=read.opt_text("response_content_type"),
            request_size=read.opt_int("request_size"),
            response_size=read.opt_int("response_size"),
            request_head=read.opt_text("request_head"),
            response_head=read.opt_text("response_head"),
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON object of every field (time in RFC 3339), e.g. for `--json` output."""
        out: dict[str, Any] = {}
        for field in attrs.fields(LogEntry):
            value = getattr(self, field.name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, Mapping):
                value = dict(value)
            out[field.name] = value
        return out


@attrs.frozen(slots=True)
class LogBody:
    """A stored request or response body of a log entry, as the gateway kept it."""

    content: bytes
    content_type: str | None = None
    truncated: bool = False
    """The gateway stored only the first part of a larger body."""

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body decoded as JSON; `AiError(MalformedOutput)` when it is not JSON."""
        try:
            return _json.loads(self.content)
        except ValueError:
            raise malformed("log body", "not JSON") from None


__all__ = ["Gateway", "LogBody", "LogEntry", "MetadataValue"]
