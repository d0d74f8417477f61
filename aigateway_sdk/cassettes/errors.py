"""The errors of cassettes: a bad file, a request with no recorded reply, a missing file.

They are not `AiError`s, nor network errors: a test that meets one is wrong (or its cassette
is), and retrying cannot help, so the SDK's retry never sees them as a failure to retry.
"""

from __future__ import annotations

from pathlib import Path


class CassetteError(Exception):
    """Any problem with a cassette; `path` is its file."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.path = path


class CassetteFormatError(CassetteError):
    """The file is not a cassette this SDK can read: bad JSON, a missing or wrong field."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(path, f"{path}:{line}: {message}")
        self.line = line


class CassetteMissError(CassetteError):
    """A replayed request has no recorded reply left that matches it."""


class CassetteNotFoundError(CassetteError):
    """Replay was asked for and the file does not exist."""


__all__ = ["CassetteError", "CassetteFormatError", "CassetteMissError", "CassetteNotFoundError"]
