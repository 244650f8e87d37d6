"""Label Studio's data-manager query language: `filters` ({conjunction, items of {filter, operator,
type, value}}), `ordering` (one column, `-` for descending) and `selectedItems`, read into one
parameterised SQL WHERE and ORDER BY over lw_task. The API's task list, the task list page, saved
views and the data manager's actions all select tasks through here.

Every value reaches the database as a parameter; only names from the tables below (never from
input) become SQL text. Bad input is a 400 naming the item (`query.filters.items[2].operator`)."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from app import rows
from app.db import is_postgres
from app.errors import InputError

MAX_ITEMS = 50  # filter items in one query
MAX_SELECTED = 1_000_000  # ids in selectedItems.included / excluded
MAX_TEXT = 1000
CONJUNCTIONS = ("and", "or")
TYPES = {"Number", "Datetime", "Boolean", "String", "List", "Unknown", "Image", "Audio", "AudioPlus", "Video",
         "HyperText", "Text", "TimeSeries", "Paragraphs", "Table"}

NUMERIC = ("equal", "not_equal", "less", "greater", "less_or_equal", "greater_or_equal", "in", "not_in", "empty")
TEXT = ("equal", "not_equal", "contains", "not_contains", "regex", "empty")
BOOLEAN = ("equal", "not_equal", "empty")
LIST = ("contains", "not_contains", "equal", "not_equal", "empty")
COMPARE = {"equal": "=", "not_equal": "=", "less": "<", "greater": ">", "less_or_equal": "<=", "greater_or_equal": ">="}

T = "lw_task"
_COMPLETED = (f"(CASE WHEN {T}.is_labeled THEN (SELECT MAX(a.created_at) FROM lw_annotation a "
              f"WHERE a.task = {T}.id) END)")
_SCORE = f"(SELECT AVG(p.score) FROM lw_prediction p WHERE p.task = {T}.id)"
_REVIEWED = f"(CASE WHEN EXISTS (SELECT 1 FROM lw_review r WHERE r.task = {T}.id) THEN 1 ELSE 0 END)"
_TRUTH = (f"(CASE WHEN EXISTS (SELECT 1 FROM lw_annotation a WHERE a.task = {T}.id AND a.ground_truth) "
          f"THEN 1 ELSE 0 END)")

# column -> (SQL expression, kind, nullable); kinds: number, date, bool, text, annotators, versions
COLUMNS: dict[str, tuple[str, str, bool]] = {
    "id": (f"{T}.id", "number", False),
    "inner_id": (f"{T}.inner_id", "number", False),
    "total_annotations": (f"{T}.total_annotations", "number", False),
    "cancelled_annotations": (f"{T}.cancelled_annotations", "number", False),
    "total_predictions": (f"{T}.total_predictions", "number", False),
    "agreement": (f"{T}.agreement", "number", True),
    "predictions_score": (_SCORE, "number", True),
    "created_at": (f"{T}.created_at", "date", False),
    "updated_at": (f"{T}.updated_at", "date", False),
    "completed_at": (_COMPLETED, "date", True),
    "reviewed": (_REVIEWED, "bool", False),
    "ground_truth": (_TRUTH, "bool", False),
    "annotators": ("", "annotators", False),
    "predictions_model_versions": ("", "versions", False),
}
OPERATORS = {"number": NUMERIC, "date": NUMERIC, "bool": BOOLEAN, "text": TEXT, "annotators": LIST, "versions": LIST}
_KEY = re.compile(r"[^\"\\\x00-\x1f]{1,200}")


@dataclass
class Query:
    """A parsed query: `where` / `order` are SQL with {} placeholders, `args` their values."""

    where: str = "TRUE"
    args: list[Any] = field(default_factory=list)
    order: str = f"{T}.inner_id ASC"
    order_args: list[Any] = field(default_factory=list)
    filtered: bool = False  # anything narrower than the whole project
    regex: bool = False


class _Where:
    def __init__(self, me: int | None) -> None:
        self.parts: list[str] = []
        self.args: list[Any] = []
        self.me = me  # an annotator working blind: only their own work counts as anyone's
        self.regex = False

    def add(self, sql: str, *args: Any) -> str:
        self.args.extend(args)
        return sql


def _bad(where: str, message: str) -> InputError:
    return InputError({where: [message]})


def _name(raw: Any, where: str) -> str:
    if not isinstance(raw, str):
        raise _bad(where, "Give a column as filter:tasks:<name>.")
    name = raw.removeprefix("filter:").removeprefix("tasks:")
    if name not in COLUMNS and not (name.startswith("data.") and name != "data."):
        raise _bad(where, f"Unknown column {raw[:80]!r}; use filter:tasks:<{', '.join(COLUMNS)}> or filter:tasks:data.<key>.")
    return name


def _data_path(name: str, where: str) -> list[str]:
    keys = name.split(".")[1:]
    if len(keys) > 10 or not all(_KEY.fullmatch(k) for k in keys):
        raise _bad(where, "A data key is 1-200 characters, no quotes, backslashes or control characters.")
    return keys


def _data_expr(keys: list[str], kind: str) -> tuple[str, list[Any]]:
    """A task data field as text, number or boolean (1/0); other JSON types read as NULL."""
    if is_postgres():
        at, text = f"({T}.data #> {{}}::text[])", f"({T}.data #>> {{}}::text[])"
        if kind == "number":
            return f"(CASE WHEN jsonb_typeof{at} = 'number' THEN {text}::double precision END)", [keys, keys]
        if kind == "bool":
            return f"(CASE {at} WHEN 'true'::jsonb THEN 1 WHEN 'false'::jsonb THEN 0 END)", [keys]
        return text, [keys]
    path = "$" + "".join(f'."{k}"' for k in keys)
    if kind == "number":
        return (f"(CASE WHEN json_type({T}.data, {{}}) IN ('integer', 'real') THEN json_extract({T}.data, {{}}) END)",
                [path, path])
    if kind == "bool":
        return f"(CASE json_type({T}.data, {{}}) WHEN 'true' THEN 1 WHEN 'false' THEN 0 END)", [path]
    return f"CAST(json_extract({T}.data, {{}}) AS TEXT)", [path]


def _number(value: Any, where: str) -> float | int:
    if isinstance(value, str):
        try:
            value = float(value.strip()) if "." in value or "e" in value.lower() else int(value.strip())
        except ValueError:
            raise _bad(where, f"{value[:40]!r} is not a number.") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or abs(value) > 2**53:
        raise _bad(where, "Give a number.")
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _date(value: Any, where: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value.strip()) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        raise _bad(where, "Give a date and time as ISO 8601, e.g. 2024-01-31T12:00:00.000000Z.")
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment.astimezone(dt.timezone.utc)


def _flag(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise _bad(where, "Give true or false.")


def _text(value: Any, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _bad(where, "Give a text value.")
    text = value if isinstance(value, str) else json.dumps(value)
    if len(text) > MAX_TEXT:
        raise _bad(where, f"At most {MAX_TEXT} characters.")
    return text


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _exists(sql: str, *args: Any, w: _Where) -> str:
    return w.add(f"EXISTS ({sql})", *args)


def _list_item(kind: str, operator: str, value: Any, where: str, w: _Where) -> str:
    """annotators (user ids) and predictions_model_versions (names): "the task has one that …"."""
    if kind == "annotators":
        base = f"SELECT 1 FROM lw_annotation a WHERE a.task = {T}.id"
        if w.me is not None:
            base += " AND a.completed_by = {}"
            w.args.append(w.me)
        if operator == "empty":
            return f"{'NOT ' if _flag(value, where) else ''}{_exists(base, w=w)}"
        user = value.get("id") if isinstance(value, dict) else value
        sql = _exists(base + " AND a.completed_by = {}", _number(user, where), w=w)
    else:
        base = f"SELECT 1 FROM lw_prediction p WHERE p.task = {T}.id"
        if operator == "empty":
            return f"{'NOT ' if _flag(value, where) else ''}{_exists(base, w=w)}"
        text = _text(value, where)
        if operator in ("contains", "not_contains"):
            like = "ILIKE" if is_postgres() else "LIKE"
            sql = _exists(base + f" AND p.model_version {like} {{}} ESCAPE '\\'", _like(text), w=w)
        else:
            sql = _exists(base + " AND p.model_version = {}", text, w=w)
    return f"NOT {sql}" if operator.startswith("not_") else sql


def _item(item: Any, where: str, w: _Where) -> str:
    if not isinstance(item, dict):
        raise _bad(where, "Each filter item is an object {filter, operator, type, value}.")
    name = _name(item.get("filter"), f"{where}.filter")
    kind_of = item.get("type", "String")
    if kind_of not in TYPES:
        raise _bad(f"{where}.type", f"Unknown type {str(kind_of)[:40]!r}; use one of {', '.join(sorted(TYPES))}.")
    if name in COLUMNS:
        expr, kind, _ = COLUMNS[name]
    else:
        kind = {"Number": "number", "Boolean": "bool", "Datetime": "text"}.get(kind_of, "text")
        expr = ""
    operator = item.get("operator")
    if operator not in OPERATORS[kind]:
        raise _bad(f"{where}.operator", f"Unknown operator {str(operator)[:40]!r} for {name}; use one of "
                                        f"{', '.join(OPERATORS[kind])}.")
    if operator == "regex" and not is_postgres():
        raise _bad(f"{where}.operator", "The regex operator needs PostgreSQL; on SQLite use contains.")
    value, at = item.get("value"), f"{where}.value"
    if kind in ("annotators", "versions"):
        return _list_item(kind, operator, value, at, w)
    if name == "completed_at" and operator == "empty":  # completed is labeled: read from its index
        return w.add(f"({T}.is_labeled = {{}})", not _flag(value, at))
    expr, ea = (expr, []) if expr else _data_expr(_data_path(name, f"{where}.filter"), kind)
    if operator == "empty":
        empty = _flag(value, at)
        if kind == "text":
            sql = f"({expr} IS NULL OR {expr} = '')" if empty else f"({expr} IS NOT NULL AND {expr} != '')"
            return w.add(sql, *ea, *ea)
        return w.add(f"({expr} IS {'' if empty else 'NOT '}NULL)", *ea)
    read = {"number": _number, "date": _date, "bool": lambda v, a: int(_flag(v, a)), "text": _text}[kind]
    param = "{}"
    if operator in ("in", "not_in"):  # a range, both ends included, as Label Studio reads it
        if not isinstance(value, dict) or "min" not in value or "max" not in value:
            raise _bad(at, "in / not_in take a range {\"min\": …, \"max\": …}.")
        low, high = read(value["min"], f"{at}.min"), read(value["max"], f"{at}.max")
        param = _cast(low, high)
        sql = w.add(f"({expr} >= {param} AND {expr} <= {param})", *ea, low, *ea, high)
    elif operator in ("contains", "not_contains"):
        operator_sql = "ILIKE" if is_postgres() else "LIKE"
        sql = w.add(f"{expr} {operator_sql} {{}} ESCAPE '\\'", *ea, _like(read(value, at)))
    elif operator == "regex":
        pattern = read(value, at)
        try:
            re.compile(pattern)
        except re.error as exc:
            raise _bad(at, f"Not a regular expression: {exc}.") from None
        w.regex = True
        sql = w.add(f"{expr} ~ {{}}", *ea, pattern)
    else:
        one = read(value, at)
        sql = w.add(f"{expr} {COMPARE[operator]} {_cast(one)}", *ea, one)
    # Label Studio's "not" (Django's exclude) keeps the rows where the column is empty
    return f"(({sql}) IS NOT TRUE)" if operator.startswith("not_") else f"({sql})"


def _cast(*values: Any) -> str:
    """A fraction compared with an integer column: PostgreSQL must read the parameter as one."""
    return "{}::double precision" if is_postgres() and any(isinstance(v, float) for v in values) else "{}"


def _filters(filters: Any, where: str, w: _Where) -> str | None:
    if filters is None or filters == {}:
        return None
    if not isinstance(filters, dict):
        raise _bad(where, "filters is an object {conjunction, items}.")
    conjunction = filters.get("conjunction", "and")
    if conjunction not in CONJUNCTIONS:
        raise _bad(f"{where}.conjunction", "conjunction is and or or.")
    items = filters.get("items", [])
    if not isinstance(items, list) or len(items) > MAX_ITEMS:
        raise _bad(f"{where}.items", f"items is a list of at most {MAX_ITEMS} filters.")
    parts = [_item(item, f"{where}.items[{i}]", w) for i, item in enumerate(items)]
    return f"({f' {conjunction.upper()} '.join(parts)})" if parts else None


def _id_list(value: Any, where: str) -> list[int]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_SELECTED:
        raise _bad(where, f"Give a list of task ids (at most {MAX_SELECTED}).")
    out = set()
    for i, raw in enumerate(value):
        if isinstance(raw, bool) or not isinstance(raw, int) or not 0 < raw < 2**31:
            raise _bad(f"{where}[{i}]", "Give a task id (a number).")
        out.add(raw)
    return sorted(out)


def picked(selected: Any, where: str = "selectedItems") -> tuple[bool, list[int]]:
    """Label Studio's selectedItems, checked, as (all, ids): every task but `ids`, or only `ids`.
    Without "all", a list of included ids means only those (what a hand-written script means)."""
    if not isinstance(selected, dict) or not isinstance(selected.get("all", "included" not in selected), bool):
        raise _bad(where, "selectedItems is {\"all\": true, \"excluded\": [...]} or {\"all\": false, \"included\": [...]}.")
    if selected.get("all", "included" not in selected):
        return True, _id_list(selected.get("excluded"), f"{where}.excluded")
    return False, _id_list(selected.get("included"), f"{where}.included")


def id_set(ids: list[int], w: _Where) -> str:
    """WHERE lw_task.id is one of `ids`, as one parameter however many there are."""
    if is_postgres():
        return w.add(f"{T}.id = ANY({{}}::int[])", ids)
    return w.add(f"{T}.id IN (SELECT value FROM json_each({{}}))", json.dumps(ids))


def _selected(selected: Any, where: str, w: _Where) -> str | None:
    if selected is None:
        return None
    every, ids = picked(selected, where)
    if every:
        return f"NOT ({id_set(ids, w)})" if ids else None
    return id_set(ids, w)


def _ordering(ordering: Any, where: str, w: _Where) -> str:
    if ordering in (None, [], ""):
        return f"{T}.inner_id ASC"
    first = ordering[0] if isinstance(ordering, list) else ordering
    if not isinstance(first, str):
        raise _bad(where, "ordering is a list with one column name, - first for descending.")
    descending = first.startswith("-")
    name = _name(first.lstrip("-"), where)
    if name in ("annotators", "predictions_model_versions"):
        raise _bad(where, f"Tasks cannot be ordered by {name}.")
    if name in COLUMNS:
        expr, _, nullable = COLUMNS[name]
    else:  # JSON values keep their type: numbers order as numbers
        keys, nullable = _data_path(name, where), True
        expr = (w.add(f"({T}.data #> {{}}::text[])", keys) if is_postgres()
                else w.add(f"json_extract({T}.data, {{}})", "$" + "".join(f'."{k}"' for k in keys)))
    direction = "DESC" if descending else "ASC"
    nulls = " NULLS LAST" if nullable else ""
    return f"{expr} {direction}{nulls}, {T}.id {direction}"


def parse(body: Any, where: str = "query", me: int | None = None, extra: list[str] | None = None) -> Query:
    """A query body ({filters, ordering, selectedItems}) as SQL; `me` for an annotator working blind."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise _bad(where, "The query is a JSON object {filters, ordering, selectedItems}.")
    prefix = f"{where}." if where else ""
    w = _Where(me)
    parts = [p for p in (_filters(body.get("filters"), f"{prefix}filters", w),
                         _selected(body.get("selectedItems"), f"{prefix}selectedItems", w)) if p]
    parts += extra or []
    where_args = w.args
    w.args = []
    order = _ordering(body.get("ordering"), f"{prefix}ordering", w)
    return Query(where=" AND ".join(parts) or "TRUE", args=where_args, order=order, order_args=w.args,
                 filtered=bool(parts), regex=w.regex)


def loads(text: str | None, where: str = "query") -> dict[str, Any]:
    """The `query` parameter: JSON text of an object, or a 400 naming it."""
    if text in (None, ""):
        return {}
    try:
        body = json.loads(text)
    except ValueError:
        raise _bad(where, "query is JSON: {\"filters\": …, \"ordering\": …, \"selectedItems\": …}.") from None
    if not isinstance(body, dict):
        raise _bad(where, "query is a JSON object.")
    return body


async def _run(sql: str, args: list[Any], regex: bool) -> list[dict[str, Any]]:
    try:
        return await rows.raw(sql, *args)
    except Exception as exc:  # PostgreSQL's regular expressions are not quite Python's
        if regex and "regular expression" in str(exc).lower():
            raise _bad("query.filters", f"PostgreSQL refused the regular expression: {str(exc)[:200]}") from None
        raise


async def page_ids(project_id: int, query: Query, offset: int, limit: int) -> list[int]:
    sql = (f"SELECT {T}.id FROM {T} WHERE {T}.project = {{}} AND {query.where} ORDER BY {query.order} "
           f"LIMIT {int(limit)} OFFSET {int(offset)}")
    return [r["id"] for r in await _run(sql, [project_id, *query.args, *query.order_args], query.regex)]


async def totals(project_id: int, query: Query) -> dict[str, int]:
    """The filtered task count and its annotations (not skips) and predictions."""
    sql = (f"SELECT COUNT(*) AS n, COALESCE(SUM({T}.total_annotations), 0) AS a, "
           f"COALESCE(SUM({T}.total_predictions), 0) AS p FROM {T} WHERE {T}.project = {{}} AND {query.where}")
    row = (await _run(sql, [project_id, *query.args], query.regex))[0]
    return {"total": int(row["n"]), "total_annotations": int(row["a"]), "total_predictions": int(row["p"])}


async def selected_task_ids(project_id: int, body: dict, me: int | None = None) -> list[int]:
    """The ids of the project's tasks a data-manager body picks ({filters, selectedItems, ordering}),
    in its order; errors name the body's fields (`filters.items[0].operator`)."""
    query = parse(body, where="", me=me)
    sql = f"SELECT {T}.id FROM {T} WHERE {T}.project = {{}} AND {query.where} ORDER BY {query.order}"
    return [r["id"] for r in await _run(sql, [project_id, *query.args, *query.order_args], query.regex)]
