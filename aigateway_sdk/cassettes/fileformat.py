"""The cassette file: one indented JSON document, read with the line of every interaction and
field kept, so that a corrupt or hand-edited file is an error naming the file and line.

    {
      "aigateway_cassette": 1,
      "interactions": [
        {
          "request": {"method": "POST", "url": "...", "headers": {...}, "body": {"json": ...}},
          "response": {"status": 200, "headers": {...}, "body": {"json": ...}}
        },
        {
          "request": {...},
          "response": {"status": 200, "headers": {...}, "events": [{"data": {...}}, ...]}
        }
      ]
    }

A body is `{"json": value}`, `{"text": "..."}` or `{"base64": "..."}` (binary only); a stream's
reply has `events` instead (`{"data": value}` for a one-line `data:` event of compact JSON,
else the event's text: each replays byte for byte), and `"cut": true` when the client stopped
reading it early.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from aigateway_sdk.cassettes.errors import CassetteFormatError
from aigateway_sdk.cassettes.records import (
    Body,
    Interaction,
    RecordedRequest,
    RecordedResponse,
    event_from_json,
    event_to_json,
)

VERSION = 1
MARK = "aigateway_cassette"

_DECODER = json.JSONDecoder()
_LONG_NUMBER = re.compile(r"\d{4301,}")
_SPACE = " \t\n\r"


class _Located:
    """A JSON text read with the offset of each value of the first levels kept."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text

    def line(self, offset: int) -> int:
        return self.text.count("\n", 0, offset) + 1

    def fail(self, offset: int, message: str) -> CassetteFormatError:
        return CassetteFormatError(self.path, self.line(offset), message)

    def skip(self, offset: int) -> int:
        while offset < len(self.text) and self.text[offset] in _SPACE:
            offset += 1
        return offset

    def value(self, offset: int) -> tuple[Any, int]:
        try:
            return _DECODER.raw_decode(self.text, offset)
        except json.JSONDecodeError as error:
            raise CassetteFormatError(self.path, error.lineno, f"bad JSON: {error.msg}") from None
        except RecursionError:
            raise self.fail(offset, "JSON nested too deeply") from None
        except ValueError as error:  # an integer longer than Python converts (4,300 digits)
            found = _LONG_NUMBER.search(self.text, offset)
            raise self.fail(found.start() if found else offset, f"bad JSON: {error}") from None

    def expect(self, offset: int, char: str) -> int:
        offset = self.skip(offset)
        if self.text[offset : offset + 1] != char:
            found = repr(self.text[offset]) if offset < len(self.text) else "the end of the file"
            raise self.fail(offset, f"bad JSON: expected {char!r}, found {found}")
        return offset + 1

    def members(self, offset: int) -> tuple[list[tuple[str, Any, int]], int]:
        """An object's members as (key, value, offset of the value); only the keys' level is
        scanned here, the values are read whole."""
        offset = self.expect(offset, "{")
        found: list[tuple[str, Any, int]] = []
        if self.text[self.skip(offset) : self.skip(offset) + 1] == "}":
            return found, self.skip(offset) + 1
        while True:
            offset = self.skip(offset)
            key, offset = self.value(offset)
            if not isinstance(key, str):
                raise self.fail(offset, "bad JSON: a key must be a string")
            offset = self.skip(self.expect(offset, ":"))
            value, end = self.value(offset)
            found.append((key, value, offset))
            offset = self.skip(end)
            if self.text[offset : offset + 1] == "}":
                return found, offset + 1
            offset = self.expect(offset, ",")

    def items(self, offset: int) -> list[int]:
        """The offset of each item of the array at `offset`."""
        offset = self.expect(offset, "[")
        starts: list[int] = []
        if self.text[self.skip(offset) : self.skip(offset) + 1] == "]":
            return starts
        while True:
            offset = self.skip(offset)
            starts.append(offset)
            _, offset = self.value(offset)
            offset = self.skip(offset)
            if self.text[offset : offset + 1] == "]":
                return starts
            offset = self.expect(offset, ",")


def load(path: Path) -> list[Interaction]:
    """The interactions of the cassette at `path`; `CassetteFormatError` naming the file and
    line of the first problem."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark an editor added
    except UnicodeDecodeError as error:
        raise CassetteFormatError(path, 1, f"not UTF-8 text ({error.reason})") from None
    doc = _Located(path, text)
    if not text.strip():
        raise CassetteFormatError(path, 1, "the file is empty")
    members, end = doc.members(doc.skip(0))
    if doc.skip(end) != len(text):
        raise doc.fail(doc.skip(end), "bad JSON: extra data after the document")
    top = {key: (value, offset) for key, value, offset in members}
    if MARK not in top:
        raise doc.fail(0, f"not a cassette: no {MARK!r} version field")
    version, offset = top[MARK]
    if version != VERSION:
        raise doc.fail(offset, f"unsupported cassette version {version!r} (this SDK reads 1)")
    if "interactions" not in top:
        raise doc.fail(0, "missing field 'interactions'")
    _, offset = top["interactions"]
    return [_interaction(doc, start, n) for n, start in enumerate(doc.items(offset), 1)]


def _interaction(doc: _Located, start: int, number: int) -> Interaction:
    where = f"interaction {number}"
    if doc.text[start] != "{":
        raise doc.fail(start, f"{where}: expected an object with a request and a response")
    members, _ = doc.members(start)
    fields = {key: (value, offset) for key, value, offset in members}
    for name in ("request", "response"):
        if name not in fields:
            raise doc.fail(start, f"{where}: missing field {name!r}")
    request = _parse(doc, fields["request"], f"{where}, request", _request)
    response = _parse(doc, fields["response"], f"{where}, response", _response)
    return Interaction(request, response)


def _parse(
    doc: _Located, field: tuple[Any, int], where: str, parse: Callable[[dict[str, Any]], Any]
) -> Any:
    value, offset = field
    if not isinstance(value, dict):
        raise doc.fail(offset, f"{where}: expected an object, got {type(value).__name__}")
    try:
        return parse(value)
    except (KeyError, TypeError, ValueError, binascii.Error) as error:
        message = f"missing field {error}" if isinstance(error, KeyError) else str(error)
        raise doc.fail(_field_offset(doc, offset, error), f"{where}: {message}") from None


def _field_offset(doc: _Located, offset: int, error: Exception) -> int:
    """The offset of the member a `KeyError` or a `_FieldError` names, else the object's."""
    name = error.args[0] if isinstance(error, _FieldError | KeyError) and error.args else None
    if isinstance(error, _FieldError):
        name = error.field
    if isinstance(name, str):
        for key, _, at in doc.members(offset)[0]:
            if key == name:
                return at
    return offset


class _FieldError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def _text(value: dict[str, Any], name: str) -> str:
    item = value[name]
    if not isinstance(item, str):
        raise _FieldError(name, f"expected text, got {type(item).__name__}")
    return item


def _headers(value: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    headers = value.get("headers", {})
    if not isinstance(headers, dict):
        raise _FieldError("headers", "expected an object of name: value or [values]")
    pairs: list[tuple[str, str]] = []
    for name, item in headers.items():
        items = item if isinstance(item, list) else [item]
        if not all(isinstance(i, str) for i in items):
            raise _FieldError("headers", f"{name}: expected text or a list of texts")
        if not _HEADER_NAME.fullmatch(name):
            raise _FieldError("headers", f"{name!r} is not a header name")
        for i in items:
            if _HEADER_BREAK.search(i):
                raise _FieldError("headers", f"{name}: a value must be one line (no CR, LF, NUL)")
            i.encode()  # a lone surrogate (`"\ud800"` in the file) cannot be sent
        pairs += [(name.lower(), i) for i in items]
    return tuple(pairs)


_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_BREAK = re.compile(r"[\r\n\0]")


def _body(value: dict[str, Any]) -> Body | None:
    body = value.get("body")
    if body is None:
        return None
    if not isinstance(body, dict) or len(body) != 1 or next(iter(body)) not in _KINDS:
        raise _FieldError("body", 'expected {"json": ...}, {"text": "..."} or {"base64": "..."}')
    kind, item = next(iter(body.items()))
    if kind != "json" and not isinstance(item, str):
        raise _FieldError("body", f"{kind}: expected text")
    if kind == "base64":
        base64.b64decode(item, validate=True)
    found = Body(kind, item)
    found.to_bytes(), found.canonical().encode()  # a lone surrogate fails here, not on replay
    return found


_KINDS = ("json", "text", "base64")


def _request(value: dict[str, Any]) -> RecordedRequest:
    method, url = _text(value, "method"), _text(value, "url")
    return RecordedRequest(method.upper(), url, _headers(value), _body(value))


def _response(value: dict[str, Any]) -> RecordedResponse:
    status = value["status"]
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise _FieldError("status", f"expected an HTTP status 100..599, got {status!r}")
    events = value.get("events")
    parsed: tuple[bytes, ...] | None = None
    if events is not None:
        if not isinstance(events, list):
            raise _FieldError("events", "expected a list")
        try:
            parsed = tuple(event_from_json(event) for event in events)
        except (ValueError, binascii.Error) as error:
            raise _FieldError("events", str(error)) from None
    cut = value.get("cut", False)
    if not isinstance(cut, bool):
        raise _FieldError("cut", "expected true or false")
    return RecordedResponse(status, _headers(value), _body(value), parsed, cut)


def _headers_json(pairs: Iterable[tuple[str, str]]) -> dict[str, str | list[str]]:
    out: dict[str, str | list[str]] = {}
    for name, value in pairs:
        known = out.get(name)
        if known is None:
            out[name] = value
        else:
            out[name] = [*(known if isinstance(known, list) else [known]), value]
    return out


def interaction_json(interaction: Interaction) -> dict[str, Any]:
    request, response = interaction.request, interaction.response
    req: dict[str, Any] = {"method": request.method, "url": request.url}
    if request.headers:
        req["headers"] = _headers_json(request.headers)
    if request.body is not None:
        req["body"] = request.body.to_json()
    res: dict[str, Any] = {"status": response.status}
    if response.headers:
        res["headers"] = _headers_json(response.headers)
    if response.events is not None:
        res["events"] = [event_to_json(event) for event in response.events]
    elif response.body is not None:
        res["body"] = response.body.to_json()
    if response.cut:
        res["cut"] = True
    return {"request": req, "response": res}


def _pretty(value: Any, indent: str, compact_items: bool = False) -> str:
    """Indented JSON, except that a stream's events are written one per line."""
    inner = indent + "  "
    if isinstance(value, dict) and value:
        members = [
            f"{inner}{json.dumps(key, ensure_ascii=False)}: {_pretty(item, inner, key == 'events')}"
            for key, item in value.items()
        ]
        return "{\n" + ",\n".join(members) + f"\n{indent}}}"
    if isinstance(value, list) and value:
        if compact_items:
            items = [inner + json.dumps(item, ensure_ascii=False) for item in value]
        else:
            items = [inner + _pretty(item, inner) for item in value]
        return "[\n" + ",\n".join(items) + f"\n{indent}]"
    return json.dumps(value, ensure_ascii=False)


def dump(path: Path, interactions: Iterable[dict[str, Any]]) -> None:
    """Write the cassette (already scrubbed interactions) atomically: a reader never sees half
    a file."""
    text = _pretty({MARK: VERSION, "interactions": list(interactions)}, "")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(text + "\n", encoding="utf-8")
    os.replace(partial, path)


__all__ = ["MARK", "VERSION", "dump", "interaction_json", "load"]
