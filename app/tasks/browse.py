"""What the task list (the data manager) and one task's page show."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.review import queue as review_queue
from app.review import service as review
from app.tables import Task
from app.tasks import service
from app.tasks.filters import filters_of, list_params
from app.web import small_int
from components import ConfigError, parse_config

if TYPE_CHECKING:
    from app.tables import Project, User

PAGE_SIZE = 50
MAX_PAGE = 999_999


def status_of(task: Task, reviewed: set[int]) -> str:
    if task.id in reviewed:
        return "reviewed"
    if task.is_labeled:
        return "done"
    return "in progress" if task.total_annotations + task.cancelled_annotations else "new"


async def rows_page(project: Project, params: dict[str, Any], page: int, sees_all: bool) -> dict[str, Any]:
    filters = filters_of(params)
    column = service.SORTS[params["sort"].lstrip("-")]
    ascending = not params["sort"].startswith("-")
    # a deferred join: the page's ids come from an index alone, then only those rows are read,
    # so page 20,000 costs an index walk, not a million rows
    ids = Task.select(Task.id).where(*service.conditions(project.id, **filters)).order_by(
        column, ascending=ascending).order_by(Task.id, ascending=ascending).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    rows = await Task.objects().where(Task.id.is_in(ids)).order_by(column, ascending=ascending).order_by(
        Task.id, ascending=ascending).output(load_json=True)
    # the unfiltered count is a counter; a filtered one is counted (indexed, but for a text search)
    count = project.task_number if not any(filters.values()) else await service.count_filtered(project.id, filters)
    ids = [t.id for t in rows]
    annotators = await service.annotators_by_task(ids)
    if not sees_all:  # annotators work blind: they see only themselves in the column
        annotators = {t: [e for e in emails if e == params["me"]] for t, emails in annotators.items()}
    return {"rows": rows, "count": count, "page": page, "pages": max(1, -(-count // PAGE_SIZE)),
            "annotators": annotators, "reviewed": await service.reviewed_ids(ids)}


async def task_list(user: User, project: Project, query: Any) -> dict[str, Any]:
    """The list page's context for a query string: filters, sort and page (bad values fall back)."""
    params = list_params(query)
    sees_all = await service.sees_all_annotations(user, project)
    params["me"] = user.email
    if not sees_all and params["annotator"] not in (None, user.id):
        params["annotator"] = user.id  # nobody else's work to filter by
    page = max(1, small_int(query.get("page", "1"), 6) or 1)
    try:
        keys = parse_config(project.label_config).required_keys()
    except ConfigError:
        keys = []
    return {"project": project, "params": params, "keys": keys, "statuses": service.STATUSES,
            "status_of": status_of, "sees_all": sees_all, **await rows_page(project, params, page, sees_all)}


async def task_detail(user: User, project: Project, task: Task) -> dict[str, Any]:
    """One task's page: its data, every annotation and prediction the user may see, and (for those
    who see others' work) its review history."""
    config = parse_config(project.label_config)
    annotations = await service.annotations_of(user, project, [task.id])
    predictions = await service.predictions_of([task.id])
    context = {"project": project, "task": task,
               "annotations": [(a, config.render(task.data, a.result, readonly=True)) for a in annotations],
               "predictions": [(p, config.render(task.data, p.result, readonly=True)) for p in predictions],
               "plain": config.render(task.data, readonly=True), "history": None, "reviewer": False}
    if await service.sees_all_annotations(user, project):
        context.update(history=await review.history(task.id), reviewer=await review_queue.may_review(user, project))
    return context
