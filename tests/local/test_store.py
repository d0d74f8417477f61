"""The log writer: batched inserts store exactly what one insert per log would, caps included,
a bad row costs only itself, and batching keeps the order of jobs and flushes on close."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from aigateway_sdk.local.storage.logbook import Logbook
from aigateway_sdk.local.storage.records import LogCap, LogQuery, LogRecord
from aigateway_sdk.local.storage.store import LogWrite, Store


def record(number: int, gateway: str = "g") -> LogRecord:
    return LogRecord(
        id=f"log-{number:06d}",
        account_id="a",
        gateway_id=gateway,
        created_at=1_700_000_000 + number,
        provider="workers-ai",
        model="m",
        path="workers-ai/m",
        success=True,
        cached=False,
        status_code=200,
        duration=1,
        request_body=b"{}",
        request_size=2,
    )


def rows(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT gateway_id, id FROM logs ORDER BY seq").fetchall()


def entries() -> list[LogWrite]:
    stop = LogCap(3, "STOP_INSERTING")
    oldest = LogCap(4, "DELETE_OLDEST")
    none = LogCap(0, "DELETE_OLDEST")
    found: list[LogWrite] = []
    for number in range(40):
        gateway, cap = [("stop", stop), ("oldest", oldest), ("free", None), ("none", none)][
            number % 4 if number % 7 else 1
        ]
        found.append((record(number, gateway), cap))
    return found


def test_a_batch_stores_what_one_insert_per_log_stores(tmp_path: Path) -> None:
    one_by_one, batched = Store(tmp_path / "one.db"), Store(tmp_path / "batch.db")
    one_by_one.open()
    batched.open()
    try:
        expected = [one_by_one.submit(one_by_one.add_log(*entry)).result() for entry in entries()]
        got = batched.submit(batched.add_logs(entries()[:17])).result()
        got += batched.submit(batched.add_logs(entries()[17:])).result()
    finally:
        one_by_one.close()
        batched.close()
    assert got == expected
    assert rows(tmp_path / "batch.db") == rows(tmp_path / "one.db")
    kept = rows(tmp_path / "batch.db")
    assert sum(1 for gateway, _ in kept if gateway == "stop") == 3
    assert sum(1 for gateway, _ in kept if gateway == "oldest") == 4
    assert not [gateway for gateway, _ in kept if gateway == "none"]


def test_a_batch_with_a_bad_row_stores_nothing_and_keeps_the_counts(tmp_path: Path) -> None:
    store = Store(tmp_path / "gw.db")
    store.open()
    cap = LogCap(3, "STOP_INSERTING")
    try:
        assert store.submit(store.add_logs([(record(1), cap)])).result() == [True]
        failed = store.submit(store.add_logs([(record(2), cap), (record(1), cap)]))
        with pytest.raises(sqlite3.IntegrityError):
            failed.result()
        later = store.submit(store.add_logs([(record(n), cap) for n in (3, 4, 5)])).result()
    finally:
        store.close()
    assert later == [True, True, False]  # the failed batch did not count toward the cap
    assert [log_id for _, log_id in rows(tmp_path / "gw.db")] == [
        "log-000001",
        "log-000003",
        "log-000004",
    ]


def test_a_bad_row_fails_alone(tmp_path: Path) -> None:
    store = Store(tmp_path / "gw.db")
    store.open()
    logbook = Logbook(store, "commit")
    cap = LogCap(3, "STOP_INSERTING")

    async def main() -> list[bool | BaseException]:
        assert await logbook.write(record(1), cap)
        batch = [record(2), record(1), record(3), record(4)]  # one turn: one batch
        return await asyncio.gather(
            *(logbook.write(each, cap) for each in batch), return_exceptions=True
        )

    try:
        outcomes = asyncio.run(main())
    finally:
        store.close()
    assert outcomes[0] is True
    assert isinstance(outcomes[1], sqlite3.IntegrityError)  # the id is taken
    assert outcomes[2:] == [True, False]  # the failed row did not count toward the cap
    stored = [log_id for _, log_id in rows(tmp_path / "gw.db")]
    assert stored == ["log-000001", "log-000002", "log-000003"]


def test_logs_of_one_loop_turn_are_one_job_and_jobs_keep_their_order(tmp_path: Path) -> None:
    store = Store(tmp_path / "gw.db")
    store.open()
    logbook = Logbook(store, "background")
    jobs: list[int] = []
    add_logs = store.add_logs

    def counting(batch: list[LogWrite]):  # type: ignore[no-untyped-def]
        jobs.append(len(batch))
        return add_logs(batch)

    store.add_logs = counting  # type: ignore[method-assign]

    async def main() -> int:
        for number in range(10):
            logbook.write_nowait(record(number), None)
        # Submitted in the same turn, before the logs' batch was due: it still sees them.
        _logs, total = await store.call(Store.list_logs("a", "g", LogQuery()))
        return total

    try:
        assert asyncio.run(main()) == 10
    finally:
        store.close()
    assert jobs == [10]


@pytest.mark.parametrize("durability", ["commit", "background"])
def test_close_stores_the_logs_still_held(tmp_path: Path, durability: str) -> None:
    store = Store(tmp_path / "gw.db")
    store.open()
    logbook = Logbook(store, durability)  # type: ignore[arg-type]

    async def main() -> None:
        for number in range(5):
            logbook.write_nowait(record(number), None)
        await asyncio.to_thread(store.close)  # before the loop's turn hands the logs over

    asyncio.run(main())
    assert len(rows(tmp_path / "gw.db")) == 5


def test_a_cancelled_writer_still_gets_its_log_stored(tmp_path: Path) -> None:
    store = Store(tmp_path / "gw.db")
    store.open()
    logbook = Logbook(store, "commit")

    async def main() -> list[bool]:
        cancelled = asyncio.create_task(logbook.write(record(1), None))
        waited = asyncio.create_task(logbook.write(record(2), None))
        await asyncio.sleep(0)
        cancelled.cancel()
        return [await waited]

    try:
        assert asyncio.run(main()) == [True]
    finally:
        store.close()
    assert len(rows(tmp_path / "gw.db")) == 2


@pytest.mark.parametrize("durability", ["commit", "background"])
def test_logs_written_while_a_batch_is_in_flight_are_all_stored(
    tmp_path: Path, durability: str
) -> None:
    store = Store(tmp_path / "gw.db")
    store.open()
    logbook = Logbook(store, durability)  # type: ignore[arg-type]
    cap = LogCap(150, "STOP_INSERTING")

    async def writer(number: int) -> bool:
        await asyncio.sleep(number % 7 / 1000)
        return await logbook.write(record(number), cap)

    async def main() -> list[bool]:
        return await asyncio.gather(*(writer(number) for number in range(400)))

    try:
        kept = asyncio.run(main())
    finally:
        store.close()
    stored = rows(tmp_path / "gw.db")
    assert len(stored) == 150
    if durability == "commit":
        assert kept.count(True) == 150
        assert {f"log-{number:06d}" for number, ok in enumerate(kept) if ok} == {
            log_id for _, log_id in stored
        }
