"""The reviewer's queue: tasks whose annotations are all in, lowest agreement first, filtered by
label, annotator (or a pair of them) and score."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from litestar.exceptions import NotFoundException, PermissionDeniedException

from app.auth import user_of
from app.projects import service as projects
from app.rows import raw
from app.web import MAX_ID, id_or_none

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection
    from litestar.handlers.base import BaseRouteHandler

    from app.tables import Project, User

PAGE = 50
COUNT_CAP = 1_000  # "more than 1,000 tasks" is all a reviewer needs to know


async def may_review(user: User, project: Project) -> bool:
    return await projects.member_role(user, project.id) in ("admin", "reviewer")


async def reviewers_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """The guard of the review pages, /projects/{project_id}/…: a project the user cannot see is not
    found, one where they do not review is forbidden (before any task or annotation is looked up)."""
    project_id = connection.path_params["project_id"]
    if not 0 <= project_id <= MAX_ID:  # as app.asgi.before_request, which runs after the guards
        raise NotFoundException("Not found")
    role = await projects.member_role(user_of(connection), project_id)
    if role is None:  # not a member: the project is not visible (admins have a role everywhere)
        raise NotFoundException(f"No project with id {project_id}")
    if role not in ("admin", "reviewer"):
        raise PermissionDeniedException("Only the project's reviewers and admins review")


def _number(value: str) -> float | None:
    return float(value) if re.fullmatch(r"(0(\.\d{1,4})?|1(\.0{1,4})?)", value or "") else None


def params_of(q: Any) -> dict[str, Any]:
    """The queue's filters from a query string (a multi-dict); anything unusable is no filter."""
    page = id_or_none(q.get("page", "1")) or 1
    return {"status": q.get("status", "pending") if q.get("status") in ("pending", "reviewed", "all") else "pending",
            "label": q.get("label", "").strip()[:255], "annotator": id_or_none(q.get("annotator", "")),
            "with": id_or_none(q.get("with", "")), "min": _number(q.get("min", "")), "max": _number(q.get("max", "")),
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
        found = await raw(
            f"SELECT COUNT(*) AS n FROM (SELECT 1 FROM lw_task t WHERE {clause}{extra} LIMIT {COUNT_CAP + 1}) AS capped",
            *args)
        return found[0]["n"]

    async def page(extra: str, order: str, limit: int, offset: int) -> list[dict[str, Any]]:
        return await raw(
            f"SELECT t.id, t.inner_id, t.agreement, t.total_annotations, t.data FROM lw_task t WHERE {clause}{extra} "
            f"ORDER BY {order} LIMIT {limit} OFFSET {offset}", *args)

    # scored tasks worst first, then the unscored: two queries, each walking the
    # (project, agreement, inner_id) index, where one ORDER BY over both would sort the project
    offset = (params["page"] - 1) * PAGE
    found = await page(" AND t.agreement IS NOT NULL", "t.agreement, t.inner_id", PAGE, offset)
    if len(found) < PAGE:
        scored = offset + len(found) if found else await count(" AND t.agreement IS NOT NULL")
        found += await page(" AND t.agreement IS NULL", "t.inner_id", PAGE - len(found), max(0, offset - scored))
    return found, await count()
