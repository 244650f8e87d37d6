"""Agreement kept up to date as annotations arrive: each write to a task's annotations recomputes
that task's scores (a few annotations, well under a millisecond of comparing) and replaces its
stored rows, so the dashboard, the API and the task list aggregate numbers instead of results.

What is compared: each annotator's finished annotation (skips and adjudicated ground truths are
not an annotator's opinion)."""

from __future__ import annotations

import functools
import json
import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from piccolo.querystring import QueryString

from app import jobs
from app.agreement import metrics
from app.db import analyze, engine, insert_rows, write_tx
from app.tables import Job, Task
from app.tasks import counters
from components import ConfigError, parse_config

if TYPE_CHECKING:
    from app.tables import Project

CHOICE_TYPES = ("choices", "taxonomy")
OVERLAP = "@overlap"  # stored beside a span control's exact-match rows, under "<control>@overlap"
log = logging.getLogger("labelwell.agreement")


@functools.lru_cache(maxsize=128)
def ranges_of(label_config: str) -> dict[str, float]:
    """How far apart two Rating or Number answers can be, per control: scores are normalised by it.
    Cached by the config's text: every submit rescores, and parsing a config costs more than the
    scoring (read-only: callers share the dict)."""
    try:
        config = parse_config(label_config)
    except ConfigError:
        return {}
    out: dict[str, float] = {}
    for control in config.controls:
        if control.tag == "Rating":
            out[control.name] = max(1, control.max_rating - 1)
        elif control.tag == "Number":
            low, high = control.bounds()
            if math.isfinite(low) and math.isfinite(high) and high > low:
                out[control.name] = high - low
    return out


def category(regions: list[dict]) -> str | None:
    """One annotator's answer on a classification control, as one category: the chosen values
    (or taxonomy paths) sorted and joined, so a multi-choice answer is compared as a whole."""
    chosen: list[str] = []
    for region in regions:
        value = region.get("value") if isinstance(region, dict) else None
        if not isinstance(value, dict):
            continue
        for item in value.get("choices") or []:
            chosen.append(str(item))
        for path in value.get("taxonomy") or []:
            chosen.append(" / ".join(map(str, path)) if isinstance(path, list) else str(path))
    return " | ".join(sorted(chosen)) if chosen else None


async def _opinions(task_ids: list[int]) -> dict[int, dict[int, list[dict]]]:
    """task -> annotator -> result, for many tasks in one query."""
    ids = ", ".join(str(int(i)) for i in task_ids)  # ints only: safe to inline
    found = await engine().run_querystring(QueryString(
        f"SELECT task, completed_by, result FROM lw_annotation WHERE task IN ({ids}) AND was_cancelled = {{}} "
        "AND review_state != 'adjudicated' AND completed_by IS NOT NULL ORDER BY id", False))
    out: dict[int, dict[int, list[dict]]] = {task_id: {} for task_id in task_ids}
    for row in found:
        result = orjson.loads(row["result"]) if isinstance(row["result"], str) else row["result"]
        out[row["task"]][row["completed_by"]] = result if isinstance(result, list) else []  # the newest wins
    return out


async def refresh(project: Project, task_ids: list[int]) -> None:
    """Recompute and store the agreement of these tasks (call after their annotations changed):
    one read, one delete and one insert per table for all of them, whatever their number."""
    if not task_ids:
        return
    weights = weights_of(project)
    ranges = ranges_of(project.label_config)
    try:
        async with write_tx():
            await counters.lock_tasks(task_ids)
            scored = {task_id: score(project.id, task_id, results, weights, ranges)
                      for task_id, results in (await _opinions(task_ids)).items()}
            await _replace(project.id, scored)
    except Exception:
        # the annotation that triggered this is saved; a failure here must not report it lost.
        # The project's "recompute agreement" job repairs the stored scores.
        log.exception("agreement of tasks %s in project %s was not updated", task_ids[:10], project.id)


def weights_of(project: Project) -> dict[str, float]:
    raw = project.control_weights
    if isinstance(raw, str):  # a row read without JSON decoding
        raw = json.loads(raw or "{}")
    return {k: float(v) for k, v in (raw or {}).items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


@dataclass
class Scored:
    """One task's rows: pairs (control, a, b, score), labels (label, score), choices (control, user, category)."""

    agreement: float | None = None
    pairs: list[tuple[str, int, int, float]] = field(default_factory=list)
    labels: list[tuple[str, float]] = field(default_factory=list)
    choices: list[tuple[str, int, str]] = field(default_factory=list)


def score(project_id: int, task_id: int, results: dict[int, list[dict]], weights: dict[str, float],
          ranges: dict[str, float]) -> Scored:
    out = Scored()
    by_user = {user: metrics.controls_of(result) for user, result in results.items()}
    for user, controls in by_user.items():
        for control, regions in controls.items():
            if any(r.get("type") in CHOICE_TYPES for r in regions) and (picked := category(regions)) is not None:
                out.choices.append((control, user, picked))
    if len(results) < 2:
        return out
    found = metrics.task_agreement(results, weights, ranges)
    out.agreement = found.score
    out.pairs += [("", a, b, value) for (a, b), value in found.pairs.items() if value is not None]
    out.labels += [(label[:255], value) for label, value in found.labels.items() if value is not None]
    users = sorted(by_user)
    for control in sorted({c for controls in by_user.values() for c in controls}):
        regions = [r for controls in by_user.values() for r in controls.get(control, [])]
        kind = metrics.kind_of(regions)
        if kind == "other" or weights.get(control, 1.0) == 0:
            continue
        for i, a in enumerate(users):
            for b in users[i + 1:]:
                mine, theirs = by_user[a].get(control, []), by_user[b].get(control, [])
                value = metrics.pair_score(kind, mine, theirs, range=ranges.get(control))
                if value is not None:
                    out.pairs.append((control, a, b, value))
                if kind == "span":  # spans are also scored leniently: any overlap with the same label
                    out.pairs.append((control + OVERLAP, a, b, metrics.pair_score(kind, mine, theirs, mode="overlap")))
    return out


async def _replace(project_id: int, scored: dict[int, Scored]) -> None:
    ids = ", ".join(str(int(i)) for i in scored)  # ints only
    for table in ("lw_agreement_pair", "lw_agreement_label", "lw_agreement_choice"):
        await engine().run_querystring(QueryString(f"DELETE FROM {table} WHERE task IN ({ids})"))
    await insert_rows("lw_agreement_pair", ["project", "task", "control", "user_a", "user_b", "score"],
                      [(project_id, t, *row) for t, s in scored.items() for row in s.pairs])
    await insert_rows("lw_agreement_label", ["project", "task", "label", "score"],
                      [(project_id, t, *row) for t, s in scored.items() for row in s.labels])
    await insert_rows("lw_agreement_choice", ["project", "task", "control", "user", "category"],
                      [(project_id, t, *row) for t, s in scored.items() for row in s.choices])
    # most tasks of a batch share a few values (None, 1.0): one UPDATE per distinct value
    by_value: dict[float | None, list[int]] = {}
    for task_id, s in scored.items():
        by_value.setdefault(s.agreement, []).append(task_id)
    for value, tasks in by_value.items():
        await engine().run_querystring(QueryString(
            f"UPDATE lw_task SET agreement = {{}} WHERE id IN ({', '.join(map(str, tasks))})", value))
    await engine().run_querystring(QueryString(
        "UPDATE lw_project SET agreement_version = agreement_version + 1 WHERE id = {}", project_id))


async def refresh_project(project: Project) -> int:
    """Every task of the project with annotations, in chunks (after an import, or a weight change)."""
    found = await Task.select(Task.id).where(Task.project == project.id, Task.total_annotations > 0).order_by(Task.id)
    ids = [r["id"] for r in found]
    for start in range(0, len(ids), 500):
        await refresh(project, ids[start:start + 500])
    if len(ids) >= 10_000:  # every task's agreement just changed: the planner's view of it is old
        await analyze("lw_task", "lw_agreement_pair", "lw_agreement_label", "lw_agreement_choice")
    return len(ids)


def metric_names(label_config: str) -> dict[str, str]:
    """control name -> the metric its agreement is measured with, as the UI names it."""
    try:
        config = parse_config(label_config)
    except ConfigError:
        return {}
    return {c.name: metrics.METRICS.get(_kind_of_control(c), "exact match") for c in config.controls}


def _kind_of_control(control: Any) -> str:
    result_type = getattr(control, "result_type", "")
    return metrics.kind_of([{"type": result_type, "value": {}}])


async def rescore(project_id: int, user_id: int | None = None) -> None:
    """Queue a full rescoring, unless one is already waiting (it will see every change)."""
    if not await Job.exists().where(Job.project == project_id, Job.kind == "agreement", Job.state == "queued"):
        await jobs.enqueue("agreement", project_id=project_id, user_id=user_id, quiet=True)
