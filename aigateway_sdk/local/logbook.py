"""Writing logs: capping bodies and handing records to the store's writer.

With `commit` durability the caller awaits the commit, so a log id that was sent is stored.
With `background` it only enqueues; the writer commits within a batch and `Store.close()`
drains the queue on shutdown.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging

from aigateway_sdk.local.config import LogDurability
from aigateway_sdk.local.records import LogCap, LogRecord
from aigateway_sdk.local.store import Store

_log = logging.getLogger("aigateway_sdk.local")


def cap_body(body: bytes, cap: int) -> tuple[bytes, bool]:
    """The body cut to `cap` bytes, and whether it was cut."""
    if len(body) <= cap:
        return body, False
    return body[:cap], True


class Logbook:
    def __init__(self, store: Store, durability: LogDurability) -> None:
        self._store = store
        self.commit = durability == "commit"

    async def write(self, record: LogRecord, cap: LogCap | None) -> bool:
        """Store a log; returns whether it is (or will be) kept under the gateway's cap."""
        future = self._store.submit(self._store.add_log(record, cap))
        if not self.commit:
            future.add_done_callback(_report)
            return True
        return await asyncio.wrap_future(future)

    def write_nowait(self, record: LogRecord, cap: LogCap | None) -> None:
        """Enqueue without waiting (for streams the client abandoned: nothing to answer)."""
        self._store.submit(self._store.add_log(record, cap)).add_done_callback(_report)


def _report(future: concurrent.futures.Future[bool]) -> None:
    if not future.cancelled() and future.exception() is not None:
        _log.error("could not store a log: %r", future.exception())


__all__ = ["Logbook", "cap_body"]
