"""What a cassette holds: recorded requests and replies as values, and bodies as JSON, text or
bytes."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any, Literal

import attrs

BodyKind = Literal["json", "text", "base64"]

_EVENT_ENDS = (b"\r\n\r\n", b"\n\n", b"\r\r")
"""The blank lines that end a server-sent event."""
_DATA_EVENT = re.compile(rb"data: ([^\r\n]*)\n\n")


@attrs.frozen(slots=True)
class Body:
    """A body as written to the file: a JSON value, text, or (only for binary) base64."""

    kind: BodyKind
    value: Any

    @classmethod
    def of(cls, content: bytes, content_type: str | None) -> Body | None:
        """The readable form of `content`: JSON when it is JSON, text when it is UTF-8."""
        if not content:
            return None
        if content_type is None or "json" in content_type or content[:1] in (b"{", b"["):
            try:
                return cls("json", json.loads(content))
            except ValueError:
                pass
        try:
            return cls("text", content.decode())
        except UnicodeDecodeError:
            return cls("base64", base64.b64encode(content).decode())

    def to_bytes(self) -> bytes:
        if self.kind == "json":
            return json.dumps(self.value, ensure_ascii=False, separators=(",", ":")).encode()
        if self.kind == "text":
            return str(self.value).encode()
        return base64.b64decode(str(self.value))

    def canonical(self) -> str:
        """What body matching compares: JSON with sorted keys, else the text as written."""
        if self.kind == "json":
            return json.dumps(self.value, sort_keys=True, ensure_ascii=False)
        return f"{self.kind}:{self.value}"

    def to_json(self) -> dict[str, Any]:
        return {self.kind: self.value}


def digest(body: Body | None) -> str:
    """A short digest of a normalised body, for error messages ("-" for none)."""
    if body is None:
        return "-"
    return hashlib.sha256(body.canonical().encode()).hexdigest()[:12]


def split_events(content: bytes) -> list[bytes]:
    """Server-sent events as their blocks (each ends with its blank line); an unfinished last
    event, as a cut stream leaves it, is kept as the last block. Linear in the content: each
    kind of blank line is searched for again only once the split has passed the last one found
    (a regular expression here took quadratic time over an unfinished event: 12 s for 40 KB)."""
    blocks: list[bytes] = []
    start = 0
    found = {end: content.find(end) for end in _EVENT_ENDS}
    while True:
        for end, at in found.items():
            if at != -1 and at < start:
                found[end] = content.find(end, start)
        ahead = [(at, len(end)) for end, at in found.items() if at != -1]
        if not ahead:
            break
        at, size = min(ahead)
        blocks.append(content[start : at + size])
        start = at + size
    if start < len(content):
        blocks.append(content[start:])
    return blocks


def event_to_json(block: bytes) -> Any:
    """One event as written: `{"data": <JSON>}` for a one-line `data:` event of compact JSON
    (as servers send them), else its text (`{"base64": ...}` when it is not UTF-8)."""
    found = _DATA_EVENT.fullmatch(block)
    if found is not None:
        try:
            value = json.loads(found.group(1))
            if _compact(value) == found.group(1):  # so that it replays byte for byte
                return {"data": value}
        except ValueError:
            pass
    try:
        return block.decode()
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(block).decode()}


def _compact(value: Any) -> bytes:
    """JSON as servers stream it (and as `{"data": ...}` events are replayed)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def event_from_json(value: Any) -> bytes:
    """The bytes of an event read from a file (see `event_to_json`); `ValueError` if bad."""
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, dict) and len(value) == 1:
        if "data" in value:
            return b"data: " + _compact(value["data"]) + b"\n\n"
        if isinstance(value.get("base64"), str):
            return base64.b64decode(value["base64"], validate=True)
    raise ValueError('an event is text, {"data": <JSON>} or {"base64": "..."}')


@attrs.frozen(slots=True)
class RecordedRequest:
    """A request as recorded (after scrubbing): method, URL, the kept headers and the body."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: Body | None = None

    @property
    def path(self) -> str:
        return _url_parts(self.url)[1]

    @property
    def query(self) -> str:
        return _url_parts(self.url)[2]

    @property
    def host(self) -> str:
        return _url_parts(self.url)[0]

    def header(self, name: str) -> str | None:
        name = name.lower()
        values = [value for key, value in self.headers if key == name]
        return ", ".join(values) if values else None

    def describe(self) -> str:
        """`POST /v1/acct/gw/workers-ai/... (body 1a2b3c4d5e6f)`."""
        query = f"?{self.query}" if self.query else ""
        return f"{self.method} {self.path}{query} (body {digest(self.body)})"


def _url_parts(url: str) -> tuple[str, str, str]:
    rest = url.split("://", 1)[-1]
    host, _, path = rest.partition("/")
    path, _, query = ("/" + path).partition("?")
    return host, path, query


@attrs.frozen(slots=True)
class RecordedResponse:
    """A reply as recorded: status, headers, and either a body or, for a stream, its events.
    `cut` says the client stopped reading before the end: only what it read is here."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: Body | None = None
    events: tuple[bytes, ...] | None = None
    cut: bool = False

    def chunks(self) -> list[bytes]:
        """The reply's bytes as replayed: one chunk per event for a stream."""
        if self.events is not None:
            return list(self.events)
        return [self.body.to_bytes()] if self.body is not None else []


@attrs.frozen(slots=True)
class Interaction:
    """One request and the reply it got."""

    request: RecordedRequest
    response: RecordedResponse


__all__ = [
    "Body",
    "BodyKind",
    "Interaction",
    "RecordedRequest",
    "RecordedResponse",
    "digest",
    "event_from_json",
    "event_to_json",
    "split_events",
]
