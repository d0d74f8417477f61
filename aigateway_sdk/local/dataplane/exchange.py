"""The values one data-plane call moves through: what it addresses (`Target`), its log
context (`Exchange`) and its outcome (`Reply` or `StreamReply`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import attrs

from aigateway_sdk.local.dataplane.frames import Frames
from aigateway_sdk.local.dataplane.headers import RequestOptions
from aigateway_sdk.local.dataplane.wire_tools import Shape
from aigateway_sdk.local.storage.gateways import LiveGateway
from aigateway_sdk.local.upstreams.base import StreamEvent
from aigateway_sdk.local.web.errors import JSON, ApiError


@attrs.frozen(slots=True)
class Target:
    """What a request (or a Universal step) addresses."""

    shape: Shape
    provider: str
    path: str
    model: str = ""
    fixed_provider: str | None = None
    """OpenAI shape: the provider the model belongs to; None means `{provider}/{model}`."""


@attrs.define(slots=True)
class Exchange:
    """One logged unit of work: a request, or one step of a Universal request."""

    live: LiveGateway
    options: RequestOptions
    log_id: str
    created_at: float
    started: float
    collect: bool
    provider: str
    model: str
    path: str
    request_body: bytes
    step: int | None = None
    request_content_type: str = JSON


@attrs.frozen(slots=True)
class Reply:
    status: int
    body: bytes
    content_type: str = JSON
    cached: bool = False
    tokens_in: int | None = None
    tokens_out: int | None = None
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def error(cls, error: ApiError) -> Reply:
        return cls(error.status, error.body(), headers=tuple(error.headers.items()))


@attrs.define(slots=True)
class StreamReply:
    events: AsyncIterator[StreamEvent]
    frames: Frames
    tokens_in: int | None = None
    tokens_out: int | None = None
    headers: tuple[tuple[str, str], ...] = ()


__all__ = ["Exchange", "Reply", "Shape", "StreamReply", "Target"]
