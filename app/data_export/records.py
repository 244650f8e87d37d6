"""Reading a project's tasks for export in id order, a batch at a time, with the filters asked for:
memory stays flat however big the project."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from piccolo.columns.combination import WhereRaw

from app.clock import iso, now
from app.db import is_postgres
from app.tables import Annotation, AnnotationDraft, FileUpload, Prediction, Review, Task
from app.tasks import query as dm_query
from components.video_rectangle import with_every_frame

BATCH = 1000
TASK_COLUMNS = [Task.id, Task.data, Task.meta, Task.created_at, Task.updated_at, Task.inner_id, Task.total_annotations,
                Task.cancelled_annotations, Task.total_predictions, Task.file_upload]


@dataclass
class Filters:
    all_tasks: bool = False  # Label Studio exports only annotated tasks unless download_all_tasks
    ids: list[int] = field(default_factory=list)
    annotators: list[int] = field(default_factory=list)
    since: dt.datetime | None = None
    only_ground_truth: bool = False
    only_reviewed: bool = False
    only_accepted: bool = False  # only annotations a reviewer accepted, and adjudicated ground truths
    # Label Studio's snapshot options (task_filter_options, annotation_filter_options): "only" or
    # "exclude" for tasks with a skipped / finished / annotated state, or with a review
    skipped: str | None = None
    finished: str | None = None
    annotated: str | None = None
    reviewed: str | None = None
    only_with_annotations: bool = False  # tasks with at least one annotation the options keep
    kinds: list[str] = field(default_factory=list)  # annotations of these kinds: usual, ground_truth, skipped
    # task_filter_options.view: a data manager tab's id, and its filters as they were when the snapshot was asked
    view: int | None = None
    view_filters: Any = None
    # Label Studio's interpolate_key_frames: every video track written with a box for each frame
    interpolate_key_frames: bool = False

    @property
    def filters_annotations(self) -> bool:
        return bool(self.annotators or self.since or self.only_accepted)


def task_query(project_id: int, filters: Filters, columns: list | None = None) -> Any:
    query = (Task.select(*columns) if columns else Task.objects()).where(Task.project == project_id)
    if filters.ids:
        query = query.where(Task.id.is_in(filters.ids))
    if not filters.all_tasks:
        query = query.where((Task.total_annotations + Task.cancelled_annotations) > 0)
    if filters.only_ground_truth:
        query = query.where(Task.id.is_in(Annotation.select(Annotation.task).where(
            Annotation.project == project_id, Annotation.ground_truth.eq(True))))
    if filters.only_reviewed:
        query = query.where(Task.id.is_in(Review.select(Review.task).where(Review.task.project == project_id)))
    if filters.filters_annotations:
        query = query.where(Task.id.is_in(matching_annotations(project_id, filters, Annotation.task)))
    if filters.view is not None:
        query = query.where(view_where(filters.view_filters))
    return label_studio_options(query, project_id, filters)


def view_where(view_filters: Any) -> WhereRaw:
    """A saved view's filters, read by the data manager's own query language (app/tasks/query.py):
    the same tasks the tab shows, as one parameterised condition on lw_task."""
    parsed = dm_query.parse({"filters": view_filters}, where="task_filter_options.view")
    return WhereRaw(f"({parsed.where})", *parsed.args)


def label_studio_options(query: Any, project_id: int, filters: Filters) -> Any:
    """Label Studio's task_filter_options, as its _get_filtered_tasks reads them."""
    def with_annotations(*where: Any) -> Any:
        return Annotation.select(Annotation.task).where(Annotation.project == project_id, *where)

    for choice, inner in ((filters.skipped, with_annotations(Annotation.was_cancelled.eq(True))),
                          (filters.annotated, with_annotations(Annotation.was_cancelled.eq(False))),
                          (filters.reviewed, Review.select(Review.task).where(Review.task.project == project_id))):
        if choice == "only":
            query = query.where(Task.id.is_in(inner))
        elif choice == "exclude":
            query = query.where(Task.id.not_in(inner))
    if filters.finished == "only":
        query = query.where(Task.is_labeled.eq(True))
    elif filters.finished == "exclude":
        query = query.where(Task.is_labeled.eq(False))
    if filters.only_with_annotations:
        query = query.where(Task.id.is_in(with_annotations(*kind_filters(filters))))
    return query


def kind_filters(filters: Filters) -> list[Any]:
    """Label Studio's annotation_filter_options: annotations of any of the kinds asked for."""
    kinds = {"usual": (Annotation.was_cancelled.eq(False)) & (Annotation.ground_truth.eq(False)),
             "ground_truth": Annotation.ground_truth.eq(True), "skipped": Annotation.was_cancelled.eq(True)}
    chosen = [kinds[k] for k in filters.kinds if k in kinds]
    if not chosen:
        return []
    where = chosen[0]
    for more in chosen[1:]:
        where = where | more
    return [where]


def annotation_filters(filters: Filters) -> list[Any]:
    where = []
    if filters.annotators:
        where.append(Annotation.completed_by.is_in(filters.annotators))
    if filters.since:
        where.append(Annotation.updated_at >= filters.since)
    if filters.only_accepted:
        where.append(Annotation.review_state.is_in(["accepted", "adjudicated"]))
    return where + kind_filters(filters)


def matching_annotations(project_id: int, filters: Filters, *columns: Any) -> Any:
    return Annotation.select(*columns).where(Annotation.project == project_id, *annotation_filters(filters))


async def expected_count(project_id: int, filters: Filters) -> int:
    """How many records the export must write: checked against what it did write."""
    query = Task.count().where(Task.id.is_in(task_query(project_id, filters, [Task.id])))
    return await query


def annotation_json(a: dict) -> dict[str, Any]:
    return {"id": a["id"], "completed_by": a["completed_by"], "result": a["result"], "was_cancelled": a["was_cancelled"],
            "ground_truth": a["ground_truth"], "created_at": iso(a["created_at"]), "updated_at": iso(a["updated_at"]),
            "lead_time": a["lead_time"], "prediction": {}, "result_count": len(a["result"] or []),
            "unique_id": a["unique_id"], "task": a["task"], "project": a["project"],
            "parent_prediction": a["parent_prediction"],
            # review decisions travel with the annotation: "", accepted, rejected or adjudicated
            "review_state": a["review_state"], "review_comment": a["review_comment"]}


def prediction_json(p: dict) -> dict[str, Any]:
    return {"id": p["id"], "result": p["result"], "score": p["score"], "model_version": p["model_version"],
            "created_at": iso(p["created_at"]), "updated_at": iso(p["updated_at"]), "task": p["task"],
            "project": p["project"]}


def timesince(moment: Any) -> str:
    """Django's timesince, as Label Studio's created_ago: the largest unit and the next, "3\u00a0hours, 5\u00a0minutes"."""
    seconds = max(0, int((now() - moment).total_seconds())) if moment is not None else 0
    units = (("year", 365 * 86400), ("month", 30 * 86400), ("week", 7 * 86400), ("day", 86400), ("hour", 3600),
             ("minute", 60))
    for i, (name, size) in enumerate(units):
        if (count := seconds // size) or i == len(units) - 1:
            text = f"{count}\u00a0{name}{'' if count == 1 else 's'}"
            if i + 1 < len(units) and (more := seconds % size // units[i + 1][1]):
                text += f", {more}\u00a0{units[i + 1][0]}{'' if more == 1 else 's'}"
            return text
    return "0\u00a0minutes"


def draft_json(d: dict) -> dict[str, Any]:
    """Label Studio's AnnotationDraftSerializer: `user` is the email (its str()), `created_username`
    "First Last email, id"."""
    name = " ".join(n for n in (d["first_name"], d["last_name"]) if n)
    return {"id": d["id"], "user": d["email"], "created_username": f"{name}{' ' if name else ''}{d['email']}, {d['user']}",
            "created_ago": timesince(d["created_at"]), "result": d["result"] or [], "lead_time": d["lead_time"],
            "was_postponed": d["was_postponed"], "import_id": None, "created_at": iso(d["created_at"]),
            "updated_at": iso(d["updated_at"]), "task": d["task"], "annotation": d["annotation"]}


async def drafts_of(ids: list[int], filters: Filters) -> dict[int, list[dict[str, Any]]]:
    """The labelling drafts of these tasks (a reviewer's adjudication in the making stays out), by task."""
    query = AnnotationDraft.select(
        *AnnotationDraft.all_columns(), AnnotationDraft.user.email.as_alias("email"),
        AnnotationDraft.user.first_name.as_alias("first_name"), AnnotationDraft.user.last_name.as_alias("last_name"),
    ).where(AnnotationDraft.task.is_in(ids), AnnotationDraft.purpose == "")
    if filters.annotators:
        query = query.where(AnnotationDraft.user.is_in(filters.annotators))
    out: dict[int, list] = {}
    for d in await query.order_by(AnnotationDraft.id).output(load_json=True):
        out.setdefault(d["task"], []).append(draft_json(d))
    return out


async def tasks(project_id: int, filters: Filters) -> AsyncIterator[dict[str, Any]]:
    """Label Studio's JSON task records, in inner-id (creation) order, drafts in full (Label
    Studio's easy export expands them; a snapshot keeps their ids unless asked)."""
    last = 0
    while True:
        # keyset on (project, inner_id), the unique index: each batch starts where the last ended
        batch = await task_query(project_id, filters, TASK_COLUMNS).where(Task.inner_id > last).order_by(
            Task.inner_id).limit(BATCH).output(load_json=True)
        if not batch:
            return
        last = batch[-1]["inner_id"]
        ids = [t["id"] for t in batch]
        # by task id only: adding the project would let the planner walk every annotation of the project
        annotations = Annotation.select().where(Annotation.task.is_in(ids), *annotation_filters(filters)).order_by(
            Annotation.id)
        by_task: dict[int, list] = {}
        for a in await annotations.output(load_json=True):
            if filters.interpolate_key_frames:
                a["result"] = with_every_frame(a["result"])
            by_task.setdefault(a["task"], []).append(annotation_json(a))
        predicted: dict[int, list] = {}
        for p in await Prediction.select().where(Prediction.task.is_in(ids)).order_by(Prediction.id).output(load_json=True):
            predicted.setdefault(p["task"], []).append(prediction_json(p))
        drafts = await drafts_of(ids, filters)
        uploads = {u["id"]: u for u in await FileUpload.select(FileUpload.id, FileUpload.original_name, FileUpload.width,
                   FileUpload.height, FileUpload.duration).where(FileUpload.id.is_in({t["file_upload"] for t in batch if t["file_upload"]} or {0}))}
        for t in batch:
            upload = uploads.get(t["file_upload"])
            yield {"id": t["id"], "data": t["data"], "annotations": by_task.get(t["id"], []),
                   "predictions": predicted.get(t["id"], []), "drafts": drafts.get(t["id"], []), "meta": t["meta"],
                   "created_at": iso(t["created_at"]),
                   "updated_at": iso(t["updated_at"]), "inner_id": t["inner_id"],
                   "total_annotations": t["total_annotations"], "cancelled_annotations": t["cancelled_annotations"],
                   "total_predictions": t["total_predictions"], "project": project_id,
                   "file_upload": upload["original_name"] if upload else None,
                   "_size": (upload["width"], upload["height"]) if upload and upload["width"] else None,
                   "_duration": upload["duration"] if upload else None}


async def data_keys(project_id: int) -> list[str]:
    """Every key found in the project's task data (one scan, for CSV columns)."""
    if is_postgres():
        rows = await Task.raw("SELECT DISTINCT jsonb_object_keys(data) AS key FROM lw_task WHERE project = {}", project_id)
    else:
        rows = await Task.raw("SELECT DISTINCT j.key AS key FROM lw_task, json_each(lw_task.data) AS j "
                              "WHERE lw_task.project = {} AND json_type(lw_task.data) = 'object'", project_id)
    return sorted(r["key"] for r in rows)
