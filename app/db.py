"""Engine construction, migrations at start-up, and the write-transaction rule."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import re
import sqlite3
import sys
import weakref
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import aiosqlite
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.querystring import QueryString

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from piccolo.engine.base import Engine

    from app.settings import Settings


def _sqlite_timestamp(value: dt.datetime) -> str:
    """SQLite keeps timestamps as text, compared as text. Piccolo writes str(datetime), which drops
    ".000000" on a whole second, so such a moment sorted wrongly against its neighbours (a lock
    written then looked expired or alive by mistake). Always write the microseconds."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc)
    return value.isoformat(sep=" ", timespec="microseconds")


sqlite3.register_adapter(dt.datetime, _sqlite_timestamp)  # after Piccolo's own, which it replaces


class _Borrowed:
    """A pooled connection lent to a Piccolo transaction: its close() gives it back instead."""

    def __init__(self, connection: aiosqlite.Connection, pool: asyncio.Queue) -> None:
        self._connection, self._pool = connection, pool

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    async def close(self) -> None:
        if self._connection.in_transaction:  # never hand on a connection mid-transaction
            await self._connection.rollback()
        self._pool.put_nowait(self._connection)


class PooledSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine opens a connection (and an aiosqlite thread) per query, about 1 ms
    each; the web process keeps a few open instead. Processes that never start the pool (the
    worker, whose jobs each run in their own event loop) keep Piccolo's behaviour."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pool: asyncio.Queue | None = None
        self._open: list[aiosqlite.Connection] = []

    async def start_connection_pool(self, size: int = 8, **_: Any) -> None:
        self._pool = asyncio.Queue()
        for _ in range(size):
            connection = await super().get_connection()  # row factory and foreign keys set there
            # WAL + NORMAL: a commit survives the process dying (a restart loses nothing); only a
            # power cut can take the last commits, and never corrupts the file
            await connection.execute("PRAGMA synchronous=NORMAL")
            self._open.append(connection)
            self._pool.put_nowait(connection)

    async def close_connection_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            for connection in self._open:
                await connection.close()
            self._open.clear()

    async def get_connection(self) -> Any:
        if self._pool is None:
            return await super().get_connection()
        return _Borrowed(await self._pool.get(), self._pool)

    # Each aiosqlite call is a trip to the connection's thread and back (~0.1 ms). Piccolo spends
    # four per statement in a transaction (PRAGMA foreign_keys, execute, fetchall, close); one
    # execute_fetchall does it all. Foreign keys are switched on once, when a connection opens.

    async def _run_in_new_connection(self, query: str, args: list[Any] | None = None,
                                     query_type: str = "generic", table: Any = None) -> Any:
        if self._pool is None or not self._has_returning():
            return await super()._run_in_new_connection(query, args, query_type, table)
        connection = await self._pool.get()
        try:
            # isolation_level=None: autocommit, so a lone statement is committed as it runs
            return await connection.execute_fetchall(query, args or [])
        finally:
            self._pool.put_nowait(connection)

    async def _run_in_existing_connection(self, connection: Any, query: str, args: list[Any] | None = None,
                                          query_type: str = "generic", table: Any = None) -> Any:
        if not self._has_returning():
            return await super()._run_in_existing_connection(connection, query, args, query_type, table)
        return await connection.execute_fetchall(query, args or [])

    def _has_returning(self) -> bool:
        """SQLite 3.35+ answers INSERT … RETURNING; older ones need Piccolo's lastrowid path."""
        if not hasattr(self, "_returning"):
            self._returning = self.get_version_sync() >= 3.35
        return self._returning


def make_engine(settings: Settings) -> Engine:
    if settings.is_postgres:
        url = urlsplit(settings.database_url)
        return PostgresEngine(
            config={
                "host": url.hostname or "localhost",
                "port": url.port or 5432,
                "user": unquote(url.username or ""),
                "password": unquote(url.password or ""),
                "database": url.path.lstrip("/"),
            }
        )
    settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    # a generous busy timeout: writers queue behind each other instead of failing
    return PooledSQLiteEngine(path=str(settings.sqlite_path), timeout=30)


def engine() -> Engine:
    from piccolo.engine import engine_finder

    found = engine_finder()
    assert found is not None, "piccolo_conf.DB is not set"
    return found


# one lock per event loop: the worker runs each job in a loop of its own, and an asyncio.Lock
# belongs to the loop it was first waited on in
_sqlite_writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


@contextlib.asynccontextmanager
async def write_tx() -> AsyncIterator[None]:
    """A transaction for writes. SQLite takes the write lock up front (IMMEDIATE): with the
    default DEFERRED, concurrent read-then-write transactions fail with 'database is locked'.
    Writers of this process also queue on an asyncio lock first: SQLite's own busy handler makes
    a waiting writer sleep in steps of up to 100 ms, which under contention costs more than the
    writes themselves; it is left for waits on other processes (the worker)."""
    db = engine()
    if isinstance(db, SQLiteEngine):
        if db.current_transaction.get() is not None:  # nested: already inside the write
            async with db.transaction(transaction_type=TransactionType.immediate):
                yield
            return
        writer = _sqlite_writers.setdefault(asyncio.get_running_loop(), asyncio.Lock())
        async with writer, db.transaction(transaction_type=TransactionType.immediate):
            yield
    else:
        async with db.transaction():
            yield


@contextlib.asynccontextmanager
async def read_snapshot() -> AsyncIterator[None]:
    """Reads that all see one moment: an export written while annotators work stays consistent
    with the count taken at its start. Writers are not blocked (WAL, MVCC)."""
    db = engine()
    if isinstance(db, SQLiteEngine):
        async with db.transaction(transaction_type=TransactionType.deferred):
            yield
    else:
        async with db.transaction():
            await db.run_querystring(QueryString("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
            yield


async def migrate(quiet: bool = True) -> int:
    """Apply pending migrations (idempotent) and say how many ran; SQLite is switched to WAL so
    readers never block the writer. Piccolo's own report (which on a new database says both "14
    already complete" and "14 not yet run") is shown only when something fails, or `quiet=False`."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    db = engine()
    if isinstance(db, SQLiteEngine):
        with sqlite3.connect(db.path) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
    said = io.StringIO()
    with contextlib.redirect_stdout(said) if quiet else contextlib.nullcontext():
        result = await run_forwards("labelwell")
    if not result.success:
        sys.stderr.write(said.getvalue())
        raise RuntimeError(f"database migration failed: {result.message}")
    ran = re.search(r"Running (\d+) migration", said.getvalue())
    if isinstance(db, SQLiteEngine):
        await asyncio.to_thread(never_reuse_ids, db.path)
    return int(ran.group(1)) if ran else 0


# SQLite gives a new row max(id) + 1, so deleting the newest row hands its id to the next one
# (a script holding the old id reaches another object). AUTOINCREMENT counts past every id ever
# used, as PostgreSQL's sequences do. Piccolo writes `"id" INTEGER PRIMARY KEY`, so after every
# migration each lw_ table that lacks it is rebuilt with it: no migration can forget.
_ID_KEY = re.compile(r'((?:"id"|\bid)\s+INTEGER\s+PRIMARY\s+KEY)(?!\s+(?:ASC|DESC)\b)', re.IGNORECASE)
_AUTOINCREMENT = re.compile(r"\bAUTOINCREMENT\b", re.IGNORECASE)


def _tables_reusing_ids(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name LIKE 'lw\\_%' ESCAPE '\\'")
    return [(name, sql) for name, sql in rows if not _AUTOINCREMENT.search(sql) and _ID_KEY.search(sql)]


def never_reuse_ids(path: str) -> list[str]:
    """Rebuild every lw_ table whose integer key lacks AUTOINCREMENT (SQLite's 12-step table
    change: create, copy, drop, rename, indexes and triggers again, foreign keys off meanwhile and
    checked after), in one transaction; the next id follows the table's largest. The tables
    rebuilt; on a database already converted this is one read of the schema."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        if not _tables_reusing_ids(conn):
            return []
        conn.execute("PRAGMA foreign_keys = OFF")  # a no-op inside a transaction: set before it
        conn.execute("BEGIN IMMEDIATE")
        try:
            todo = _tables_reusing_ids(conn)  # again, holding the lock: another process may have done it
            broken_before = set(conn.execute("PRAGMA foreign_key_check"))
            for name, sql in todo:
                _rebuild(conn, name, sql)
            broken = set(conn.execute("PRAGMA foreign_key_check")) - broken_before
            if broken:
                raise RuntimeError(f"rebuilding {', '.join(n for n, _ in todo)} broke foreign keys: {sorted(broken)[:5]}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return [name for name, _ in todo]
    finally:
        conn.close()


def _rebuild(conn: sqlite3.Connection, name: str, sql: str) -> None:
    temp = f"_lw_rebuild_{name}"
    header = re.compile(rf'^\s*CREATE\s+TABLE\s+(?:"{re.escape(name)}"|{re.escape(name)}\b)', re.IGNORECASE)
    create, found = header.subn(f'CREATE TABLE "{temp}"', _ID_KEY.sub(r"\1 AUTOINCREMENT", sql, count=1), count=1)
    if not found:
        raise RuntimeError(f"cannot read the definition of {name}: {sql[:80]}")
    attached = [row[0] for row in conn.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') AND sql IS NOT NULL", (name,))]
    columns = ", ".join(f'"{row[1]}"' for row in conn.execute(f'PRAGMA table_info("{name}")'))
    conn.execute(create)
    conn.execute(f'INSERT INTO "{temp}" ({columns}) SELECT {columns} FROM "{name}"')
    conn.execute(f'DROP TABLE "{name}"')
    conn.execute(f'ALTER TABLE "{temp}" RENAME TO "{name}"')
    for statement in attached:
        conn.execute(statement)
    # the copy set the table's sequence to its largest id; an empty table starts from nothing
    conn.execute("DELETE FROM sqlite_sequence WHERE name = ?", (name,))
    conn.execute(f'INSERT INTO sqlite_sequence (name, seq) SELECT ?, COALESCE(MAX(id), 0) FROM "{name}"', (name,))


async def open_pool() -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.start_connection_pool(min_size=1, max_size=10)
    elif isinstance(db, PooledSQLiteEngine):
        await db.start_connection_pool()


async def close_pool() -> None:
    db = engine()
    if isinstance(db, (PostgresEngine, PooledSQLiteEngine)):
        await db.close_connection_pool()


async def analyze(*tables: str) -> None:
    """Refresh PostgreSQL's statistics after a bulk change. Until autovacuum gets round to it, the
    planner believes a freshly imported project holds a few dozen rows, and sorts where it should
    walk an index (the review queue took 60 ms instead of 5). SQLite plans without them."""
    if is_postgres():
        for table in tables:
            await engine().run_querystring(QueryString(f"ANALYZE {table}"))


def is_postgres() -> bool:
    return isinstance(engine(), PostgresEngine)


def engine_name() -> str:
    return engine().engine_type


async def insert_rows(table: str, columns: list[str], rows: list[tuple]) -> None:
    """Many rows at once inside the current write_tx(): COPY on PostgreSQL, executemany on SQLite.
    Values are as the database stores them: JSON as text, datetimes, ints, floats."""
    if not rows:
        return
    db = engine()
    transaction = db.current_transaction.get()
    assert transaction is not None, "insert_rows runs inside write_tx()"
    if isinstance(db, PostgresEngine):
        await transaction.connection.copy_records_to_table(table, columns=columns, records=rows)
    else:
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        await transaction.connection.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)


def data_contains(column: str, needle: str) -> Any:
    """WHERE a JSON column's text contains `needle` (case-insensitive for ASCII): a scan, by design."""
    return text_contains([f"{column}::text" if is_postgres() else column], needle)


def text_contains(columns: list[str], needle: str) -> Any:
    """WHERE any of these SQL expressions contains `needle` as typed: % and _ are not wildcards."""
    from piccolo.columns.combination import WhereRaw

    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    operator = "ILIKE" if isinstance(engine(), PostgresEngine) else "LIKE"
    sql = " OR ".join(f"{column} {operator} {{}} ESCAPE '\\'" for column in columns)
    return WhereRaw(f"({sql})", *[f"%{escaped}%"] * len(columns))
