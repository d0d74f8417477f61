"""The HTTP client of an API wrapper: the caller's (never closed here) or one it opens on first
use and closes in `aclose`; and the `async with` that calls `aclose`."""

from __future__ import annotations

from types import TracebackType
from typing import Self

import httpx


class LazyClient:
    """`get()` gives the caller's client, else the one opened on first use (again after
    `aclose`, which closes only a client opened here)."""

    __slots__ = ("_client", "_owned", "_timeout", "_transport")

    def __init__(
        self,
        client: httpx.AsyncClient | None,
        *,
        timeout: float | None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = client
        self._owned = client is None
        self._timeout = timeout
        self._transport = transport

    def get(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout, transport=self._transport)
        return self._client

    async def aclose(self) -> None:
        if self._owned and self._client is not None:
            client, self._client = self._client, None
            await client.aclose()


class AsyncClosing:
    """`async with x:` gives `x` and awaits `x.aclose()` on the way out."""

    __slots__ = ()

    async def aclose(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


__all__ = ["AsyncClosing", "LazyClient"]
