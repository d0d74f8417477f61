"""JSON in one place: orjson when it is installed (the `local` extra), the standard library else.

`loads` accepts bytes or str; `dumps` returns compact UTF-8 bytes. `loads` raises `ValueError`
(JSONDecodeError and orjson's errors are ValueError subclasses) on bad input, and `dumps`
`TypeError` on a value it cannot write, with either library: the standard library's
`RecursionError` on a document nested too deeply (orjson reads at most 1,024 levels and writes
at most 254; the standard library stops where Python's recursion limit does) is turned into
those, so a hostile reply nested 10,000 levels deep is bad JSON, not a crash.
"""

from __future__ import annotations

import json as _std
from typing import Any

TOO_DEEP = "JSON nested too deeply"


def _std_loads(data: bytes | bytearray | memoryview | str) -> Any:
    try:
        return _std.loads(bytes(data) if isinstance(data, memoryview) else data)
    except RecursionError:
        raise ValueError(TOO_DEEP) from None


def _std_dumps(value: Any) -> bytes:
    try:
        return _std.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    except RecursionError:
        raise TypeError(TOO_DEEP) from None


try:  # pragma: no cover - which branch runs depends on the environment
    import orjson as _orjson

    def loads(data: bytes | bytearray | memoryview | str) -> Any:
        return _orjson.loads(data)

    def dumps(value: Any) -> bytes:
        return _orjson.dumps(value)

except ImportError:  # pragma: no cover
    loads = _std_loads
    dumps = _std_dumps


def dumps_str(value: Any) -> str:
    return dumps(value).decode()


__all__ = ["TOO_DEEP", "dumps", "dumps_str", "loads"]
