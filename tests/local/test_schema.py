"""The column tables: every record attribute has its column, a record comes back from its row
as it went in, and a database written by an earlier version opens and reads as before."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import attrs
import pytest

from aigateway_sdk.contract.gateway import GatewaySettings
from aigateway_sdk.local.storage.records import GatewayRecord, LogCap, LogRecord
from aigateway_sdk.local.storage.schema import GATEWAYS, LOGS, Table, column
from aigateway_sdk.local.storage.store import Store


def full_log(number: int) -> LogRecord:
    """A log with every attribute set, none to its default."""
    return LogRecord(
        id=f"log-{number}",
        account_id="acct",
        gateway_id="gw",
        created_at=1_700_000_000.25 + number,
        provider="openai",
        model="gpt-x",
        path="openai/chat/completions",
        success=False,
        cached=True,
        status_code=502,
        duration=17,
        tokens_in=3,
        tokens_out=5,
        cost=0.125,
        custom_cost=True,
        metadata='{"k":"v"}',
        event_id="ev",
        step=2,
        model_type="chat",
        request_type="stream",
        request_content_type="application/json",
        response_content_type="text/event-stream",
        request_body=b'{"a":1}',
        request_size=70,
        request_truncated=True,
        response_body=b"data: x",
        response_size=90,
        response_truncated=True,
        feedback=-1,
        score=42.5,
    )


def test_every_record_attribute_has_one_column() -> None:
    for table, record in ((LOGS, LogRecord), (GATEWAYS, GatewayRecord)):
        mapped = [column.attribute for column in table.columns if column.attribute is not None]
        assert sorted(mapped) == sorted(attrs.fields_dict(record))
        assert table.width == len(mapped)
        assert table.insert(3).count("?") == 3 * table.width


def test_a_log_comes_back_from_the_database_as_it_went_in(tmp_path: Path) -> None:
    store = Store(tmp_path / "gw.db")
    store.open()
    try:
        written = [full_log(n) for n in range(3)]
        assert store.submit(store.add_logs([(log, None) for log in written])).result() == [True] * 3
        read = [store.submit(Store.get_log("acct", "gw", log.id)).result() for log in written]
    finally:
        store.close()
    assert read == written
    with sqlite3.connect(tmp_path / "gw.db") as conn:
        row = conn.execute("SELECT created_ms, success, custom_cost FROM logs").fetchone()
    assert row == (1_700_000_000_250, 0, 1)  # milliseconds and integers on disk


def test_a_gateway_comes_back_from_the_database_as_it_went_in(tmp_path: Path) -> None:
    settings = GatewaySettings.from_json({"collect_logs": True, "cache_ttl": 60})
    gateway = GatewayRecord("acct", "gw", settings, 1.5, 2.5)
    store = Store(tmp_path / "gw.db")
    store.open()
    try:
        store.submit(Store.save_gateway(gateway)).result()
    finally:
        store.close()
    store = Store(tmp_path / "gw.db")
    try:
        assert store.open() == [gateway]
    finally:
        store.close()


# The tables as an earlier version (before the column tables) created them, written out so a
# change of column order or type shows here.
_EARLIER_SCHEMA = """
CREATE TABLE gateways (account_id TEXT NOT NULL, id TEXT NOT NULL, settings TEXT NOT NULL,
    created_at REAL NOT NULL, modified_at REAL NOT NULL, PRIMARY KEY (account_id, id));
CREATE TABLE logs (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, account_id TEXT NOT NULL,
    gateway_id TEXT NOT NULL, created_ms INTEGER NOT NULL, provider TEXT NOT NULL,
    model TEXT NOT NULL, model_type TEXT, path TEXT NOT NULL, success INTEGER NOT NULL,
    cached INTEGER NOT NULL, status_code INTEGER NOT NULL, duration INTEGER NOT NULL,
    tokens_in INTEGER, tokens_out INTEGER, cost REAL, custom_cost INTEGER NOT NULL DEFAULT 0,
    metadata TEXT, event_id TEXT, step INTEGER, request_type TEXT, request_content_type TEXT,
    response_content_type TEXT, request_body BLOB, request_size INTEGER NOT NULL DEFAULT 0,
    request_truncated INTEGER NOT NULL DEFAULT 0, response_body BLOB,
    response_size INTEGER NOT NULL DEFAULT 0, response_truncated INTEGER NOT NULL DEFAULT 0,
    feedback INTEGER, score REAL);
"""


def test_a_database_of_an_earlier_version_opens_reads_and_writes(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = full_log(1)
    with sqlite3.connect(path) as conn:
        conn.executescript(_EARLIER_SCHEMA)
        # a row as the earlier version wrote it: positional, in the table's column order
        conn.execute(
            "INSERT INTO logs VALUES (NULL" + ", ?" * 30 + ")",
            (
                *("log-1", "acct", "gw", 1_700_000_001_250, "openai", "gpt-x", "chat"),
                *("openai/chat/completions", 0, 1, 502, 17, 3, 5, 0.125, 1, '{"k":"v"}'),
                *("ev", 2, "stream", "application/json", "text/event-stream", b'{"a":1}'),
                *(70, 1, b"data: x", 90, 1, -1, 42.5),
            ),
        )
    store = Store(path)
    store.open()
    try:
        assert store.submit(Store.get_log("acct", "gw", "log-1")).result() == old
        cap = LogCap(2, "STOP_INSERTING")  # the stored log counts toward the cap
        added = store.submit(store.add_logs([(full_log(n), cap) for n in (2, 3)])).result()
    finally:
        store.close()
    assert added == [True, False]
    with sqlite3.connect(path) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(logs)")]
    assert columns == [column.name for column in LOGS.columns]


def test_a_column_must_name_an_attribute() -> None:
    with pytest.raises(ValueError, match="not an attribute name"):
        Table("t", dict, [column("a", "TEXT", attribute="a) or (1")])
