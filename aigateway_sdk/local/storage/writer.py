"""The group-commit writer: one thread runs every database job, in submission order.

The thread takes whatever jobs are waiting (up to `batch_max`) and runs them in one
transaction, each in its own savepoint (when there are several), then commits and only then
resolves the jobs' futures: a caller that awaited its job knows the change is committed (group
commit; many concurrent log writes cost one commit). A job that fails is rolled back to its
savepoint and fails alone; if the commit fails, the whole batch fails and `checkpoint`'s undo
puts the owner's in-memory state back as it was before the batch.

`before_submit` lets the owner hand over work it still holds (the `Logbook`'s logs) before any
other job is queued, and before the writer stops, so nothing is reordered or lost.
"""

from __future__ import annotations

import concurrent.futures
import queue
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
Job = Callable[[sqlite3.Connection], Any]
Pending = tuple[Job, concurrent.futures.Future[Any]]
Outcome = tuple[concurrent.futures.Future[Any], Any, BaseException | None]
Undo = Callable[[], None]

_STOP = object()


def _nothing_to_undo() -> Undo:
    return _pass


def _pass() -> None:
    pass


class Writer:
    """The writer thread over one connection. `start()` before use, `stop()` to drain it."""

    def __init__(self, *, batch_max: int, checkpoint: Callable[[], Undo] = _nothing_to_undo):
        self._batch_max = max(1, batch_max)
        self._checkpoint = checkpoint
        """Called before each batch; what it returns undoes the batch's in-memory changes."""
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._submit_lock = threading.Lock()
        self._closing = False
        self.before_submit: Callable[[], None] | None = None
        """Called by `submit()` before it queues a job, and by `stop()`."""

    def start(self, conn: sqlite3.Connection) -> None:
        self._closing = False
        self._thread = threading.Thread(
            target=self._run, args=(conn,), name="aigateway-store", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Run every queued job, then stop the thread (new jobs fail)."""
        if self._thread is None:
            return
        hook = self.before_submit
        if hook is not None:
            hook()
        with self._submit_lock:
            self._closing = True
            self._queue.put(_STOP)
        self._thread.join()
        self._thread = None

    def submit(
        self, job: Callable[[sqlite3.Connection], T], *, hook: bool = True
    ) -> concurrent.futures.Future[T]:
        """Queue a job; `hook=False` skips `before_submit` (for the `Logbook`'s own jobs)."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        if self._thread is None:
            future.set_exception(RuntimeError("the store is closed"))
            return future
        before = self.before_submit
        if hook and before is not None:
            before()
        with self._submit_lock:
            if self._closing:
                future.set_exception(RuntimeError("the store is closed"))
                return future
            self._queue.put((job, future))
        return future

    # the thread ------------------------------------------------------------------------------

    def _run(self, conn: sqlite3.Connection) -> None:
        stopping = False
        while not stopping:
            batch, stopping = self._take()
            if batch:
                self._run_batch(conn, batch)

    def _take(self) -> tuple[list[Pending], bool]:
        """The jobs waiting (at least one: blocks until there is), and whether to stop after."""
        batch: list[Pending] = []
        item = self._queue.get()
        while True:
            if item is _STOP:
                return batch, True
            batch.append(item)  # type: ignore[arg-type]
            if len(batch) >= self._batch_max:
                return batch, False
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return batch, False

    def _run_batch(self, conn: sqlite3.Connection, batch: list[Pending]) -> None:
        undo = self._checkpoint()
        try:
            conn.execute("BEGIN IMMEDIATE")
            if len(batch) == 1:
                outcomes = _run_alone(conn, *batch[0], undo)
            else:
                outcomes = _run_each(conn, batch)
            if conn.in_transaction:
                conn.execute("COMMIT")
        except Exception as error:  # the commit itself failed: nothing of the batch is stored
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            undo()
            _fail(batch, error)
            return
        _settle(outcomes)


def _run_alone(
    conn: sqlite3.Connection, job: Job, future: concurrent.futures.Future[Any], undo: Undo
) -> list[Outcome]:
    """A lone job needs no savepoint: if it fails, the whole transaction is rolled back.
    (Every statement is a hand-over of the GIL to the event loop and back; fewer is cheaper
    for both threads.)"""
    if not future.set_running_or_notify_cancel():
        return []
    try:
        result = job(conn)
    except Exception as error:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        undo()
        return [(future, None, error)]
    return [(future, result, None)]


def _run_each(conn: sqlite3.Connection, batch: list[Pending]) -> list[Outcome]:
    """Each job in its own savepoint: one that fails is undone and fails alone."""
    outcomes: list[Outcome] = []
    for job, future in batch:
        if not future.set_running_or_notify_cancel():
            continue
        conn.execute("SAVEPOINT job")
        try:
            result = job(conn)
        except Exception as error:
            conn.execute("ROLLBACK TO job")
            conn.execute("RELEASE job")
            outcomes.append((future, None, error))
        else:
            conn.execute("RELEASE job")
            outcomes.append((future, result, None))
    return outcomes


def _fail(batch: list[Pending], error: BaseException) -> None:
    for _job, future in batch:
        if future.done():
            continue
        if future.running() or future.set_running_or_notify_cancel():
            future.set_exception(error)


def _settle(outcomes: list[Outcome]) -> None:
    """After the commit: each job's result, or why it failed."""
    for future, result, failure in outcomes:
        if failure is None:
            future.set_result(result)
        else:
            future.set_exception(failure)


__all__ = ["Job", "Undo", "Writer"]
