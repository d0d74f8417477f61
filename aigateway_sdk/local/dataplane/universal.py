"""The Universal endpoint's steps: `{provider, endpoint, headers, query, config?}` checked and
turned into what the data plane runs (a target, a body, the provider auth, a call policy)."""

from __future__ import annotations

from typing import Any

import attrs

from aigateway_sdk._json import dumps
from aigateway_sdk.contract.headers import UNIVERSAL_CONFIG
from aigateway_sdk.contract.limits import BACKOFFS
from aigateway_sdk.local.dataplane.exchange import Target
from aigateway_sdk.local.upstreams.router import WORKERS_AI, CallPolicy, is_workers_ai
from aigateway_sdk.local.web.body import load_json
from aigateway_sdk.local.web.errors import CODE_INVALID, ApiError

MAX_STEPS = 20
"""Steps in one Universal body (this gateway's cap; Cloudflare documents none). Each failed
step is logged, so an unbounded list would be a log flood from one request."""


@attrs.frozen(slots=True)
class Step:
    target: Target
    body: bytes
    authorization: str | None
    policy: CallPolicy


COMPAT = "compat"


def step_target(provider: str, endpoint: str) -> Target | None:
    """What a step addresses. Provider names are case-insensitive: `Workers-AI` and `COMPAT`
    are `workers-ai` and `compat`."""
    endpoint = endpoint.strip("/")
    if is_workers_ai(provider):
        path = f"{WORKERS_AI}/{endpoint}"
        if endpoint == "v1/chat/completions":
            return Target("openai", WORKERS_AI, path, fixed_provider=WORKERS_AI)
        return Target("native", WORKERS_AI, path, model=endpoint) if endpoint else None
    if provider.lower() == COMPAT:
        path = f"{COMPAT}/{endpoint}"
        return Target("openai", COMPAT, path) if endpoint == "chat/completions" else None
    path = f"{provider}/{endpoint}"
    if endpoint in ("chat/completions", "v1/chat/completions"):
        return Target("openai", provider, path, fixed_provider=provider)
    return None


def _header(headers: dict[str, Any], name: str) -> str | None:
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == name and isinstance(value, str):
            return value
    return None


_POLICY_FIELDS = {
    "request_timeout_ms": "timeout_ms",
    "max_attempts": "max_attempts",
    "retry_delay_ms": "retry_delay_ms",
}
"""The call policy's field for each header option a step's `config` can set."""


class _BadStep(ValueError):
    """A step's problem; `parse_step` turns it into a 400 naming the step."""


def _object(step: dict[str, Any], key: str) -> dict[str, Any]:
    value = step.get(key) or {}
    if not isinstance(value, dict):
        raise _BadStep(f"{key} must be an object")
    return value


def _policy_changes(config: dict[str, Any]) -> dict[str, Any]:
    """What a step's `config` changes in the call policy, each value checked."""
    changes: dict[str, Any] = {}
    for key, (option, bounds) in UNIVERSAL_CONFIG.items():
        if key in config:
            value = config[key]
            if bounds.problem(value) is not None:
                raise _BadStep(
                    f"config.{key} must be an integer from {bounds.low} to {bounds.high}"
                )
            changes[_POLICY_FIELDS[option]] = value
    if "backoff" in config:
        if config["backoff"] not in BACKOFFS:
            raise _BadStep("config.backoff must be constant, linear or exponential")
        changes["backoff"] = config["backoff"]
    return changes


def _step(step: object, policy: CallPolicy) -> Step:
    if not isinstance(step, dict):
        raise _BadStep("must be an object")
    provider, endpoint = step.get("provider"), step.get("endpoint")
    if not isinstance(provider, str) or not isinstance(endpoint, str):
        raise _BadStep("provider and endpoint must be strings")
    target = step_target(provider, endpoint)
    if target is None:
        raise _BadStep(f"unsupported provider/endpoint {provider}/{endpoint}")
    headers = _object(step, "headers")
    changes = _policy_changes(_object(step, "config"))
    if changes:
        policy = attrs.evolve(policy, **changes)
    return Step(target, dumps(step.get("query")), _header(headers, "authorization"), policy)


def parse_step(step: object, index: int, policy: CallPolicy) -> Step:
    """One step; `policy` (from the request's headers) is what its `config` overrides."""
    try:
        return _step(step, policy)
    except _BadStep as problem:
        raise ApiError(400, CODE_INVALID, f"step {index}: {problem}", path=(str(index),)) from None


def without_headers(body: bytes) -> bytes:
    """A Universal body fit for the log: every step's `headers` (provider keys) removed.

    A body that is not JSON (or nests too deeply to be written back) is not stored at all:
    there is no telling where a secret is.
    """
    try:
        payload = load_json(body)
    except ValueError:
        return b""
    steps = payload if isinstance(payload, list) else [payload]
    cleaned = [
        {k: v for k, v in step.items() if k != "headers"} if isinstance(step, dict) else step
        for step in steps
    ]
    return dumps(cleaned if isinstance(payload, list) else cleaned[0])


def step_list(payload: object) -> list[object]:
    """The steps of a Universal body (a single object is one step)."""
    if isinstance(payload, dict):
        return [payload]
    if not isinstance(payload, list) or not payload:
        raise ApiError(400, CODE_INVALID, "Universal body must be a non-empty array of steps")
    if len(payload) > MAX_STEPS:
        raise ApiError(400, CODE_INVALID, f"A Universal body takes at most {MAX_STEPS} steps")
    return payload


__all__ = ["Step", "parse_step", "step_list", "step_target", "without_headers"]
