"""The reviewer's queue: tasks whose annotations are all in, lowest agreement first, filtered by
label, annotator (or a pair of them) and score."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from piccolo.querystring import QueryString

from app.db import engine
from app.projects import service as projects

if TYPE_CHECKING:
    from litestar import Request

    from app.tables import Project, User

PAGE = 50
COUNT_CAP = 1_000  # "more than 1,000 tasks" is all a reviewer needs to know


async def may_review(user: User, project: Project) -> bool:
    return await projects.member_role(user, project.id) in ("admin", "reviewer")


def _number(value: str) -> float | None:
    return float(value) if re.fullmatch(r"(0(\.\d{1,4})?|1(\.0{1,4})?)", value or "") else None


def _id(value: str) -> int | None:
    return int(value) if re.fullmatch(r"[0-9]{1,9}", value or "") else None


def params_of(request: Request) -> dict[str, Any]:
    q = request.query_params
    page = _id(q.get("page", "1")) or 1
    return {"status": q.get("status", "pending") if q.get("status") in ("pending", "reviewed", "all") else "pending",
            "label": q.get("label", "").strip()[:255], "annotator": _id(q.get("annotator", "")),
            "with": _id(q.get("with", "")), "min": _number(q.get("min", "")), "max": _number(q.get("max", "")),
            "page": page}


async def tasks(project: Project, params: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """A page of the queue, and how many tasks match."""
    # all annotations in (an overlap is at least 1). No index-able bound on total_annotations: the
    # planner must walk (project, agreement, inner_id) in order instead of sorting the project
    where = ["t.project = {}", "t.total_annotations >= t.overlap"]
    args: list[Any] = [project.id]
    pending = ("EXISTS (SELECT 1 FROM lw_annotation a WHERE a.task = t.id AND a.was_cancelled = {} "
               "AND a.review_state = '')")
    adjudicated = "EXISTS (SELECT 1 FROM lw_annotation a WHERE a.task = t.id AND a.review_state = 'adjudicated')"
    if params["status"] == "pending":
        where += [pending, f"NOT {adjudicated}"]
        args.append(False)
    elif params["status"] == "reviewed":
        where.append(f"(NOT {pending} OR {adjudicated})")
        args.append(False)
    for key in ("annotator", "with"):
        if params[key] is not None:
            where.append("EXISTS (SELECT 1 FROM lw_annotation a WHERE a.task = t.id AND a.completed_by = {})")
            args.append(params[key])
    if params["label"]:
        where.append("(EXISTS (SELECT 1 FROM lw_agreement_label l WHERE l.task = t.id AND l.label = {}) OR EXISTS "
                     "(SELECT 1 FROM lw_agreement_choice c WHERE c.task = t.id AND c.category = {}))")
        args += [params["label"], params["label"]]
    if params["min"] is not None:
        where.append("t.agreement >= {}")
        args.append(params["min"])
    if params["max"] is not None:
        # the histogram's bins are [low, high): the top one also holds 1.0
        where.append("t.agreement <= {}" if params["max"] >= 1 else "t.agreement < {}")
        args.append(params["max"])
    clause = " AND ".join(where)

    async def count(extra: str = "") -> int:
        # counted up to a cap: an exact count of a million-task project's queue is a full scan
        found = await engine().run_querystring(QueryString(
            f"SELECT COUNT(*) AS n FROM (SELECT 1 FROM lw_task t WHERE {clause}{extra} LIMIT {COUNT_CAP + 1}) AS capped",
            *args))
        return found[0]["n"]

    async def page(extra: str, order: str, limit: int, offset: int) -> list[dict[str, Any]]:
        return [dict(r) for r in await engine().run_querystring(QueryString(
            f"SELECT t.id, t.inner_id, t.agreement, t.total_annotations, t.data FROM lw_task t WHERE {clause}{extra} "
            f"ORDER BY {order} LIMIT {limit} OFFSET {offset}", *args))]

    # scored tasks worst first, then the unscored: two queries, each walking the
    # (project, agreement, inner_id) index, where one ORDER BY over both would sort the project
    offset = (params["page"] - 1) * PAGE
    found = await page(" AND t.agreement IS NOT NULL", "t.agreement, t.inner_id", PAGE, offset)
    if len(found) < PAGE:
        scored = offset + len(found) if found else await count(" AND t.agreement IS NOT NULL")
        found += await page(" AND t.agreement IS NULL", "t.inner_id", PAGE - len(found), max(0, offset - scored))
    return found, await count()
