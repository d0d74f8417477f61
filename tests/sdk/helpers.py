"""Build bindings over an httpx.MockTransport that records requests."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from aigateway_sdk import GatewayBinding, RetryPolicy

FAST_RETRY = RetryPolicy(max_retries=2, initial_delay=0.001, max_delay=0.01)
MODEL = "@cf/meta/llama-3.1-8b-instruct"


def workers_ai_reply(
    text: str = "Hello there", prompt_tokens: int = 4, completion_tokens: int = 2
) -> dict[str, Any]:
    return {
        "result": {
            "response": text,
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        },
        "success": True,
        "errors": [],
        "messages": [],
    }


def sse(*frames: object) -> bytes:
    out = b""
    for frame in frames:
        data = frame if isinstance(frame, str) else json.dumps(frame)
        out += f"data: {data}\n\n".encode()
    return out


class Recorder:
    """A MockTransport handler that answers from a list and records each request."""

    def __init__(
        self, *replies: httpx.Response | Callable[[httpx.Request], httpx.Response]
    ) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies[min(len(self.requests), len(self.replies)) - 1]
        return reply(request) if callable(reply) else reply

    def bodies(self) -> list[Any]:
        return [json.loads(r.content) for r in self.requests]


def binding_for(recorder: Recorder, **kwargs: Any) -> GatewayBinding:
    kwargs.setdefault("retry", FAST_RETRY)
    return GatewayBinding(
        account_id="acct",
        gateway_id="gw",
        api_token="cf-token-secret",
        transport=httpx.MockTransport(recorder),
        **kwargs,
    )
