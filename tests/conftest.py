"""Shared test setup. Async tests use anyio's pytest plugin; asyncio unless a test asks for trio
with `@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])`."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
