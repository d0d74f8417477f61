"""How a replayed request finds its recorded reply: a key made of chosen parts of the request.

`match=("method", "path", "body")` is the default. A part is `method`, `host`, `path`,
`query` (its pairs, sorted), `url` (all of it), `body` (JSON compared with sorted keys, so key
order never matters), or `headers:<name>` (one header's value, after scrubbing). A callable
`(RecordedRequest) -> hashable` replaces the parts altogether.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from urllib.parse import parse_qsl

from aigateway_sdk.cassettes.records import RecordedRequest
from aigateway_sdk.validation import FieldError, ValidationError

KeyFunction = Callable[[RecordedRequest], Hashable]
MatchOn = Sequence[str] | KeyFunction

DEFAULT_MATCH: tuple[str, ...] = ("method", "path", "body")

_PARTS: dict[str, KeyFunction] = {
    "method": lambda r: r.method,
    "host": lambda r: r.host,
    "path": lambda r: r.path,
    "query": lambda r: tuple(sorted(parse_qsl(r.query, keep_blank_values=True))),
    "url": lambda r: r.url,
    "body": lambda r: None if r.body is None else r.body.canonical(),
}


def _part(name: str) -> KeyFunction:
    if name.startswith("headers:") and name[len("headers:") :].strip():
        header = name[len("headers:") :].strip().lower()
        return lambda r: r.header(header)
    try:
        return _PARTS[name]
    except KeyError:
        known = ", ".join([*_PARTS, "headers:<name>"])
        raise ValidationError(
            [FieldError(("match",), f"unknown part {name!r}; the parts are {known}")],
            what="cassette",
        ) from None


def key_function(match: MatchOn) -> KeyFunction:
    """The key of a request under `match` (a tuple of part names, or a callable)."""
    if callable(match):
        return match
    if isinstance(match, str):
        match = (match,)
    parts = tuple(_part(name) for name in match)
    return lambda request: tuple(part(request) for part in parts)


def describe(match: MatchOn) -> str:
    if callable(match):
        return getattr(match, "__name__", "a custom matcher")
    return ", ".join((match,) if isinstance(match, str) else match)


__all__ = ["DEFAULT_MATCH", "KeyFunction", "MatchOn", "describe", "key_function"]
