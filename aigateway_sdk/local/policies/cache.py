"""The response cache: an in-memory LRU bounded by entry count and total bytes.

Entries belong to a gateway (`scope` = (account id, gateway id)) so a gateway's entries can be
dropped when it is updated (`cache_invalidate_on_update`) or deleted. Expiry uses the injected
clock. Everything runs on the event loop: no locks, no awaits.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import attrs

Scope = tuple[str, str]


@attrs.frozen(slots=True)
class CachedReply:
    """A reply exactly as it was sent, plus what a cache-hit log needs."""

    body: bytes
    status: int
    content_type: str
    tokens_in: int | None
    tokens_out: int | None
    scope: Scope
    expires_at: float

    @property
    def size(self) -> int:
        return len(self.body) + 256


def cache_key(
    scope: Scope,
    *,
    provider: str,
    path: str,
    model: str,
    provider_auth: str,
    gateway_auth: str,
    body: bytes,
    custom_key: str | None,
) -> bytes:
    """sha256 over what makes two requests the same (Cloudflare's rule; see the docs).

    `cf-aig-cache-key` replaces the request-derived part; the gateway and, for an authenticated
    gateway, the caller's `cf-aig-authorization` always stay in, so replies never cross gateways
    or tokens.
    """
    digest = hashlib.sha256()
    for part in (scope[0], scope[1], gateway_auth):
        digest.update(part.encode())
        digest.update(b"\x00")
    if custom_key is not None:
        digest.update(b"custom\x00")
        digest.update(custom_key.encode())
        return digest.digest()
    for part in (provider, path, model, provider_auth):
        digest.update(part.encode())
        digest.update(b"\x00")
    digest.update(body)
    return digest.digest()


class ResponseCache:
    def __init__(self, *, max_entries: int, max_bytes: int, max_entry_bytes: int) -> None:
        self._entries: OrderedDict[bytes, CachedReply] = OrderedDict()
        self._bytes = 0
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_entry_bytes

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def total_bytes(self) -> int:
        return self._bytes

    def get(self, key: bytes, now: float) -> CachedReply | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires_at <= now:
            self._remove(key)
            return None
        self._entries.move_to_end(key)
        return entry

    def put(self, key: bytes, entry: CachedReply) -> bool:
        size = entry.size
        if size > self.max_entry_bytes or size > self.max_bytes or self.max_entries <= 0:
            return False
        if key in self._entries:
            self._remove(key)
        self._entries[key] = entry
        self._bytes += size
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            oldest = next(iter(self._entries))
            self._remove(oldest)
        return True

    def drop_scope(self, scope: Scope) -> int:
        doomed = [key for key, entry in self._entries.items() if entry.scope == scope]
        for key in doomed:
            self._remove(key)
        return len(doomed)

    def _remove(self, key: bytes) -> None:
        entry = self._entries.pop(key)
        self._bytes -= entry.size


__all__ = ["CachedReply", "ResponseCache", "Scope", "cache_key"]
