"""A project's agreement, from the stored rows (app/agreement/store.py keeps them current): the
API's summary, and what the dashboard draws. Kappa and alpha are computed here from the stored
categories, one row per annotator and classification control of a task."""

from __future__ import annotations

import json
import statistics
from typing import TYPE_CHECKING, Any

from app import jobs
from app.agreement import metrics
from app.agreement.store import OVERLAP, metric_names, ranges_of, weights_of
from app.clock import now
from app.db import write_tx
from app.rows import raw
from app.settings import settings
from app.tables import AgreementSummary, Job

if TYPE_CHECKING:
    from app.tables import Project

EDGES = [round(i / 10, 1) for i in range(11)]  # the histogram's bins: 0-0.1, ..., 0.9-1.0
SUMMARY_KEYS = ("score", "tasks", "controls", "labels", "annotators")


def _table(rows: list[dict[str, Any]]) -> tuple[list[int], list[list[str | None]]]:
    """Stored categories as an items × annotators table (None where an annotator did not answer)."""
    users = sorted({r["user"] for r in rows})
    column = {u: i for i, u in enumerate(users)}
    items: dict[int, list[str | None]] = {}
    for r in rows:
        items.setdefault(r["task"], [None] * len(users))[column[r["user"]]] = r["category"]
    return users, list(items.values())


async def summary(project: Project) -> dict[str, Any]:
    """GET /api/projects/{id}/agreement."""
    pid = project.id
    overall = (await raw("SELECT AVG(agreement) AS score, COUNT(*) AS n FROM lw_task WHERE project = {} "
                         "AND agreement IS NOT NULL", pid))[0]
    names = metric_names(project.label_config)
    controls: dict[str, Any] = {}
    for row in await raw("SELECT control, AVG(score) AS score FROM lw_agreement_pair WHERE project = {} AND control != '' "
                         "GROUP BY control ORDER BY control", pid):
        name, lenient = row["control"].removesuffix(OVERLAP), row["control"].endswith(OVERLAP)
        entry = controls.setdefault(name, {"metric": names.get(name, "exact match"), "score": None})
        entry["overlap_f1" if lenient else "score"] = row["score"]
    choice_rows = await raw("SELECT task, control, \"user\", category FROM lw_agreement_choice WHERE project = {} "
                            "ORDER BY task", pid)
    for control in sorted({r["control"] for r in choice_rows}):
        users, table = _table([r for r in choice_rows if r["control"] == control])
        entry = controls.setdefault(control, {"metric": names.get(control, "exact match"), "score": None})
        entry["observed_agreement"] = metrics.observed_agreement(table)
        entry["fleiss_kappa"] = metrics.fleiss_kappa(table)
        entry["krippendorff_alpha"] = metrics.krippendorff_alpha(table)
        if len(users) == 2:
            both = [row for row in table if row[0] is not None and row[1] is not None]
            entry["cohen_kappa"] = metrics.cohen_kappa([r[0] for r in both], [r[1] for r in both]) if both else None
    labels = {r["label"]: r["score"] for r in await raw(
        "SELECT label, AVG(score) AS score FROM lw_agreement_label WHERE project = {} GROUP BY label ORDER BY label", pid)}
    annotators: dict[str, dict[str, float]] = {}
    for r in await raw("SELECT user_a, user_b, AVG(score) AS score FROM lw_agreement_pair WHERE project = {} "
                       "AND control = '' GROUP BY user_a, user_b", pid):
        annotators.setdefault(str(r["user_a"]), {})[str(r["user_b"])] = r["score"]
        annotators.setdefault(str(r["user_b"]), {})[str(r["user_a"])] = r["score"]
    return {"score": overall["score"], "tasks": overall["n"], "controls": controls, "labels": labels,
            "annotators": annotators}


async def dashboard(project: Project) -> dict[str, Any]:
    """Everything the dashboard shows, besides the summary: people, trend, histogram."""
    pid = project.id
    base = await summary(project)
    people = {r["id"]: r["email"] for r in await raw(
        "SELECT DISTINCT u.id, u.email FROM lw_user u JOIN lw_annotation a ON a.completed_by = u.id "
        "WHERE a.project = {} AND a.review_state != 'adjudicated'", pid)}
    stats: dict[int, dict[str, Any]] = {u: {"id": u, "email": e, "done": 0, "skipped": 0, "lead": []}
                                        for u, e in people.items()}
    for r in await raw("SELECT completed_by, was_cancelled, lead_time FROM lw_annotation WHERE project = {} "
                       "AND review_state != 'adjudicated' AND completed_by IS NOT NULL", pid):
        entry = stats[r["completed_by"]]
        if r["was_cancelled"]:
            entry["skipped"] += 1
        else:
            entry["done"] += 1
            entry["lead"].append(r["lead_time"] or 0.0)
    with_others = {int(u): statistics.fmean(v.values()) for u, v in base["annotators"].items() if v}
    truth = await _with_ground_truth(pid, weights_of(project), ranges_of(project.label_config))
    for u, entry in stats.items():
        total = entry["done"] + entry["skipped"]
        entry.update(median_lead_time=statistics.median(entry["lead"]) if entry["lead"] else None,
                     skip_rate=entry["skipped"] / total if total else None,
                     agreement=with_others.get(u), ground_truth=truth.get(u))
        del entry["lead"]
    counts = [0] * (len(EDGES) - 1)
    for r in await raw("SELECT agreement FROM lw_task WHERE project = {} AND agreement IS NOT NULL", pid):
        counts[min(len(counts) - 1, int(r["agreement"] * 10))] += 1
    # by the day each task was last annotated (its newest annotation), not the task's own edits
    trend = [(str(r["day"])[:10], r["score"]) for r in await raw(
        "SELECT DATE(last) AS day, AVG(agreement) AS score FROM (SELECT t.agreement, (SELECT MAX(a.updated_at) "
        "FROM lw_annotation a WHERE a.task = t.id) AS last FROM lw_task t WHERE t.project = {} "
        "AND t.agreement IS NOT NULL) AS scored GROUP BY DATE(last) ORDER BY day", pid)][-60:]
    order = sorted(stats)
    return {**base, "people": [stats[u] for u in order], "histogram": counts, "edges": EDGES, "trend": trend}


async def _with_ground_truth(project_id: int, weights: dict, ranges: dict[str, float]) -> dict[int, float]:
    """Each annotator's mean agreement with the ground truth, on the tasks that have one."""
    rows = await raw("SELECT a.task, a.completed_by, a.result, a.ground_truth FROM lw_annotation a WHERE a.project = {} "
                     "AND a.was_cancelled = {} AND a.task IN (SELECT task FROM lw_annotation WHERE project = {} "
                     "AND ground_truth = {} AND was_cancelled = {}) ORDER BY a.id", project_id, False, project_id, True, False)
    truths = {r["task"]: _load(r["result"]) for r in rows if r["ground_truth"]}
    scores: dict[int, list[float]] = {}
    for r in rows:
        if r["ground_truth"] or r["completed_by"] is None or r["task"] not in truths:
            continue
        found = metrics.task_agreement({0: truths[r["task"]], r["completed_by"]: _load(r["result"])}, weights, ranges)
        if found.score is not None:
            scores.setdefault(r["completed_by"], []).append(found.score)
    return {u: statistics.fmean(v) for u, v in scores.items()}


def _load(value: Any) -> list:
    value = json.loads(value) if isinstance(value, str) else value
    return value if isinstance(value, list) else []


async def cached(project: Project) -> dict[str, Any]:
    """The dashboard's report: the stored one while no task's agreement changed since (the
    project's agreement_version), else recomputed here on a small project, or by a job on a large
    one (LABELWELL_AGREEMENT_SYNC_ANNOTATIONS), which meanwhile gets the last report marked stale."""
    stored = await raw("SELECT s.version, s.data, p.agreement_version, p.total_annotations_number FROM lw_project p "
                       "LEFT JOIN lw_agreement_summary s ON s.project = p.id WHERE p.id = {}", project.id)
    row = stored[0] if stored else {}
    if row.get("data") is not None and row["version"] == row["agreement_version"]:
        return {**_load_dict(row["data"]), "stale": False}
    if (row.get("total_annotations_number") or 0) <= settings.agreement_sync_annotations:
        return {**await store_summary(project), "stale": False}
    if not await Job.exists().where(Job.project == project.id, Job.kind == "agreement_summary",
                                    Job.state.is_in(["queued", "running"])):
        await jobs.enqueue("agreement_summary", project_id=project.id, user_id=None, quiet=True)
    if row.get("data") is None:  # the first report of a large project: being computed
        return {"score": None, "tasks": 0, "controls": {}, "labels": {}, "annotators": {}, "people": [],
                "histogram": [0] * (len(EDGES) - 1), "edges": EDGES, "trend": [], "computed_at": "", "stale": True}
    return {**_load_dict(row["data"]), "stale": True}


async def store_summary(project: Project) -> dict[str, Any]:
    """Compute the report and keep it with the agreement_version it was computed at (read first:
    a change made meanwhile leaves it out of date, and the next reader recomputes)."""
    version = (await raw("SELECT agreement_version FROM lw_project WHERE id = {}", project.id))[0]["agreement_version"]
    data = await dashboard(project)
    data["computed_at"] = now().isoformat()
    try:
        async with write_tx():
            await AgreementSummary.delete().where(AgreementSummary.project == project.id)
            await AgreementSummary.insert(AgreementSummary(project=project.id, version=version, data=data))
    except Exception as exc:  # noqa: BLE001 - only a concurrent writer's unique row is expected here
        if "unique" not in str(exc).lower():
            raise
        # another reader (or the job) stored a report at the same moment: theirs is as fresh
    return data


def _load_dict(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else dict(value)
