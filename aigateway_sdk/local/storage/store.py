"""State on disk: gateways and logs in SQLite (WAL), every operation a job of the writer.

The tables are described in `schema`, the thread that runs the jobs (group commit, one
transaction per batch, a savepoint per job) is the `Writer`; the `Store` holds the jobs
themselves and what they share: the number of logs each gateway keeps (for its cap), which a
batch that is rolled back puts back as it was. Reads are jobs too, so they see every write
submitted before them.

Logs arrive in batches (`add_logs`, one job and one future for many rows; see `Logbook`), so
the per-log cost is one row of a multi-row INSERT, not a thread hop and a future of its own.
`before_submit` lets the `Logbook` hand over the logs it still holds before any other job is
queued, so every job still runs after every log written before it was submitted.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Callable, Sequence
from itertools import chain
from pathlib import Path
from typing import TypeVar

from aigateway_sdk.local.storage.logsql import order_sql, where_sql
from aigateway_sdk.local.storage.records import (
    GatewayRecord,
    LogCap,
    LogDeletion,
    LogPatch,
    LogQuery,
    LogRecord,
)
from aigateway_sdk.local.storage.routes import delete_gateway_routes
from aigateway_sdk.local.storage.schema import GATEWAYS, LOGS, SCHEMA
from aigateway_sdk.local.storage.writer import Undo, Writer

T = TypeVar("T")
LogWrite = tuple[LogRecord, LogCap | None]
"""A log to store and the cap of its gateway (None: no cap)."""
Counts = dict[tuple[str, str], int]

_ROWS_MAX = 32
"""Rows per multi-row INSERT at most (a power of two; fewer if SQLite allows fewer parameters)."""


def _owner_only(path: Path) -> None:
    """Create the database file readable and writable by its owner only (0600), before SQLite
    opens it: it holds stored provider keys, and SQLite gives its `-wal` and `-shm` files the
    database file's permissions. A file that exists is narrowed to 0600 too (when ours), and
    so are a `-wal`, `-shm` or `-journal` left by an earlier run: SQLite reuses those as they
    are, and the WAL receives every key stored from now on."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
        os.chmod(path, 0o600)
    except OSError:  # not ours, or not a regular file: SQLite reports what it can't open
        pass
    for suffix in ("-wal", "-shm", "-journal"):
        with contextlib.suppress(OSError):  # absent (the usual case), or not ours
            os.chmod(f"{path}{suffix}", 0o600)


class Store:
    """The SQLite database and its writer thread. `open()` before use, `close()` to flush."""

    def __init__(self, path: Path | str | None, *, batch_max: int = 512) -> None:
        self._temp_dir: tempfile.TemporaryDirectory[str] | None = None
        if path is None:
            self._temp_dir = tempfile.TemporaryDirectory(prefix="aigateway-")
            path = os.path.join(self._temp_dir.name, "gateway.db")
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None
        self._writer = Writer(batch_max=batch_max, checkpoint=self._checkpoint)
        self._counts: Counts = {}
        """Logs kept per (account, gateway): read and written by jobs only."""
        self._rows_max = 1

    @property
    def before_submit(self) -> Callable[[], None] | None:
        """Called before any job is queued, and on close (the `Logbook` flushes its logs)."""
        return self._writer.before_submit

    @before_submit.setter
    def before_submit(self, hook: Callable[[], None] | None) -> None:
        self._writer.before_submit = hook

    # lifecycle -------------------------------------------------------------------------------

    def open(self) -> list[GatewayRecord]:
        """Create the schema, start the writer and return every stored gateway."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _owner_only(self.path)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(SCHEMA)
        # Rows per multi-row INSERT: a power of two within SQLite's limit on parameters.
        fit = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // LOGS.width
        self._rows_max = min(_ROWS_MAX, 1 << (fit.bit_length() - 1))
        self._conn = conn
        gateways = [
            GATEWAYS.record(row)
            for row in conn.execute(f"SELECT {GATEWAYS.names} FROM {GATEWAYS.name}")
        ]
        self._counts = {
            (account_id, gateway_id): count
            for account_id, gateway_id, count in conn.execute(
                "SELECT account_id, gateway_id, COUNT(*) FROM logs GROUP BY account_id, gateway_id"
            )
        }
        self._writer.start(conn)
        return gateways

    def close(self) -> None:
        """Run every queued job, commit, stop the writer and close the database."""
        self._writer.stop()
        if self._conn is not None:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._conn.close()
            self._conn = None
        if self._temp_dir is not None:
            self._temp_dir.cleanup()
            self._temp_dir = None

    # jobs --------------------------------------------------------------------------------------

    def submit(
        self, job: Callable[[sqlite3.Connection], T], *, hook: bool = True
    ) -> concurrent.futures.Future[T]:
        """Queue a job; `hook=False` skips `before_submit` (for the `Logbook`'s own jobs)."""
        return self._writer.submit(job, hook=hook)

    async def call(self, job: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.wrap_future(self._writer.submit(job))

    def _checkpoint(self) -> Undo:
        """Before each batch (on the writer): how to put the counts back if it is rolled back."""
        counts = dict(self._counts)

        def undo() -> None:
            self._counts = counts

        return undo

    # gateways ----------------------------------------------------------------------------------

    @staticmethod
    def save_gateway(record: GatewayRecord) -> Callable[[sqlite3.Connection], None]:
        def job(conn: sqlite3.Connection) -> None:
            conn.execute(GATEWAYS.insert(verb="INSERT OR REPLACE"), GATEWAYS.row(record))

        return job

    def remove_gateway(
        self, account_id: str, gateway_id: str
    ) -> Callable[[sqlite3.Connection], None]:
        def job(conn: sqlite3.Connection) -> None:
            conn.execute(
                "DELETE FROM gateways WHERE account_id = ? AND id = ?", (account_id, gateway_id)
            )
            conn.execute(
                "DELETE FROM logs WHERE account_id = ? AND gateway_id = ?", (account_id, gateway_id)
            )
            delete_gateway_routes(conn, account_id, gateway_id)
            conn.execute(
                "DELETE FROM provider_keys WHERE account_id = ? AND gateway_id = ?",
                (account_id, gateway_id),
            )
            self._counts.pop((account_id, gateway_id), None)

        return job

    # logs --------------------------------------------------------------------------------------

    def add_log(
        self, record: LogRecord, cap: LogCap | None
    ) -> Callable[[sqlite3.Connection], bool]:
        """Insert a log, applying the gateway's cap. The job returns whether it was stored."""

        def job(conn: sqlite3.Connection) -> bool:
            return self.add_logs([(record, cap)])(conn)[0]

        return job

    def add_logs(self, entries: list[LogWrite]) -> Callable[[sqlite3.Connection], list[bool]]:
        """Insert logs in order, each under its gateway's cap, exactly as `add_log` one by one
        would; the job returns for each whether it was stored. All or nothing: if one row
        fails, none is stored (the `Logbook` then retries them one by one)."""

        def job(conn: sqlite3.Connection) -> list[bool]:
            keys = {(record.account_id, record.gateway_id) for record, _cap in entries}
            before = {key: self._counts.get(key) for key in keys}
            try:
                return self._insert_logs(conn, entries)
            except BaseException:
                for key, count in before.items():
                    if count is None:
                        self._counts.pop(key, None)
                    else:
                        self._counts[key] = count
                raise

        return job

    def _insert_logs(self, conn: sqlite3.Connection, entries: list[LogWrite]) -> list[bool]:
        """Rows go in by runs, many per statement; a cap that deletes the oldest logs first
        inserts the run before it, so the deletion sees every earlier log of the batch."""
        stored: list[bool] = []
        rows: list[Sequence[object]] = []
        counts = self._counts
        for record, cap in entries:
            key = (record.account_id, record.gateway_id)
            count = counts.get(key, 0)
            if cap is not None and count >= cap.limit:
                if cap.strategy == "STOP_INSERTING" or cap.limit <= 0:
                    stored.append(False)
                    continue
                if rows:
                    self._insert_rows(conn, rows)
                    rows = []
                excess = count - cap.limit + 1
                deleted = conn.execute(
                    "DELETE FROM logs WHERE seq IN (SELECT seq FROM logs WHERE account_id = ? "
                    "AND gateway_id = ? ORDER BY seq ASC LIMIT ?)",
                    (*key, excess),
                ).rowcount
                count -= deleted
            rows.append(LOGS.row(record))
            counts[key] = count + 1
            stored.append(True)
        if rows:
            self._insert_rows(conn, rows)
        return stored

    def _insert_rows(self, conn: sqlite3.Connection, rows: list[Sequence[object]]) -> None:
        """One multi-row INSERT per power-of-two chunk (rows keep their order, so their `seq`):
        one statement step, and one GIL hand-over, for many rows."""
        start, total = 0, len(rows)
        while start < total:
            size = min(self._rows_max, 1 << ((total - start).bit_length() - 1))
            chunk = rows[start : start + size]
            conn.execute(LOGS.insert(size), list(chain.from_iterable(chunk)))
            start += size

    @staticmethod
    def list_logs(
        account_id: str, gateway_id: str, query: LogQuery
    ) -> Callable[[sqlite3.Connection], tuple[list[LogRecord], int]]:
        where, params = where_sql(account_id, gateway_id, query.filters, query.search)
        order = order_sql(query.order_by, query.direction)

        def job(conn: sqlite3.Connection) -> tuple[list[LogRecord], int]:
            total = conn.execute(f"SELECT COUNT(*) FROM logs WHERE {where}", params).fetchone()[0]
            rows = conn.execute(
                f"SELECT {LOGS.names} FROM logs WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                [*params, query.per_page, (query.page - 1) * query.per_page],
            ).fetchall()
            return [LOGS.record(row) for row in rows], int(total)

        return job

    @staticmethod
    def get_log(
        account_id: str, gateway_id: str, log_id: str
    ) -> Callable[[sqlite3.Connection], LogRecord | None]:
        def job(conn: sqlite3.Connection) -> LogRecord | None:
            row = conn.execute(
                f"SELECT {LOGS.names} FROM logs WHERE id = ? AND account_id = ? AND gateway_id = ?",
                (log_id, account_id, gateway_id),
            ).fetchone()
            return None if row is None else LOGS.record(row)

        return job

    @staticmethod
    def patch_log(
        account_id: str, gateway_id: str, log_id: str, patch: LogPatch
    ) -> Callable[[sqlite3.Connection], bool]:
        sets: list[str] = []
        params: list[object] = []
        if patch.set_feedback:
            sets.append("feedback = ?")
            params.append(patch.feedback)
        if patch.set_score:
            sets.append("score = ?")
            params.append(patch.score)
        if patch.set_metadata:
            sets.append("metadata = ?")
            params.append(patch.metadata)

        def job(conn: sqlite3.Connection) -> bool:
            where = "id = ? AND account_id = ? AND gateway_id = ?"
            keys = (log_id, account_id, gateway_id)
            if not sets:
                found = conn.execute(f"SELECT 1 FROM logs WHERE {where}", keys).fetchone()
                return found is not None
            cursor = conn.execute(
                f"UPDATE logs SET {', '.join(sets)} WHERE {where}", (*params, *keys)
            )
            return cursor.rowcount > 0

        return job

    def delete_logs(
        self, account_id: str, gateway_id: str, deletion: LogDeletion
    ) -> Callable[[sqlite3.Connection], int]:
        where, params = where_sql(account_id, gateway_id, deletion.filters)
        order = order_sql(deletion.order_by, deletion.direction)

        def job(conn: sqlite3.Connection) -> int:
            if deletion.limit is None:
                sql = f"DELETE FROM logs WHERE {where}"
                args: list[object] = params
            else:
                sql = (
                    f"DELETE FROM logs WHERE seq IN (SELECT seq FROM logs WHERE {where} "
                    f"ORDER BY {order} LIMIT ?)"
                )
                args = [*params, deletion.limit]
            deleted = conn.execute(sql, args).rowcount
            key = (account_id, gateway_id)
            self._counts[key] = max(0, self._counts.get(key, 0) - deleted)
            return int(deleted)

        return job


__all__ = ["LogWrite", "Store"]
