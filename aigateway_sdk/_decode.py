"""Reading Cloudflare API JSON (control plane, model catalog) into typed values; any surprise
becomes `MalformedOutput`.

Server replies are read leniently (unknown keys are ignored, optional keys may be missing)
but never guessed: a present field of the wrong type is an error naming that field.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from aigateway_sdk import _json
from aigateway_sdk.contract.headers import MetadataValue
from aigateway_sdk.errors import AiError
from aigateway_sdk.transport import failures


def malformed(what: str, problem: str) -> AiError:
    """`MalformedOutput` for a reply of the API whose `what` is not as documented."""
    return AiError(failures.malformed(f"unexpected {what} from the API: {problem}"))


class Reader:
    """Typed access to one JSON object of a reply; `what` names it in errors ("gateway")."""

    __slots__ = ("body", "what")

    def __init__(self, body: object, what: str) -> None:
        if not isinstance(body, Mapping):
            raise malformed(what, f"expected an object, got {type(body).__name__}")
        self.body: Mapping[str, Any] = body
        self.what = what

    def _bad(self, key: str, expected: str) -> AiError:
        got = type(self.body.get(key)).__name__
        return malformed(self.what, f"field {key!r} should be {expected}, got {got}")

    def text(self, key: str) -> str:
        value = self.body.get(key)
        if not isinstance(value, str):
            raise self._bad(key, "a string")
        return value

    def opt_text(self, key: str) -> str | None:
        value = self.body.get(key)
        if value is None or isinstance(value, str):
            return value
        raise self._bad(key, "a string or null")

    def opt_flag(self, key: str) -> bool | None:
        value = self.body.get(key)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):  # SQLite-style booleans
            return bool(value)
        raise self._bad(key, "a boolean or null")

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.opt_flag(key)
        return default if value is None else value

    def opt_int(self, key: str) -> int | None:
        value = self.body.get(key)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise self._bad(key, "an integer or null")

    def opt_float(self, key: str) -> float | None:
        value = self.body.get(key)
        if value is None:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise self._bad(key, "a number or null")

    def time(self, key: str) -> datetime:
        value = self.opt_time(key)
        if value is None:
            raise self._bad(key, "an RFC 3339 time")
        return value

    def opt_time(self, key: str) -> datetime | None:
        return self._opt_time(key, "an RFC 3339 time")

    def opt_utc_time(self, key: str) -> datetime | None:
        """A time, taken as UTC when it names no zone (`2024-03-05 18:24:36.000`)."""
        moment = self._opt_time(key, "a time")
        return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)

    def _opt_time(self, key: str, expected: str) -> datetime | None:
        value = self.body.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                pass
        raise self._bad(key, expected)

    def opt_list(self, key: str) -> list[object]:
        """A list; a missing or null one is empty."""
        value = self.body.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self._bad(key, "a list")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        """A list of strings; a missing or null one is empty."""
        value = self.body.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._bad(key, "a list of strings")
        return tuple(value)

    def metadata(self, key: str) -> dict[str, MetadataValue]:
        """An object of scalars; Cloudflare sends log metadata as a JSON-encoded string."""
        value = self.body.get(key)
        if value is None or value == "":
            return {}
        if isinstance(value, str):
            try:
                value = _json.loads(value)
            except ValueError:
                raise self._bad(key, "a JSON object") from None
        if not isinstance(value, Mapping):
            raise self._bad(key, "an object")
        return {
            str(k): v
            for k, v in value.items()
            if isinstance(v, str | int | float | bool)  # drop nested values: not metadata
        }


__all__ = ["MetadataValue", "Reader", "malformed"]
