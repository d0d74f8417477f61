"""State on disk: gateways and logs in SQLite (WAL), with exactly one writer thread.

Every database operation is a job run on the writer thread, in submission order. The thread
takes whatever jobs are waiting (up to `batch_max`) and runs them in one transaction, each in
its own savepoint (when there are several), then commits and only then resolves the jobs'
futures: a caller that awaited its job knows the change is committed (group commit; many
concurrent log writes cost one commit). Reads are jobs too, so they see every write submitted
before them.

Logs arrive in batches (`add_logs`, one job and one future for many rows; see `Logbook`), so
the per-log cost is one row of a multi-row INSERT, not a thread hop and a future of its own.
`before_submit` lets the `Logbook` hand over the logs it still holds before any other job is
queued, so every job still runs after every log written before it was submitted.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import queue
import sqlite3
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from aigateway_sdk._json import dumps, loads
from aigateway_sdk.control.spec import GatewaySettings
from aigateway_sdk.local.logsql import order_sql, where_sql
from aigateway_sdk.local.records import (
    GatewayRecord,
    LogCap,
    LogDeletion,
    LogPatch,
    LogQuery,
    LogRecord,
)

T = TypeVar("T")
Job = Callable[[sqlite3.Connection], Any]
LogEntry = tuple[LogRecord, LogCap | None]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS gateways (
    account_id TEXT NOT NULL,
    id TEXT NOT NULL,
    settings TEXT NOT NULL,
    created_at REAL NOT NULL,
    modified_at REAL NOT NULL,
    PRIMARY KEY (account_id, id)
);
CREATE TABLE IF NOT EXISTS logs (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL,
    gateway_id TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    model_type TEXT,
    path TEXT NOT NULL,
    success INTEGER NOT NULL,
    cached INTEGER NOT NULL,
    status_code INTEGER NOT NULL,
    duration INTEGER NOT NULL,
    tokens_in INTEGER,
    tokens_out INTEGER,
    cost REAL,
    custom_cost INTEGER NOT NULL DEFAULT 0,
    metadata TEXT,
    event_id TEXT,
    step INTEGER,
    request_type TEXT,
    request_content_type TEXT,
    response_content_type TEXT,
    request_body BLOB,
    request_size INTEGER NOT NULL DEFAULT 0,
    request_truncated INTEGER NOT NULL DEFAULT 0,
    response_body BLOB,
    response_size INTEGER NOT NULL DEFAULT 0,
    response_truncated INTEGER NOT NULL DEFAULT 0,
    feedback INTEGER,
    score REAL
);
CREATE INDEX IF NOT EXISTS logs_by_gateway ON logs (account_id, gateway_id, seq);
"""

_LOG_COLUMNS = (
    "id, account_id, gateway_id, created_ms, provider, model, model_type, path, success, cached, "
    "status_code, duration, tokens_in, tokens_out, cost, custom_cost, metadata, event_id, step, "
    "request_type, request_content_type, response_content_type, request_body, request_size, "
    "request_truncated, response_body, response_size, response_truncated, feedback, score"
)
_ROW = f"({','.join('?' * 30)})"
_INSERT_LOG = f"INSERT INTO logs ({_LOG_COLUMNS}) VALUES {_ROW}"
_INSERT_ROWS: dict[int, str] = {}  # rows per statement -> the INSERT
_STOP = object()


def _log_row(rec: LogRecord) -> tuple[object, ...]:
    return (
        rec.id,
        rec.account_id,
        rec.gateway_id,
        int(rec.created_at * 1000),
        rec.provider,
        rec.model,
        rec.model_type,
        rec.path,
        int(rec.success),
        int(rec.cached),
        rec.status_code,
        rec.duration,
        rec.tokens_in,
        rec.tokens_out,
        rec.cost,
        int(rec.custom_cost),
        rec.metadata,
        rec.event_id,
        rec.step,
        rec.request_type,
        rec.request_content_type,
        rec.response_content_type,
        rec.request_body,
        rec.request_size,
        int(rec.request_truncated),
        rec.response_body,
        rec.response_size,
        int(rec.response_truncated),
        rec.feedback,
        rec.score,
    )


def _log_from_row(row: sqlite3.Row | tuple[Any, ...]) -> LogRecord:
    return LogRecord(
        id=row[0],
        account_id=row[1],
        gateway_id=row[2],
        created_at=row[3] / 1000,
        provider=row[4],
        model=row[5],
        model_type=row[6],
        path=row[7],
        success=bool(row[8]),
        cached=bool(row[9]),
        status_code=row[10],
        duration=row[11],
        tokens_in=row[12],
        tokens_out=row[13],
        cost=row[14],
        custom_cost=bool(row[15]),
        metadata=row[16],
        event_id=row[17],
        step=row[18],
        request_type=row[19],
        request_content_type=row[20],
        response_content_type=row[21],
        request_body=bytes(row[22] or b""),
        request_size=row[23],
        request_truncated=bool(row[24]),
        response_body=bytes(row[25] or b""),
        response_size=row[26],
        response_truncated=bool(row[27]),
        feedback=row[28],
        score=row[29],
    )


class Store:
    """The SQLite database and its writer thread. `open()` before use, `close()` to flush."""

    def __init__(self, path: Path | str | None, *, batch_max: int = 512) -> None:
        self._temp_dir: tempfile.TemporaryDirectory[str] | None = None
        if path is None:
            self._temp_dir = tempfile.TemporaryDirectory(prefix="aigateway-")
            path = os.path.join(self._temp_dir.name, "gateway.db")
        self.path = Path(path)
        self._batch_max = max(1, batch_max)
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._conn: sqlite3.Connection | None = None
        self._thread: threading.Thread | None = None
        self._counts: dict[tuple[str, str], int] = {}
        self._rows_max = 1
        self._submit_lock = threading.Lock()
        self._closing = False
        self.before_submit: Callable[[], None] | None = None
        """Called by `submit()` before it queues a job (the `Logbook` flushes its logs)."""

    # lifecycle -------------------------------------------------------------------------------

    def open(self) -> list[GatewayRecord]:
        """Create the schema, start the writer and return every stored gateway."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(_SCHEMA)
        # Rows per multi-row INSERT: a power of two within SQLite's limit on parameters.
        self._rows_max = 1 << min(
            5, (conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // 30).bit_length() - 1
        )
        self._conn = conn
        gateways = [
            GatewayRecord(
                account_id=row[0],
                id=row[1],
                settings=GatewaySettings.from_json(loads(row[2])),
                created_at=row[3],
                modified_at=row[4],
            )
            for row in conn.execute(
                "SELECT account_id, id, settings, created_at, modified_at FROM gateways"
            )
        ]
        self._counts = {
            (row[0], row[1]): row[2]
            for row in conn.execute(
                "SELECT account_id, gateway_id, COUNT(*) FROM logs GROUP BY account_id, gateway_id"
            )
        }
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="aigateway-store", daemon=True)
        self._thread.start()
        return gateways

    def close(self) -> None:
        """Run every queued job, commit, stop the writer and close the database."""
        if self._thread is not None:
            hook = self.before_submit
            if hook is not None:
                hook()
            with self._submit_lock:
                self._closing = True
                self._queue.put(_STOP)
            self._thread.join()
            self._thread = None
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

    async def call(self, job: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.wrap_future(self.submit(job))

    def _run(self) -> None:
        conn = self._conn
        assert conn is not None
        stopping = False
        while not stopping:
            batch: list[tuple[Job, concurrent.futures.Future[Any]]] = []
            item = self._queue.get()
            while True:
                if item is _STOP:
                    stopping = True
                else:
                    batch.append(item)  # type: ignore[arg-type]
                if stopping or len(batch) >= self._batch_max:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._run_batch(conn, batch)

    def _run_batch(
        self, conn: sqlite3.Connection, batch: list[tuple[Job, concurrent.futures.Future[Any]]]
    ) -> None:
        outcomes: list[tuple[concurrent.futures.Future[Any], Any, BaseException | None]] = []
        counts_before = dict(self._counts)
        # A lone job needs no savepoint: if it fails, the whole transaction is rolled back.
        # (Every statement is a hand-over of the GIL to the event loop and back; fewer is
        # cheaper for both threads.)
        alone = len(batch) == 1
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job, future in batch:
                if not future.set_running_or_notify_cancel():
                    continue
                if not alone:
                    conn.execute("SAVEPOINT job")
                try:
                    result = job(conn)
                except Exception as error:
                    if alone:
                        if conn.in_transaction:
                            conn.execute("ROLLBACK")
                        self._counts = counts_before
                    else:
                        conn.execute("ROLLBACK TO job")
                        conn.execute("RELEASE job")
                    outcomes.append((future, None, error))
                else:
                    if not alone:
                        conn.execute("RELEASE job")
                    outcomes.append((future, result, None))
            if conn.in_transaction:
                conn.execute("COMMIT")
        except Exception as error:  # the commit itself failed: nothing of the batch is stored
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._counts = counts_before
            for _job, future in batch:
                if future.done():
                    continue
                if future.running() or future.set_running_or_notify_cancel():
                    future.set_exception(error)
            return
        for future, result, failure in outcomes:
            if failure is None:
                future.set_result(result)
            else:
                future.set_exception(failure)

    # gateways ----------------------------------------------------------------------------------

    @staticmethod
    def save_gateway(record: GatewayRecord) -> Callable[[sqlite3.Connection], None]:
        def job(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT OR REPLACE INTO gateways VALUES (?, ?, ?, ?, ?)",
                (
                    record.account_id,
                    record.id,
                    dumps(record.settings.settings_json()).decode(),
                    record.created_at,
                    record.modified_at,
                ),
            )

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

    def add_logs(self, entries: list[LogEntry]) -> Callable[[sqlite3.Connection], list[bool]]:
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

    def _insert_logs(self, conn: sqlite3.Connection, entries: list[LogEntry]) -> list[bool]:
        """Rows go in by runs, many per statement; a cap that deletes the oldest logs first
        inserts the run before it, so the deletion sees every earlier log of the batch."""
        stored: list[bool] = []
        rows: list[tuple[object, ...]] = []
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
            rows.append(_log_row(record))
            counts[key] = count + 1
            stored.append(True)
        if rows:
            self._insert_rows(conn, rows)
        return stored

    def _insert_rows(self, conn: sqlite3.Connection, rows: list[tuple[object, ...]]) -> None:
        """One multi-row INSERT per power-of-two chunk (rows keep their order, so their `seq`):
        one statement step, and one GIL hand-over, for many rows."""
        start, total = 0, len(rows)
        while start < total:
            size = min(self._rows_max, 1 << ((total - start).bit_length() - 1))
            sql = _INSERT_ROWS.get(size)
            if sql is None:
                sql = _INSERT_ROWS[size] = ",".join([_INSERT_LOG, *[_ROW] * (size - 1)])
            chunk = rows[start : start + size]
            conn.execute(sql, [value for row in chunk for value in row])
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
                f"SELECT {_LOG_COLUMNS} FROM logs WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                [*params, query.per_page, (query.page - 1) * query.per_page],
            ).fetchall()
            return [_log_from_row(row) for row in rows], int(total)

        return job

    @staticmethod
    def get_log(
        account_id: str, gateway_id: str, log_id: str
    ) -> Callable[[sqlite3.Connection], LogRecord | None]:
        def job(conn: sqlite3.Connection) -> LogRecord | None:
            row = conn.execute(
                f"SELECT {_LOG_COLUMNS} FROM logs WHERE id = ? AND account_id = ? "
                "AND gateway_id = ?",
                (log_id, account_id, gateway_id),
            ).fetchone()
            return None if row is None else _log_from_row(row)

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


__all__ = ["LogEntry", "Store"]
