"""What the task list (the data manager) and one task's page show."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from litestar.exceptions import NotFoundException
from piccolo.columns.combination import WhereRaw

from app import rows
from app.clock import iso
from app.review import queue as review_queue
from app.review import service as review
from app.storages import resolve
from app.tables import Task, View
from app.tasks import query, service
from app.errors import InputError
from app.tasks.filters import BUILDER_COLUMNS, builder_filters, builder_rows, filters_of, list_params, sort_of
from app.uploads import media_store, thumbnails
from app.uploads.service import media_of
from app.tasks.schemas import annotation_json, prediction_json, task_json
from app.web import flag, id_or_none, optional_id, small_int
from components import ConfigError, parse_config
from components.config import LabelConfig
from components.variables import top_key

if TYPE_CHECKING:
    from app.tables import Project, User

PAGE_SIZE = 50
OPERATORS = [("equal", "="), ("not_equal", "≠"), ("less", "<"), ("greater", ">"), ("less_or_equal", "≤"),
             ("greater_or_equal", "≥"), ("in", "between (a..b)"), ("not_in", "not between (a..b)"),
             ("contains", "contains"), ("not_contains", "does not contain"), ("regex", "matches (regex)"),
             ("empty", "is empty (true/false)")]
MAX_PAGE = 999_999


def status_of(task: Task, reviewed: set[int]) -> str:
    if task.id in reviewed:
        return "reviewed"
    if task.is_labeled:
        return "done"
    return "in progress" if task.total_annotations + task.cancelled_annotations else "new"


async def rows_page(project: Project, params: dict[str, Any], page: int, sees_all: bool,
                    selection: query.Query | None = None) -> dict[str, Any]:
    filters = filters_of(params)
    where = service.conditions(project.id, **filters)
    if selection is not None and selection.filtered:  # the filter builder's (or a view's) filters
        where.append(WhereRaw(f"({selection.where})", *selection.args))
    column = service.SORTS[params["sort"].lstrip("-")]
    ascending = not params["sort"].startswith("-")
    # a deferred join: the page's ids come from an index alone, then only those rows are read,
    # so page 20,000 costs an index walk, not a million rows
    ids = Task.select(Task.id).where(*where).order_by(
        column, ascending=ascending).order_by(Task.id, ascending=ascending).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    rows = await Task.objects().where(Task.id.is_in(ids)).order_by(column, ascending=ascending).order_by(
        Task.id, ascending=ascending).output(load_json=True)
    # the unfiltered count is a counter; a filtered one is counted (indexed, but for a text search)
    narrowed = any(filters.values()) or len(where) > 1
    count = await Task.count().where(*where) if narrowed else project.task_number
    ids = [t.id for t in rows]
    annotators = await service.annotators_by_task(ids)
    if not sees_all:  # annotators work blind: they see only themselves in the column
        annotators = {t: [e for e in emails if e == params["me"]] for t, emails in annotators.items()}
    return {"rows": rows, "count": count, "page": page, "pages": max(1, -(-count // PAGE_SIZE)),
            "annotators": annotators, "reviewed": await service.reviewed_ids(ids)}


async def page_selection(user: User, project: Project, args: Any) -> dict[str, Any]:
    """The page's filter builder (or the applied view's filters) and the saved views: the rows to
    show, the parsed selection, and a message when a row does not read."""
    pairs = list(args.multi_items())
    views = await rows.many(View, "project = {}", project.id, tail='ORDER BY "order", id')
    active = next((v for v in views if v.id == id_or_none(args.get("view", ""))), None)
    filters = builder_filters(pairs)
    if filters is None and active is not None:
        filters = active.data.get("filters")
    me = None if await service.sees_all_annotations(user, project) else user.id
    try:
        selection, error = query.parse({"filters": filters}, where="filters", me=me), None
    except InputError as exc:
        selection, error = None, "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items())
    conj = filters.get("conjunction", "and") if isinstance(filters, dict) else "and"
    return {"views": views, "active_view": active, "builder": builder_rows(filters), "conj": conj,
            "filter_error": error, "selection": selection,
            "page_query": urlencode([(k, v) for k, v in pairs if k != "page"])}


async def task_list(user: User, project: Project, args: Any) -> dict[str, Any]:
    """The list page's context for a query string: filters, sort and page (bad values fall back)."""
    params = list_params(args)
    chosen = await page_selection(user, project, args)
    if "sort" not in args and chosen["active_view"] is not None:
        params["sort"] = sort_of(chosen["active_view"].data.get("ordering")) or params["sort"]
    sees_all = await service.sees_all_annotations(user, project)
    params["me"] = user.email
    if not sees_all and params["annotator"] not in (None, user.id):
        params["annotator"] = user.id  # nobody else's work to filter by
    page = max(1, small_int(args.get("page", "1"), 6) or 1)
    config = _config_or_none(project)
    keys = config.required_keys() if config else []
    listed = await rows_page(project, params, page, sees_all, chosen["selection"])
    listed.update(await page_thumbnails(project, config, listed["rows"]))
    # data columns: the config's, the first listed task's, and any a builder row names
    named = [r["column"].split("|")[0].removeprefix("data.") for r in chosen["builder"] if r["column"].startswith("data.")]
    data_keys = list(dict.fromkeys([*keys, *(listed["rows"][0].data if listed["rows"] else {}), *named]))[:100]
    columns = [(name, name.replace("_", " ")) for name in BUILDER_COLUMNS] + [
        (f"data.{k}|{kind}", f"data.{k} ({kind.lower()})") for k in data_keys for kind in ("String", "Number")]
    return {"project": project, "params": params, "keys": keys, "statuses": service.STATUSES,
            "status_of": status_of, "sees_all": sees_all, "builder_columns": columns, "operators": OPERATORS,
            **chosen, **listed}


def _config_or_none(project: Project) -> LabelConfig | None:
    """The project's config; None when it no longer parses (the list still shows its tasks)."""
    try:
        return parse_config(project.label_config)
    except ConfigError:
        return None


def image_keys(config: LabelConfig | None) -> list[str]:
    """The task-data keys the config shows as a picture (<Image value="$key">)."""
    found = config.image_values() if config else []
    return list(dict.fromkeys(top_key(v[1:]) for v in found if v.startswith("$")))


async def page_thumbnails(project: Project, config: LabelConfig | None, tasks: list[Task],
                          tries: int = 0) -> dict[str, Any]:
    """The thumbnails of a page's pictures by (task id, key), the missing ones asked for, and the
    tasks whose thumbnails the page should ask about again (in a second, for a minute at most)."""
    keys = image_keys(config)
    pictures = {(t.id, key): t.data[key] for t in tasks if isinstance(t.data, dict) for key in keys
                if isinstance(t.data.get(key), str)}
    thumbs = await thumbnails.for_rows(project.id, pictures) if pictures else {}
    pending = sorted({task_id for (task_id, _), v in thumbs.items() if v["state"] == "queued"})
    return {"thumbs": thumbs, "image_keys": keys, "thumbs_pending": pending if tries < 60 else [],
            "thumb_tries": tries + 1}


async def thumbnails_again(project: Project, params: Any) -> dict[str, Any]:
    """The page's question a second later: which of these tasks' thumbnails are there now."""
    ids = [i for i in map(id_or_none, params.getall("task", [])) if i is not None][:PAGE_SIZE]
    tasks = await Task.objects().where(Task.project == project.id, Task.id.is_in(ids or [0])).output(load_json=True)
    config = _config_or_none(project)
    tries = small_int(params.get("tries", "0"), 3) or 0
    return {"project": project, **await page_thumbnails(project, config, tasks, tries)}


async def thumbnail_file(project: Project, task: Task, key: str) -> tuple[str, str] | None:
    """The made thumbnail of the task's picture under `key` (its key in the upload store, its version), or None."""
    value = task.data.get(key) if isinstance(task.data, dict) else None
    target = thumbnails.place(project.id, value) if isinstance(value, str) else None
    found = await media_store.exists(target) if target is not None else None
    return (target, found.stamp) if target is not None and found is not None else None


async def matching_ids(user: User, project: Project, args: Any) -> list[int]:
    """Every task the page's filters (controls, builder rows, view) match: "all matching" actions."""
    chosen = await page_selection(user, project, args)
    where = service.conditions(project.id, **filters_of(list_params(args)))
    if chosen["selection"] is not None and chosen["selection"].filtered:
        where.append(WhereRaw(f"({chosen['selection'].where})", *chosen["selection"].args))
    return [r["id"] for r in await Task.select(Task.id).where(*where)]


async def task_detail(user: User, project: Project, task: Task) -> dict[str, Any]:
    """One task's page: its data, every annotation and prediction the user may see, and (for those
    who see others' work) its review history."""
    config = parse_config(project.label_config)
    annotations = await service.annotations_of(user, project, [task.id])
    predictions = await service.predictions_of([task.id])
    media = await media_of(task.data)
    context = {"project": project, "task": task,
               "annotations": [(a, config.render(task.data, a.result, readonly=True, media=media)) for a in annotations],
               "predictions": [(p, config.render(task.data, p.result, readonly=True, media=media)) for p in predictions],
               "plain": config.render(task.data, readonly=True, media=media), "history": None, "reviewer": False}
    if await service.sees_all_annotations(user, project):
        context.update(history=await review.history(task.id), reviewer=await review_queue.may_review(user, project))
    return context


async def saved_view(project_id: int, view_id: int) -> View | None:
    return await rows.one(View, "id = {} AND project = {}", view_id, project_id)


async def api_query(user: User, project: Project, params: Mapping[str, Any]) -> query.Query:
    """GET /api/tasks's selection: `query`, a saved `view`'s filters and ordering, `only_annotated`,
    `after` (keyset paging by inner id); annotators working blind filter by their own work only."""
    body = query.loads(params.get("query"))
    view_id = optional_id(params.get("view"), "view")
    if view_id is not None:
        view = await saved_view(project.id, view_id)
        if view is None:
            raise NotFoundException(f"View {view_id} is not in project {project.id}.")
        body = {**body, "filters": view.data.get("filters"), "ordering": view.data.get("ordering") or []}
    extra = ["(lw_task.total_annotations + lw_task.cancelled_annotations) > 0"] if flag(
        params.get("only_annotated", "")) else []
    me = None if await service.sees_all_annotations(user, project) else user.id
    selection = query.parse(body, me=me, extra=extra)
    after = optional_id(params.get("after"), "after")
    if after is not None:
        selection.where, selection.order = f"({selection.where}) AND lw_task.inner_id > {{}}", "lw_task.inner_id ASC"
        selection.args, selection.order_args, selection.filtered = [*selection.args, after], [], True
    return selection


async def api_tasks(user: User, project: Project, params: Mapping[str, Any], page: int, size: int,
                    empty_past_end: bool = False) -> dict[str, Any]:
    """A page of the data manager's task list as Label Studio answers it. Past the last page: 404
    as Label Studio (the legacy SDK stops there); `empty_past_end` for a client whose pager stops
    on an empty page instead (the 2.x SDK)."""
    selection = await api_query(user, project, params)
    totals = await query.totals(project.id, selection) if selection.filtered else {
        "total": project.task_number, "total_annotations": project.total_annotations_number,
        "total_predictions": project.total_predictions_number}
    keyset = params.get("after") not in (None, "")
    if page > 1 and (page - 1) * size >= totals["total"] and not keyset:
        if not empty_past_end:
            raise NotFoundException("Invalid page.")
        return {"tasks": [], **totals}
    ids = await query.page_ids(project.id, selection, 0 if keyset else (page - 1) * size, size)
    found = {t.id: t for t in await Task.objects().where(Task.id.is_in(ids or [0])).output(load_json=True)}
    tasks = [found[i] for i in ids if i in found]
    include = [f.strip() for f in str(params.get("include", "")).split(",") if f.strip()]
    full = params.get("fields", "all") == "all" and (not include or bool({"annotations", "predictions"} & set(include)))
    out = await resolve.task_rows(project.id, await dm_tasks(user, project, tasks, full), params)
    if include:
        out = [{k: t[k] for k in include if k in t} for t in out]
    return {"tasks": out, **totals}


async def dm_tasks(user: User, project: Project, tasks: list[Task], full: bool) -> list[dict[str, Any]]:
    """Tasks with the data manager's columns: annotators (ids), annotations_ids, completed_at,
    predictions_score, predictions_model_versions, reviewed, avg_lead_time, …"""
    ids = [t.id for t in tasks]
    sees = await service.sees_all_annotations(user, project)
    annotations = await service.annotations_of(user, project, ids)
    predictions = await service.predictions_of(ids)
    reviewed = await service.reviewed_ids(ids)
    out = []
    for task in tasks:
        mine = [a for a in annotations if a.task == task.id]
        preds = [p for p in predictions if p.task == task.id]
        scores = [p.score for p in preds if p.score is not None]
        times = [a.lead_time for a in mine if a.lead_time is not None]
        row = task_json(task, None, None, sees)
        row.update(
            annotators=list(dict.fromkeys(a.completed_by for a in mine if a.completed_by is not None)),
            annotations_ids=", ".join(str(a.id) for a in mine), drafts=[],
            completed_at=iso(max(a.created_at for a in mine)) if task.is_labeled and mine else None,
            predictions_score=sum(scores) / len(scores) if scores else None,
            predictions_model_versions=", ".join(dict.fromkeys(p.model_version for p in preds if p.model_version)),
            reviewed=task.id in reviewed, avg_lead_time=sum(times) / len(times) if times else None,
            updated_by=[{"user_id": task.updated_by}] if task.updated_by else [], storage_filename=None,
            annotations_results="", predictions_results="", comment_count=0, unresolved_comment_count=0,
            last_comment_updated_at=None, ground_truth=any(a.ground_truth for a in mine))
        if full:
            row.update(annotations=[annotation_json(a) for a in mine], predictions=[prediction_json(p) for p in preds])
        out.append(row)
    return out
