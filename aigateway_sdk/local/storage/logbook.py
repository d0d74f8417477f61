"""Writing logs: capping bodies and handing records to the store's writer.

With `commit` durability the caller awaits the commit, so a log id that was sent is stored.
With `background` it only enqueues; the writer commits within a batch and `Store.close()`
drains the queue on shutdown.

Logs go to the writer in batches, each one job (`Store.add_logs`): one queue hand-over and,
after the commit, one `call_soon_threadsafe` to wake the waiting requests, instead of one of
each per log. A batch is handed over at the next turn of the event loop (`call_soon`) or,
while another batch is being written, when the loop hears that one is committed (the same
wake-up that answers its requests), so batches grow under load. Any other store job
hands over the logs held first (`Store.before_submit`), so jobs still run in the order they
were submitted, and `Store.close()` does the same, so none is lost on shutdown.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable

from aigateway_sdk.local.config import LogDurability
from aigateway_sdk.local.storage.records import LogCap, LogRecord
from aigateway_sdk.local.storage.store import LogWrite, Store

_log = logging.getLogger("aigateway_sdk.local")

Waiter = asyncio.Future[bool] | None
LogOutcome = bool | BaseException
"""Whether a log was stored under its gateway's cap, or why it could not be."""


def cap_body(body: bytes, cap: int) -> tuple[bytes, bool]:
    """The body cut to `cap` bytes, and whether it was cut."""
    if len(body) <= cap:
        return body, False
    return body[:cap], True


class Logbook:
    def __init__(self, store: Store, durability: LogDurability) -> None:
        self._store = store
        self.commit = durability == "commit"
        self._lock = threading.Lock()
        self._entries: list[LogWrite] = []
        self._waiters: list[Waiter] = []
        self._in_flight = 0  # batches handed to the writer and not yet done
        self._loop: asyncio.AbstractEventLoop | None = None
        store.before_submit = self.flush

    async def write(self, record: LogRecord, cap: LogCap | None) -> bool:
        """Store a log; returns whether it is (or will be) kept under the gateway's cap."""
        loop = asyncio.get_running_loop()
        if not self.commit:
            self._add(loop, record, cap, None)
            return True
        waiter: asyncio.Future[bool] = loop.create_future()
        self._add(loop, record, cap, waiter)
        return await waiter

    def write_nowait(self, record: LogRecord, cap: LogCap | None) -> None:
        """Enqueue without waiting (for streams the client abandoned: nothing to answer)."""
        self._add(asyncio.get_running_loop(), record, cap, None)

    def _add(
        self,
        loop: asyncio.AbstractEventLoop,
        record: LogRecord,
        cap: LogCap | None,
        waiter: Waiter,
    ) -> None:
        with self._lock:
            self._loop = loop
            self._entries.append((record, cap))
            self._waiters.append(waiter)
            due = len(self._entries) == 1 and not self._in_flight
        if due:
            loop.call_soon(self._flush_when_idle)

    def _flush_when_idle(self) -> None:
        # While a batch is in flight the logs wait for it: its end hands them over.
        self._flush(force=False)

    def flush(self) -> None:
        """Hand every log written so far to the store's writer now (one job)."""
        self._flush(force=True)

    def _flush(self, *, force: bool) -> None:
        with self._lock:
            if not self._entries or (self._in_flight and not force):
                return
            entries, waiters = self._entries, self._waiters
            self._entries, self._waiters = [], []
            self._in_flight += 1
            loop = self._loop

        def done(outcomes: list[LogOutcome]) -> None:
            # Usually on the writer thread, after the commit. The loop answers the waiting
            # requests and hands over the logs that came in meanwhile, in one wake-up.
            with self._lock:
                self._in_flight -= 1
                held = bool(self._entries) and not self._in_flight
            waiting = any(waiter is not None for waiter in waiters)
            if not waiting:
                _report(outcomes)
                if not held:
                    return
            try:
                if loop is None:
                    raise RuntimeError("no event loop")
                loop.call_soon_threadsafe(self._batch_done, outcomes, waiters if waiting else [])
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                if waiting:
                    _report(outcomes)
                self._flush(force=False)

        self._submit(entries, done)

    def _submit(self, entries: list[LogWrite], then: Callable[[list[LogOutcome]], None]) -> None:
        """Store `entries` as one job, then call `then` with each one's outcome. A batch that
        fails is retried one log per job, so only the logs that cannot be stored fail."""
        future = self._store.submit(self._store.add_logs(entries), hook=False)

        def done(future: concurrent.futures.Future[list[bool]]) -> None:
            error = future.exception()
            if error is None:
                then(list(future.result()))
            elif len(entries) == 1:
                then([error])
            else:
                self._one_by_one(entries, then)

        future.add_done_callback(done)

    def _one_by_one(
        self, entries: list[LogWrite], then: Callable[[list[LogOutcome]], None]
    ) -> None:
        outcomes: list[LogOutcome] = [False] * len(entries)
        remaining = [len(entries)]
        lock = threading.Lock()

        def each(index: int) -> Callable[[list[LogOutcome]], None]:
            def done(outcome: list[LogOutcome]) -> None:
                outcomes[index] = outcome[0]
                with lock:
                    remaining[0] -= 1
                    last = remaining[0] == 0
                if last:
                    then(outcomes)

            return done

        for index, entry in enumerate(entries):
            self._submit([entry], each(index))

    def _batch_done(self, outcomes: list[LogOutcome], waiters: list[Waiter]) -> None:
        if waiters:
            _resolve(outcomes, waiters)
        self._flush(force=False)


def _resolve(outcomes: list[LogOutcome], waiters: list[Waiter]) -> None:
    """On the loop: answer every waiting request of a committed (or failed) batch."""
    for waiter, outcome in zip(waiters, outcomes, strict=True):
        # No waiter, or a cancelled request (its log is stored all the same): report errors.
        if waiter is None or waiter.done():
            if isinstance(outcome, BaseException):
                _log.error("could not store a log: %r", outcome)
        elif isinstance(outcome, BaseException):
            waiter.set_exception(outcome)
        else:
            waiter.set_result(outcome)


def _report(outcomes: list[LogOutcome]) -> None:
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            _log.error("could not store a log: %r", outcome)


__all__ = ["Logbook", "cap_body"]
