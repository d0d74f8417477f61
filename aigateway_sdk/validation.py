"""Field-named validation errors shared by every value the SDK checks when it is built."""

from __future__ import annotations

import attrs


@attrs.frozen(slots=True)
class FieldError:
    """One problem with one field: `path` names it (`("cache_ttl",)`), `message` says what."""

    path: tuple[str, ...]
    message: str

    def __str__(self) -> str:
        return f"{'.'.join(self.path) or '<body>'}: {self.message}"


class ValidationError(ValueError):
    """A value was built with bad fields. `errors` lists every problem, each naming its field."""

    def __init__(
        self, errors: list[FieldError] | tuple[FieldError, ...], *, what: str = ""
    ) -> None:
        self.errors = tuple(errors)
        prefix = f"invalid {what}: " if what else "invalid value: "
        super().__init__(prefix + "; ".join(str(e) for e in self.errors))

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(".".join(e.path) for e in self.errors)


__all__ = ["FieldError", "ValidationError"]
