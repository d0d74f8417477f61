"""Keeping the server's own provider keys (`UpstreamRoute.api_key`) out of everything that
leaves the gateway: an upstream that quotes the `Authorization` it received (in an error
message, or in a reply) must not hand the key to the caller, the cache or the request log.

Each key is removed in the forms it can come back in: as sent (so `Bearer <key>` becomes
`Bearer [REDACTED]`), JSON-escaped and percent-encoded. Streams are redacted across event
boundaries: text that could be the start of a key is held back until the next event shows
whether it is one.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

from aigateway_sdk._json import dumps

REDACTED = "[REDACTED]"


def _forms(key: str) -> set[str]:
    return {key, dumps(key)[1:-1].decode(), quote(key, safe="")}


class Redactor:
    """Replaces every form of the given keys with `[REDACTED]`. Empty keys are ignored."""

    __slots__ = ("_forms", "_raw")

    def __init__(self, keys: Iterable[str | None]) -> None:
        forms: set[str] = set()
        for key in keys:
            if key:
                forms |= _forms(key)
        # longest first, so a form that contains another one is replaced whole
        self._forms = tuple(sorted(forms, key=lambda form: (-len(form), form)))
        self._raw = tuple(form.encode() for form in self._forms)

    def __bool__(self) -> bool:
        return bool(self._forms)

    def extended(self, keys: Iterable[str | None]) -> Redactor:
        """A redactor of these keys' forms and of this one's (keys stored while running)."""
        merged = Redactor(())
        forms = set(self._forms) | set(Redactor(keys)._forms)
        merged._forms = tuple(sorted(forms, key=lambda form: (-len(form), form)))
        merged._raw = tuple(form.encode() for form in merged._forms)
        return merged

    def text(self, value: str) -> str:
        for form in self._forms:
            if form in value:
                value = value.replace(form, REDACTED)
        return value

    def optional(self, value: str | None) -> str | None:
        return None if value is None else self.text(value)

    def data(self, value: bytes) -> bytes:
        for form in self._raw:
            if form in value:
                value = value.replace(form, REDACTED.encode())
        return value

    def held_back(self, value: str) -> int:
        """How many characters at the end of `value` could begin a key (0 when none)."""
        longest = 0
        for form in self._forms:
            for size in range(min(len(form) - 1, len(value)), longest, -1):
                if value.endswith(form[:size]):
                    longest = size
                    break
        return longest

    def stream(self) -> StreamRedactor:
        return StreamRedactor(self)


class StreamRedactor:
    """Redacts a text that arrives in pieces: `feed` each piece, then `flush` at the end."""

    __slots__ = ("_pending", "_redactor")

    def __init__(self, redactor: Redactor) -> None:
        self._redactor = redactor
        self._pending = ""

    def feed(self, piece: str) -> str:
        """What can be sent now (possibly empty)."""
        if not self._redactor:
            return piece
        text = self._redactor.text(self._pending + piece)
        keep = self._redactor.held_back(text)
        self._pending = text[len(text) - keep :] if keep else ""
        return text[: len(text) - keep]

    def flush(self) -> str:
        """The text held back at the end (it was not the start of a key after all)."""
        rest, self._pending = self._pending, ""
        return rest


NO_KEYS = Redactor(())

__all__ = ["NO_KEYS", "REDACTED", "Redactor", "StreamRedactor"]
