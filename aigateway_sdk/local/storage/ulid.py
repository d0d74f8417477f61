"""ULIDs (26 characters, Crockford base32: 48-bit millisecond time + 80 random bits).

Monotonic within one generator: ids made in the same millisecond increase by one in their
random part, so sorting ids sorts logs by creation order.
"""

from __future__ import annotations

import os
import random
import threading

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_MAX = (1 << 80) - 1


def encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


class UlidGenerator:
    """Thread-safe monotonic ULID source."""

    __slots__ = ("_last_ms", "_last_rand", "_lock", "_random")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Seeded once from the OS: ids must be unique and unguessable enough, not secret keys,
        # and os.urandom per id costs more than the rest of a cache hit.
        self._random = random.Random(os.urandom(32))
        self._last_ms = -1
        self._last_rand = 0

    def new(self, seconds: float) -> str:
        millis = max(int(seconds * 1000), 0) & ((1 << 48) - 1)
        with self._lock:
            if millis <= self._last_ms:
                millis = self._last_ms
                rand = self._last_rand + 1
                if rand > _RANDOM_MAX:  # astronomically unlikely: borrow the next millisecond
                    millis, rand = millis + 1, self._random.getrandbits(79)
            else:
                rand = self._random.getrandbits(79)  # a spare bit: headroom for increments
            self._last_ms, self._last_rand = millis, rand
        return encode(millis, 10) + encode(rand, 16)


def timestamp_ms(ulid: str) -> int:
    """The millisecond timestamp inside a ULID."""
    value = 0
    for char in ulid[:10].upper():
        value = value * 32 + _ALPHABET.index(char)
    return value


__all__ = ["UlidGenerator", "timestamp_ms"]
