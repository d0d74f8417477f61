"""The group-commit writer on its own: jobs in one batch fail alone, a failed commit fails the
whole batch and undoes the owner's state, and stopping runs what is queued."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from aigateway_sdk.local.storage.writer import Undo, Writer


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(tmp_path / "w.db", isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    conn.execute(
        "CREATE TABLE t (v INTEGER, parent INTEGER "
        "REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)"
    )
    yield conn
    conn.close()


class Undos:
    """A checkpoint that counts the batches begun and undone."""

    def __init__(self) -> None:
        self.begun = 0
        self.undone = 0

    def checkpoint(self) -> Undo:
        self.begun += 1

        def undo() -> None:
            self.undone += 1

        return undo


def insert(value: int, parent: int | None = None) -> Callable[[sqlite3.Connection], int]:
    def job(conn: sqlite3.Connection) -> int:
        conn.execute("INSERT INTO t VALUES (?, ?)", (value, parent))
        return value

    return job


def fail(conn: sqlite3.Connection) -> None:
    conn.execute("INSERT INTO t VALUES (99, NULL)")
    raise ValueError("no")


def values(conn: sqlite3.Connection) -> list[int]:
    return [row[0] for row in conn.execute("SELECT v FROM t ORDER BY rowid")]


def blocked(writer: Writer) -> threading.Event:
    """Hold the writer in a job until the returned event is set (queued jobs then form one
    batch)."""
    entered, release = threading.Event(), threading.Event()

    def hold(_conn: sqlite3.Connection) -> None:
        entered.set()
        release.wait(10)

    writer.submit(hold)
    assert entered.wait(10)
    return release


def test_a_failing_job_in_a_batch_fails_alone(conn: sqlite3.Connection) -> None:
    undos = Undos()
    writer = Writer(batch_max=16, checkpoint=undos.checkpoint)
    writer.start(conn)
    release = blocked(writer)
    futures = [writer.submit(insert(1)), writer.submit(fail), writer.submit(insert(2))]
    release.set()
    writer.stop()
    assert futures[0].result() == 1
    assert futures[2].result() == 2
    with pytest.raises(ValueError, match="no"):
        futures[1].result()
    assert values(conn) == [1, 2]  # the failed job's insert is rolled back to its savepoint
    assert (undos.begun, undos.undone) == (2, 0)  # the batch itself committed


def test_a_lone_job_that_fails_is_rolled_back_and_undone(conn: sqlite3.Connection) -> None:
    undos = Undos()
    writer = Writer(batch_max=16, checkpoint=undos.checkpoint)
    writer.start(conn)
    with pytest.raises(ValueError, match="no"):
        writer.submit(fail).result()
    writer.stop()
    assert values(conn) == []
    assert (undos.begun, undos.undone) == (1, 1)


@pytest.mark.parametrize("batched", [False, True])
def test_a_failed_commit_fails_every_job_of_the_batch(
    conn: sqlite3.Connection, batched: bool
) -> None:
    undos = Undos()
    writer = Writer(batch_max=16, checkpoint=undos.checkpoint)
    writer.start(conn)
    release = blocked(writer) if batched else None
    futures = [writer.submit(insert(1))] if batched else []
    futures.append(writer.submit(insert(2, parent=7)))  # no parent 7: the commit fails
    if release is not None:
        release.set()
    for future in futures:
        with pytest.raises(sqlite3.IntegrityError):
            future.result()
    after = writer.submit(insert(3)).result()
    writer.stop()
    assert after == 3
    assert values(conn) == [3]
    assert undos.undone == 1


def test_stop_runs_the_queued_jobs_and_refuses_new_ones(conn: sqlite3.Connection) -> None:
    writer = Writer(batch_max=2)
    writer.start(conn)
    release = blocked(writer)
    flushed: list[bool] = []
    writer.before_submit = lambda: flushed.append(True)
    futures = [writer.submit(insert(n), hook=False) for n in range(5)]
    release.set()
    writer.stop()
    assert [future.result() for future in futures] == list(range(5))
    assert values(conn) == list(range(5))
    assert flushed == [True]  # the hook ran on stop, not for the hook=False jobs
    with pytest.raises(RuntimeError, match="closed"):
        writer.submit(insert(9)).result()
