"""Engine construction, migrations at start-up, and the write-transaction rule."""

from __future__ import annotations

import contextlib
import sqlite3
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from piccolo.engine.base import Engine

    from app.settings import Settings


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
    return SQLiteEngine(path=str(settings.sqlite_path), timeout=30)


def engine() -> Engine:
    from piccolo.engine import engine_finder

    found = engine_finder()
    assert found is not None, "piccolo_conf.DB is not set"
    return found


@contextlib.asynccontextmanager
async def write_tx() -> AsyncIterator[None]:
    """A transaction for writes. SQLite takes the write lock up front (IMMEDIATE): with the
    default DEFERRED, concurrent read-then-write transactions fail with 'database is locked'."""
    db = engine()
    if isinstance(db, SQLiteEngine):
        async with db.transaction(transaction_type=TransactionType.immediate):
            yield
    else:
        async with db.transaction():
            yield


async def migrate() -> None:
    """Apply pending migrations (idempotent); SQLite is switched to WAL so readers never block the writer."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    db = engine()
    if isinstance(db, SQLiteEngine):
        with sqlite3.connect(db.path) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
    result = await run_forwards("labelwell")
    if not result.success:
        raise RuntimeError(f"database migration failed: {result.message}")


async def open_pool() -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.start_connection_pool(min_size=1, max_size=10)


async def close_pool() -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.close_connection_pool()


def engine_name() -> str:
    return engine().engine_type
