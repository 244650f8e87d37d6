"""Reads on every request's path, in plain SQL.

Building a Piccolo query costs ~0.3 ms of Python before the database sees it, two to three times
the query itself; an authenticated request reads the user, the project and often a task. These
helpers send a fixed SQL string and build the same Table objects Piccolo would (JSON columns
decoded), so the callers stay unchanged. Writes and anything dynamic stay with Piccolo."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from piccolo.querystring import QueryString
from piccolo.table import Table

from app.db import engine

T = TypeVar("T", bound=Table)


def _build(table: type[T], row: dict[str, Any]) -> T:
    for column in table._meta.json_columns:
        name = column._meta.db_column_name
        if isinstance(row.get(name), str):
            row[name] = json.loads(row[name])
    instance = table(_ignore_missing=True, **row)
    instance._exists_in_db = True  # as Piccolo marks a fetched row: save() updates it, never inserts
    return instance


async def many(table: type[T], where: str, *args: Any, tail: str = "") -> list[T]:
    """Rows of `table` WHERE `where` ({} for each argument), as Table objects."""
    sql = f"SELECT * FROM {table._meta.tablename} WHERE {where} {tail}"
    return [_build(table, dict(row)) for row in await engine().run_querystring(QueryString(sql, *args))]


async def one(table: type[T], where: str, *args: Any) -> T | None:
    found = await many(table, where, *args, tail="LIMIT 1")
    return found[0] if found else None


async def raw(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Any SQL ({} for each argument), its rows as dicts: for aggregates and engine-specific statements."""
    return [dict(row) for row in await engine().run_querystring(QueryString(sql, *args))]
