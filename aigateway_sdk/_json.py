"""JSON in one place: orjson when it is installed (the `local` extra), the standard library else.

`loads` accepts bytes or str; `dumps` returns compact UTF-8 bytes. Both raise `ValueError`
(JSONDecodeError and orjson's errors are ValueError subclasses) on bad input.
"""

from __future__ import annotations

import json as _std
from typing import Any

try:  # pragma: no cover - which branch runs depends on the environment
    import orjson as _orjson

    def loads(data: bytes | bytearray | memoryview | str) -> Any:
        return _orjson.loads(data)

    def dumps(value: Any) -> bytes:
        return _orjson.dumps(value)

except ImportError:  # pragma: no cover

    def loads(data: bytes | bytearray | memoryview | str) -> Any:
        return _std.loads(bytes(data) if isinstance(data, memoryview) else data)

    def dumps(value: Any) -> bytes:
        return _std.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def dumps_str(value: Any) -> str:
    return dumps(value).decode()


__all__ = ["dumps", "dumps_str", "loads"]
