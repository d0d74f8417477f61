"""What every plan family (gateways, routes, provider keys) shares: an action, its changes, the
JSON and the printed summary built from them."""

from __future__ import annotations

from typing import Any, ClassVar, Protocol


class Change(Protocol):
    """One change a plan lists: printed with `str`, shown in JSON as its `to_json()`."""

    def to_json(self) -> dict[str, Any]: ...


class PlanBase:
    """A base for the attrs plan classes. Each family declares `action` (a ClassVar its
    subclasses set) and `changes`, and gives `_subject_json` (the keys naming what is planned)
    and `_head` (the summary's first line)."""

    __slots__ = ()

    action: ClassVar[str]
    changes: tuple[Change, ...]

    @property
    def has_changes(self) -> bool:
        return self.action != "no-change"

    def _subject_json(self) -> dict[str, Any]:
        raise NotImplementedError

    def _head(self) -> str:
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        return {
            **self._subject_json(),
            "action": self.action,
            "changes": [change.to_json() for change in self.changes],
        }

    def describe(self) -> str:
        """A human summary: `_head`, then one indented line per change (what `plan` prints)."""
        return "\n".join([self._head(), *(f"    {change}" for change in self.changes)])


__all__ = ["Change", "PlanBase"]
