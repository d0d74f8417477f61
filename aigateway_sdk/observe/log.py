"""The `aigateway_sdk` logger: a DEBUG line per HTTP request, retries at INFO, give-ups at WARNING.

Nothing is formatted, timed or counted unless the logger is enabled for the level (the core
checks `LOGGER.isEnabledFor` once per call, which the `logging` module caches). No header is
ever logged (so no API token, gateway token or provider key), nor any request or reply body
(so no prompt or completion) unless bodies are asked for: `configure(bodies=True)` or
`AIGATEWAY_LOG_BODIES=1`; even then JSON fields named like a secret are replaced by "[redacted]".

`AIGATEWAY_LOG=debug|info|warning` (read once, when the SDK's transport is first imported)
attaches a stderr handler without code, like the `openai` client's `OPENAI_LOG`.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import IO, Any, TypeVar

import httpx

from aigateway_sdk.errors import AiError, Reason

T = TypeVar("T")

LOGGER = logging.getLogger("aigateway_sdk")
"""The SDK's logger; the local gateway logs under `aigateway_sdk.local`."""
LOGGER.addHandler(logging.NullHandler())
# A library's logger: without it, an application that configures no logging would get the
# give-up WARNINGs on stderr through `logging.lastResort`, though logging is off by default.

DEBUG = logging.DEBUG
INFO = logging.INFO
WARNING = logging.WARNING

ENV_LEVEL = "AIGATEWAY_LOG"
ENV_BODIES = "AIGATEWAY_LOG_BODIES"
LEVELS = {"debug": DEBUG, "info": INFO, "warning": WARNING}
BODY_LIMIT = 4000
"""Characters of a body logged at most (bodies only when asked for)."""

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_SECRET_KEY = re.compile(
    r"(^|[_-])(api[_-]?key|key|token|secret|password|passwd|authorization|credentials?)$",
    re.IGNORECASE,
)
"""JSON field and query parameter names whose values are never logged (`max_tokens` is not
one: it ends in "tokens")."""
REDACTED = "[redacted]"


class _State:
    bodies = False
    handler: logging.Handler | None = None


def bodies_enabled() -> bool:
    """Whether request and reply bodies are logged (at DEBUG)."""
    return _State.bodies


def configure(
    level: str | int = "debug", *, bodies: bool = False, stream: IO[str] | None = None
) -> logging.Handler:
    """Send the SDK's log to `stream` (stderr by default) at `level` ("debug", "info",
    "warning" or a `logging` level), as `AIGATEWAY_LOG` does; `bodies=True` also logs request
    and reply bodies (prompts and completions: for debugging only). Calling it again replaces
    the handler it attached before. Returns the handler."""
    number = _level(level)
    if _State.handler is not None:
        LOGGER.removeHandler(_State.handler)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    LOGGER.addHandler(handler)
    LOGGER.setLevel(number)
    _State.handler = handler
    _State.bodies = bool(bodies)
    return handler


def _level(level: str | int) -> int:
    if isinstance(level, int) and not isinstance(level, bool):
        return level
    if isinstance(level, str) and level.strip().lower() in LEVELS:
        return LEVELS[level.strip().lower()]
    raise ValueError(f"level must be one of {', '.join(LEVELS)} or a logging level, got {level!r}")


def configure_from_env(environ: Mapping[str, str] = os.environ) -> logging.Handler | None:
    """Apply `AIGATEWAY_LOG` and `AIGATEWAY_LOG_BODIES` (None: not set). An unknown level is
    reported once on stderr and otherwise ignored."""
    raw = environ.get(ENV_LEVEL, "").strip()
    if not raw:
        return None
    if raw.lower() not in LEVELS:
        print(
            f"aigateway_sdk: ignoring {ENV_LEVEL}={raw!r} (expected one of {', '.join(LEVELS)})",
            file=sys.stderr,
        )
        return None
    bodies = environ.get(ENV_BODIES, "").strip().lower() in ("1", "true", "yes", "on")
    return configure(raw, bodies=bodies)


# -- what a line may say ---------------------------------------------------------------------


def safe_url(url: str | httpx.URL) -> str:
    """`url` without user info, and with the values of secret-like query parameters
    replaced."""
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        return re.sub(r"//[^/@]*@", "//", str(url))
    if parsed.userinfo:
        parsed = parsed.copy_with(username=None, password=None)
    if parsed.query and any(_SECRET_KEY.search(key) for key in parsed.params):
        parsed = parsed.copy_with(
            params=[
                (key, REDACTED if _SECRET_KEY.search(key) else value)
                for key, value in parsed.params.multi_items()
            ]
        )
    return str(parsed)


def redacted(value: Any) -> Any:
    """A JSON value with the values of secret-like field names replaced."""
    if isinstance(value, dict):
        return {
            key: REDACTED if isinstance(key, str) and _SECRET_KEY.search(key) else redacted(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redacted(item) for item in value]
    return value


def header_secrets(headers: Mapping[str, str] | None) -> tuple[str, ...]:
    """The credentials a request carries: the values of its secret-like headers
    (`authorization`, `cf-aig-authorization`, `x-auth-key`...), each also without its scheme
    (`Bearer `), longest first; `body_text` replaces them wherever a body quotes them."""
    found: set[str] = set()
    for name, value in (headers or {}).items():
        if _SECRET_KEY.search(name):
            for candidate in (value, value.partition(" ")[2]):
                if len(candidate.strip()) >= _MIN_SECRET:
                    found.add(candidate.strip())
    return tuple(sorted(found, key=len, reverse=True))


_MIN_SECRET = 6
"""A credential shorter than this is not searched for in bodies (it would match words)."""


def body_text(body: Any, secrets: tuple[str, ...] = ()) -> str:
    """A body (bytes as sent, or decoded JSON) for the log: redacted (secret-like fields, and
    each of `secrets` wherever it appears: an upstream may quote the key it was sent), cut at
    `BODY_LIMIT`."""
    from aigateway_sdk import _json

    if isinstance(body, bytes | bytearray):
        try:
            body = _json.loads(bytes(body))
        except ValueError:
            longest = max(map(len, secrets), default=0)  # a key cut at the limit still goes
            kept = bytes(body[: BODY_LIMIT + 1 + 4 * longest]).decode("utf-8", "replace")
            text = without_secrets(kept, secrets)
            return text[:BODY_LIMIT] + ("..." if len(text) > BODY_LIMIT else "")
    text = without_secrets(_json.dumps(redacted(body)).decode("utf-8", "replace"), secrets)
    return text[:BODY_LIMIT] + ("..." if len(text) > BODY_LIMIT else "")


def without_secrets(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with each of `secrets` (as is, and JSON-escaped) replaced by `[redacted]`."""
    from aigateway_sdk import _json

    for secret in secrets:
        for form in (secret, _json.dumps(secret).decode()[1:-1]):
            text = text.replace(form, REDACTED)
    return text


def _reason_text(reason: Reason) -> str:
    status = f" {reason.status}" if reason.status is not None else ""
    return f"{reason.tag}{status}"


# -- the lines -------------------------------------------------------------------------------

Head = Callable[[T], tuple[int, Mapping[str, str], Any]]
"""What a successful attempt returned: its status, headers and (decoded) body or None."""


def logged(
    attempt: Callable[[], Awaitable[T]],
    method: str,
    url: str | httpx.URL,
    content: bytes | None,
    head: Head[T],
    headers: Mapping[str, str] | None = None,
) -> Callable[[], Awaitable[T]]:
    """`attempt` with one DEBUG line per run: method, URL (`safe_url`), status or failure
    reason, duration, attempt number, cache status and log id. Used only when DEBUG is on.
    `headers` are the request's: their credentials are kept out of the bodies logged."""
    shown = safe_url(url)
    number = 0
    secrets = header_secrets(headers) if _State.bodies else ()

    async def run() -> T:
        nonlocal number
        number += 1
        if _State.bodies and content is not None and number == 1:
            LOGGER.debug("%s %s request body: %s", method, shown, body_text(content, secrets))
        started = time.perf_counter()
        try:
            result = await attempt()
        except AiError as error:
            reason = error.reason
            _line(
                method,
                shown,
                number,
                started,
                reason.status,
                _reason_text(reason),
                None,
                reason.log_id,
            )
            raise
        status, headers, body = head(result)
        get = headers.get
        _line(
            method,
            shown,
            number,
            started,
            status,
            str(status),
            get("cf-aig-cache-status"),
            get("cf-aig-log-id"),
        )
        if _State.bodies and body is not None:
            LOGGER.debug("%s %s reply body: %s", method, shown, body_text(body, secrets))
        return result

    return run


def _line(
    method: str,
    url: str,
    attempt: int,
    started: float,
    status: int | None,
    outcome: str,
    cache_status: str | None,
    log_id: str | None,
) -> None:
    duration_ms = (time.perf_counter() - started) * 1000
    notes = [f"attempt {attempt}"]
    if cache_status:
        notes.append(f"cache {cache_status}")
    if log_id:
        notes.append(f"log id {log_id}")
    LOGGER.debug(
        "%s %s -> %s in %.1f ms (%s)",
        method,
        url,
        outcome,
        duration_ms,
        ", ".join(notes),
        extra={
            "http_method": method,
            "url": url,
            "status": status,
            "duration_ms": duration_ms,
            "attempt": attempt,
            "cache_status": cache_status,
            "log_id": log_id,
        },
    )


def retry_line(
    reason: Reason, retry_number: int, delay: float, method: str, url: str | httpx.URL | None
) -> None:
    """INFO: a failed attempt is retried after `delay` seconds."""
    if LOGGER.isEnabledFor(INFO):
        target = f" {method} {safe_url(url)}" if url is not None else ""
        LOGGER.info(
            "retry %d%s in %.2f s after %s%s",
            retry_number,
            target,
            delay,
            _reason_text(reason),
            f" (log id {reason.log_id})" if reason.log_id else "",
            extra={"reason": reason.tag, "delay_s": delay, "retry": retry_number},
        )


def give_up_line(
    reason: Reason, attempts: int, method: str, url: str | httpx.URL | None, *, why: str = ""
) -> None:
    """WARNING: a retryable failure is raised, no retry left (or none allowed in the time);
    `why` names what stopped the retries (`max_retries=2 used`, a too long `Retry-After`)."""
    if LOGGER.isEnabledFor(WARNING):
        target = f" {method} {safe_url(url)}" if url is not None else ""
        LOGGER.warning(
            "giving up%s after %d attempt%s: %s%s%s",
            target,
            attempts,
            "" if attempts == 1 else "s",
            _reason_text(reason),
            f" (log id {reason.log_id})" if reason.log_id else "",
            f"; {why}" if why else "",
            extra={"reason": reason.tag, "attempts": attempts, "why": why},
        )


configure_from_env()

__all__ = [
    "ENV_BODIES",
    "ENV_LEVEL",
    "LOGGER",
    "bodies_enabled",
    "configure",
    "configure_from_env",
    "header_secrets",
    "logged",
    "redacted",
    "safe_url",
    "without_secrets",
]
