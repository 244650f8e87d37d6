"""Saved views: the data manager's tabs. Label Studio keeps a tab's filters, ordering and columns in
one JSON `data`; so do we, checked (its filters and ordering by the task list's own query parser)
and size-limited, and otherwise stored as given so Label Studio's frontend settings survive.

Who: everyone who sees a project's task list sees its tabs and may apply them (as in Label Studio,
where tabs are the project's, shown to all who open the data manager); any member may save one.
A tab is changed or deleted by whoever saved it or by the project's admins and reviewers, and only
they reset or reorder all of them: an annotator's tab cannot rearrange everyone's."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from litestar.exceptions import NotFoundException, PermissionDeniedException

from app import access, rows, storable
from app.clock import now
from app.db import write_tx
from app.errors import InputError
from app.projects import service as projects
from app.tables import View
from app.tasks import query
from app.tasks.filters import builder_filters, ordering_of
from app.web import id_or_none

if TYPE_CHECKING:
    from app.tables import Project, User

MAX_DATA = 64 * 1024  # bytes of a view's data as JSON
MAX_TITLE = 200
MAX_VIEWS = 200  # per project
DEFAULTS = {"title": "Tasks", "type": "list", "target": "tasks", "filters": {"conjunction": "and", "items": []},
            "ordering": [], "hiddenColumns": {}, "columnsWidth": {}, "columnsDisplayType": {}, "gridWidth": 4}


def view_json(view: View) -> dict[str, Any]:
    return {"id": view.id, "project": view.project, "user": view.user, "order": view.order, "data": view.data,
            "filter_group": None, "selected_items": None, "ordering": None}


def clean_data(data: Any, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """`data` over `base` (a PATCH) or over the defaults; a 400 naming `data.<field>` when bad."""
    if not isinstance(data, dict):
        raise InputError({"data": ["data is an object {title, filters, ordering, hiddenColumns, …}."]})
    merged = {**(base or DEFAULTS), **{k: v for k, v in data.items() if v is not None}}
    if not isinstance(merged.get("title"), str) or not merged["title"].strip() or len(merged["title"]) > MAX_TITLE:
        raise InputError({"data.title": [f"A view's title is 1-{MAX_TITLE} characters."]})
    merged["title"] = merged["title"].strip()
    if isinstance(merged.get("ordering"), str):
        merged["ordering"] = [merged["ordering"]]
    query.parse({"filters": merged.get("filters"), "ordering": merged.get("ordering")}, where="data")
    storable.check(merged, "data")
    if len(json.dumps(merged)) > MAX_DATA:
        raise InputError({"data": [f"A view's data is at most {MAX_DATA // 1024} KB."]})
    return merged


async def views_of(project_id: int) -> list[View]:
    return await rows.many(View, "project = {}", project_id, tail='ORDER BY "order", id')


async def view_in_reach(user: User, view_id: int, write: bool = False,
                        project: Project | None = None) -> tuple[View, Project]:
    """The view and its project if the user sees the project (404 otherwise; with `project`, only
    a view of that one); for a write, 403 unless it is theirs or they are the project's admin or reviewer."""
    view = await rows.one(View, "id = {}", view_id)
    if view is None or (project is not None and view.project != project.id):
        raise NotFoundException(f"View {view_id} not found.")
    project = await access.visible_project(user, view.project)
    if write and view.user != user.id and not await manages(user, project):
        raise PermissionDeniedException("Only whoever saved this view, or the project's admins and reviewers, change it.")
    return view, project


async def manages(user: User, project: Project) -> bool:
    return await projects.member_role(user, project.id) in ("admin", "reviewer")


async def create_view(user: User, project: Project, data: Any) -> View:
    clean = clean_data({} if data is None else data)
    async with write_tx():
        found = await rows.raw('SELECT COUNT(*) AS n, MAX("order") AS last FROM lw_view WHERE project = {}', project.id)
        if found[0]["n"] >= MAX_VIEWS:
            raise InputError({"project": [f"A project keeps at most {MAX_VIEWS} views."]})
        view = View(project=project.id, user=user.id, order=(found[0]["last"] or 0) + 1 if found[0]["n"] else 0,
                    data=clean)
        await view.save()
    return await rows.one(View, "id = {}", view.id)


async def update_view(view: View, data: Any, partial: bool) -> View:
    clean = clean_data(data, base=view.data if partial else None)
    async with write_tx():
        await View.update({View.data: clean, View.updated_at: now()}).where(View.id == view.id)
    return await rows.one(View, "id = {}", view.id)


async def delete_view(view: View) -> None:
    async with write_tx():
        await View.delete().where(View.id == view.id)


async def reset_views(user: User, project: Project) -> int:
    if not await manages(user, project):
        raise PermissionDeniedException("Only the project's admins and reviewers reset its views.")
    async with write_tx():
        count = len(await views_of(project.id))
        await View.delete().where(View.project == project.id)
    return count


async def order_views(user: User, project: Project, ids: Any) -> list[View]:
    """Label Studio's POST /api/dm/views/order: {"project", "ids": [view ids, left to right]}."""
    if not await manages(user, project):
        raise PermissionDeniedException("Only the project's admins and reviewers reorder its views.")
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise InputError({"ids": ["Give the view ids, left to right."]})
    async with write_tx():
        own = {v.id for v in await views_of(project.id)}
        for position, view_id in enumerate(i for i in ids if i in own):
            await View.update({View.order: position}).where(View.id == view_id)
    return await views_of(project.id)


async def move_view(user: User, view: View, project: Project, step: int) -> None:
    """One place left (-1) or right (+1) among the project's tabs."""
    ids = [v.id for v in await views_of(project.id)]
    at = ids.index(view.id)
    to = max(0, min(len(ids) - 1, at + step))
    ids.insert(to, ids.pop(at))
    await order_views(user, project, ids)


async def save_from_page(user: User, project: Project, title: str, state: str) -> View:
    """"Save as view" on the task list: the builder's rows and the sort of the page's query string."""
    pairs = parse_qsl(state[:20_000], keep_blank_values=True)
    sort = dict(pairs).get("sort", "id")
    filters = builder_filters(pairs)
    if filters is None:  # saving an applied view again under a new name keeps its filters
        shown = await rows.one(View, "id = {} AND project = {}", id_or_none(dict(pairs).get("view", "")), project.id)
        filters = shown.data.get("filters") if shown is not None else None
    return await create_view(user, project, {"title": title, "filters": filters or DEFAULTS["filters"],
                                             "ordering": ordering_of(sort)})


async def rename_view(view: View, title: str) -> View:
    return await update_view(view, {"title": title}, partial=True)
