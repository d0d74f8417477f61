"""The database's tables, each described once: a column table gives the DDL, the INSERT and
the mapping between a row and its record by attribute name.

A `Column` is a SQL column (name and declaration) and, unless the database fills it (`seq`),
the record attribute it holds, with a conversion each way where the two differ (`created_at`
in seconds is stored as `created_ms`, booleans come back from SQLite as integers). The order
of the columns is the order of the table on disk: databases written by earlier versions have
the same columns, so `CREATE TABLE IF NOT EXISTS` leaves them as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import attrs

from aigateway_sdk._json import dumps, loads
from aigateway_sdk.contract.gateway import GatewaySettings
from aigateway_sdk.contract.provider_keys import ProviderKeySettings
from aigateway_sdk.local.storage.keyrecord import ProviderKeyRecord
from aigateway_sdk.local.storage.records import GatewayRecord, LogRecord
from aigateway_sdk.local.storage.routerecords import DeploymentRecord, RouteRecord, VersionRecord

R = TypeVar("R")
Convert = Callable[[Any], object]


@attrs.frozen(slots=True)
class Column:
    """A SQL column and the record attribute it stores (`attribute=None`: the database's own)."""

    name: str
    declaration: str
    attribute: str | None
    to_sql: Convert | None = None
    from_sql: Convert | None = None


def column(
    name: str,
    declaration: str,
    *,
    attribute: str = "",
    to_sql: Convert | None = None,
    from_sql: Convert | None = None,
) -> Column:
    """A column holding the record attribute of the same name (or `attribute`)."""
    return Column(name, declaration, attribute or name, to_sql, from_sql)


class Table(Generic[R]):
    """A table of records of one type: its DDL, INSERT statements and row mapping."""

    __slots__ = (
        "_inserts",
        "columns",
        "ddl",
        "name",
        "names",
        "placeholders",
        "record",
        "row",
        "width",
    )

    def __init__(
        self,
        name: str,
        make: Callable[..., R],
        columns: Sequence[Column],
        *,
        constraints: Sequence[str] = (),
    ) -> None:
        self.name = name
        self.columns = tuple(columns)
        definitions = [f"{c.name} {c.declaration}" for c in self.columns] + list(constraints)
        self.ddl = (
            f"CREATE TABLE IF NOT EXISTS {name} (\n    " + ",\n    ".join(definitions) + "\n)"
        )
        mapped = [c for c in self.columns if c.attribute is not None]
        self.width = len(mapped)
        """Columns per row written or read (those of the record)."""
        self.names = ", ".join(c.name for c in mapped)
        """The record's columns, in table order: for SELECT and INSERT."""
        self.placeholders = f"({','.join('?' * self.width)})"
        self.row: Callable[[R], tuple[object, ...]] = _row_function(mapped)
        """The values of a record, one per column of `names`."""
        self.record: Callable[[Sequence[Any]], R] = _record_function(make, mapped)
        """The record of a row selected as `SELECT {names}`."""
        self._inserts: dict[tuple[str, int], str] = {}

    def insert(self, rows: int = 1, *, verb: str = "INSERT") -> str:
        """`verb INTO table (columns) VALUES (?, ...), ...` for `rows` rows."""
        sql = self._inserts.get((verb, rows))
        if sql is None:
            values = ",".join([self.placeholders] * rows)
            sql = self._inserts[verb, rows] = (
                f"{verb} INTO {self.name} ({self.names}) VALUES {values}"
            )
        return sql


def _compile(source: str, namespace: dict[str, Any]) -> Any:
    """A function from generated source, as `collections.namedtuple` builds its methods: the
    conversions of a row cost what hand-written code costs (a loop applying them per column
    costs about twice as much, on every log written)."""
    return eval(source, namespace)


def _attribute(column: Column) -> str:
    attribute = str(column.attribute)
    if not attribute.isidentifier():
        raise ValueError(f"column {column.name}: {attribute!r} is not an attribute name")
    return attribute


def _row_function(columns: Sequence[Column]) -> Callable[[Any], tuple[object, ...]]:
    """`lambda record: (record.a, to_sql_1(record.b), ...)` for `columns`."""
    namespace: dict[str, Any] = {}
    values: list[str] = []
    for index, column in enumerate(columns):
        value = f"record.{_attribute(column)}"
        if column.to_sql is not None:
            namespace[f"to_sql_{index}"] = column.to_sql
            value = f"to_sql_{index}({value})"
        values.append(value)
    function: Callable[[Any], tuple[object, ...]] = _compile(
        f"lambda record: ({', '.join(values)},)", namespace
    )
    return function


def _record_function(make: Callable[..., R], columns: Sequence[Column]) -> Callable[[Any], R]:
    """`lambda row: make(a=row[0], b=from_sql_1(row[1]), ...)` for `columns`."""
    namespace: dict[str, Any] = {"make": make}
    arguments: list[str] = []
    for index, column in enumerate(columns):
        value = f"row[{index}]"
        if column.from_sql is not None:
            namespace[f"from_sql_{index}"] = column.from_sql
            value = f"from_sql_{index}({value})"
        arguments.append(f"{_attribute(column)}={value}")
    function: Callable[[Any], R] = _compile(f"lambda row: make({', '.join(arguments)})", namespace)
    return function


def _milliseconds(seconds: float) -> int:
    return int(seconds * 1000)


def _seconds(milliseconds: int) -> float:
    return milliseconds / 1000


def _blob(value: bytes | None) -> bytes:
    return bytes(value or b"")


def _settings_text(settings: GatewaySettings) -> str:
    return dumps(settings.settings_json()).decode()


def _settings(text: str) -> GatewaySettings:
    return GatewaySettings.from_json(loads(text))


GATEWAYS: Table[GatewayRecord] = Table(
    "gateways",
    GatewayRecord,
    [
        column("account_id", "TEXT NOT NULL"),
        column("id", "TEXT NOT NULL"),
        column("settings", "TEXT NOT NULL", to_sql=_settings_text, from_sql=_settings),
        column("created_at", "REAL NOT NULL"),
        column("modified_at", "REAL NOT NULL"),
    ],
    constraints=["PRIMARY KEY (account_id, id)"],
)


def _key_settings_text(settings: ProviderKeySettings) -> str:
    return dumps(settings.to_json()).decode()


def _key_settings(text: str) -> ProviderKeySettings:
    return ProviderKeySettings(**loads(text))


# The secret is stored as given: the file is created owner-only (see `Store.open`).
PROVIDER_KEYS: Table[ProviderKeyRecord] = Table(
    "provider_keys",
    ProviderKeyRecord,
    [
        column("account_id", "TEXT NOT NULL"),
        column("gateway_id", "TEXT NOT NULL"),
        column("id", "TEXT NOT NULL"),
        column("settings", "TEXT NOT NULL", to_sql=_key_settings_text, from_sql=_key_settings),
        column("secret_id", "TEXT NOT NULL"),
        column("secret", "TEXT NOT NULL"),
        column("modified_at", "REAL NOT NULL"),
    ],
    constraints=["PRIMARY KEY (account_id, gateway_id, id)"],
)

# Booleans are stored as the integers 1 and 0, converted before they are bound: sqlite3 binds
# an int directly but a bool through its adapter lookup, several times slower per value.
LOGS: Table[LogRecord] = Table(
    "logs",
    LogRecord,
    [
        Column("seq", "INTEGER PRIMARY KEY", None),  # the order logs were stored in
        column("id", "TEXT NOT NULL UNIQUE"),
        column("account_id", "TEXT NOT NULL"),
        column("gateway_id", "TEXT NOT NULL"),
        column(
            "created_ms",
            "INTEGER NOT NULL",
            attribute="created_at",
            to_sql=_milliseconds,
            from_sql=_seconds,
        ),
        column("provider", "TEXT NOT NULL"),
        column("model", "TEXT NOT NULL"),
        column("model_type", "TEXT"),
        column("path", "TEXT NOT NULL"),
        column("success", "INTEGER NOT NULL", to_sql=int, from_sql=bool),
        column("cached", "INTEGER NOT NULL", to_sql=int, from_sql=bool),
        column("status_code", "INTEGER NOT NULL"),
        column("duration", "INTEGER NOT NULL"),
        column("tokens_in", "INTEGER"),
        column("tokens_out", "INTEGER"),
        column("cost", "REAL"),
        column("custom_cost", "INTEGER NOT NULL DEFAULT 0", to_sql=int, from_sql=bool),
        column("metadata", "TEXT"),
        column("event_id", "TEXT"),
        column("step", "INTEGER"),
        column("request_type", "TEXT"),
        column("request_content_type", "TEXT"),
        column("response_content_type", "TEXT"),
        column("request_body", "BLOB", from_sql=_blob),
        column("request_size", "INTEGER NOT NULL DEFAULT 0"),
        column("request_truncated", "INTEGER NOT NULL DEFAULT 0", to_sql=int, from_sql=bool),
        column("response_body", "BLOB", from_sql=_blob),
        column("response_size", "INTEGER NOT NULL DEFAULT 0"),
        column("response_truncated", "INTEGER NOT NULL DEFAULT 0", to_sql=int, from_sql=bool),
        column("feedback", "INTEGER"),
        column("score", "REAL"),
    ],
)

# Dynamic routes (`storage/routes.py`): a route, its versions and its deployments.
ROUTES: Table[RouteRecord] = Table(
    "routes",
    RouteRecord,
    [
        column("account_id", "TEXT NOT NULL"),
        column("gateway_id", "TEXT NOT NULL"),
        column("id", "TEXT NOT NULL"),
        column("name", "TEXT NOT NULL"),
        column("created_at", "REAL NOT NULL"),
        column("modified_at", "REAL NOT NULL"),
    ],
    constraints=["PRIMARY KEY (account_id, gateway_id, id)"],
)
ROUTE_VERSIONS: Table[VersionRecord] = Table(
    "route_versions",
    VersionRecord,
    [
        column("account_id", "TEXT NOT NULL"),
        column("gateway_id", "TEXT NOT NULL"),
        column("route_id", "TEXT NOT NULL"),
        column("id", "TEXT NOT NULL"),
        column("number", "INTEGER NOT NULL"),
        column("elements", "TEXT NOT NULL"),
        column("created_at", "REAL NOT NULL"),
    ],
    constraints=[
        "PRIMARY KEY (account_id, gateway_id, route_id, id)",
        "UNIQUE (account_id, gateway_id, route_id, number)",
    ],
)
ROUTE_DEPLOYMENTS: Table[DeploymentRecord] = Table(
    "route_deployments",
    DeploymentRecord,
    [
        column("account_id", "TEXT NOT NULL"),
        column("gateway_id", "TEXT NOT NULL"),
        column("route_id", "TEXT NOT NULL"),
        column("id", "TEXT NOT NULL"),
        column("version_id", "TEXT NOT NULL"),
        column("number", "INTEGER NOT NULL"),
        column("created_at", "REAL NOT NULL"),
    ],
    constraints=[
        "PRIMARY KEY (account_id, gateway_id, route_id, id)",
        "UNIQUE (account_id, gateway_id, route_id, number)",
    ],
)

SCHEMA = ";\n".join(
    [
        GATEWAYS.ddl,
        LOGS.ddl,
        ROUTES.ddl,
        ROUTE_VERSIONS.ddl,
        ROUTE_DEPLOYMENTS.ddl,
        PROVIDER_KEYS.ddl,
        "CREATE INDEX IF NOT EXISTS logs_by_gateway ON logs (account_id, gateway_id, seq)",
    ]
)
"""Every table and index (run with `executescript`; it changes nothing that exists)."""


__all__ = [
    "GATEWAYS",
    "LOGS",
    "PROVIDER_KEYS",
    "ROUTES",
    "ROUTE_DEPLOYMENTS",
    "ROUTE_VERSIONS",
    "SCHEMA",
    "Column",
    "Table",
    "column",
]
