"""Agreement kept up to date as annotations arrive: each write to a task's annotations recomputes
that task's scores (a few annotations, well under a millisecond of comparing) and replaces its
stored rows, so the dashboard, the API and the task list aggregate numbers instead of results.

What is compared: each annotator's finished annotation (skips and adjudicated ground truths are
not an annotator's opinion)."""

from __future__ import annotations

import json
import logging
import math
from typing import TYPE_CHECKING, Any

from piccolo.querystring import QueryString

from app.agreement import metrics
from app.db import engine, write_tx
from app.tables import AgreementChoice, AgreementLabel, AgreementPair, Task
from app.tasks import counters
from components import ConfigError, parse_config

if TYPE_CHECKING:
    from app.tables import Project

CHOICE_TYPES = ("choices", "taxonomy")
OVERLAP = "@overlap"  # stored beside a span control's exact-match rows, under "<control>@overlap"
log = logging.getLogger("labelwell.agreement")


def ranges_of(label_config: str) -> dict[str, float]:
    """How far apart two Rating or Number answers can be, per control: scores are normalised by it."""
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


async def _opinions(task_id: int) -> dict[int, list[dict]]:
    found = await engine().run_querystring(QueryString(
        "SELECT completed_by, result FROM lw_annotation WHERE task = {} AND was_cancelled = {} "
        "AND review_state != 'adjudicated' AND completed_by IS NOT NULL ORDER BY id", task_id, False))
    out: dict[int, list[dict]] = {}
    for row in found:
        result = json.loads(row["result"]) if isinstance(row["result"], str) else row["result"]
        out[row["completed_by"]] = result if isinstance(result, list) else []  # one per person: the newest wins
    return out


async def refresh(project: Project, task_ids: list[int]) -> None:
    """Recompute and store the agreement of these tasks (call after their annotations changed)."""
    if not task_ids:
        return
    weights = weights_of(project)
    ranges = ranges_of(project.label_config)
    try:
        async with write_tx():
            await counters.lock_tasks(task_ids)
            for task_id in task_ids:
                await _refresh_one(project.id, task_id, weights, ranges)
    except Exception:
        # the annotation that triggered this is saved; a failure here must not report it lost.
        # The project's "recompute agreement" job repairs the stored scores.
        log.exception("agreement of tasks %s in project %s was not updated", task_ids[:10], project.id)


def weights_of(project: Project) -> dict[str, float]:
    raw = project.control_weights
    if isinstance(raw, str):  # a row read without JSON decoding
        raw = json.loads(raw or "{}")
    return {k: float(v) for k, v in (raw or {}).items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


async def _refresh_one(project_id: int, task_id: int, weights: dict[str, float], ranges: dict[str, float]) -> None:
    results = await _opinions(task_id)
    for table in (AgreementPair, AgreementLabel, AgreementChoice):
        await table.delete().where(table.task == task_id)
    pairs, labels, choices = [], [], []
    found = metrics.task_agreement(results, weights, ranges) if len(results) >= 2 else None
    if found is not None:
        for (a, b), score in found.pairs.items():
            if score is not None:
                pairs.append(AgreementPair(project=project_id, task=task_id, control="", user_a=a, user_b=b, score=score))
        by_user = {user: metrics.controls_of(result) for user, result in results.items()}
        used = {control for controls in by_user.values() for control in controls}
        users = sorted(by_user)
        for control in sorted(used):
            regions = [r for controls in by_user.values() for r in controls.get(control, [])]
            kind = metrics.kind_of(regions)
            if kind == "other" or weights.get(control, 1.0) == 0:
                continue
            for i, a in enumerate(users):
                for b in users[i + 1:]:
                    mine, theirs = by_user[a].get(control, []), by_user[b].get(control, [])
                    score = metrics.pair_score(kind, mine, theirs, range=ranges.get(control))
                    if score is not None:
                        pairs.append(AgreementPair(project=project_id, task=task_id, control=control, user_a=a,
                                                   user_b=b, score=score))
                    if kind == "span":  # spans are also scored leniently: any overlap with the same label
                        overlap = metrics.pair_score(kind, mine, theirs, mode="overlap")
                        pairs.append(AgreementPair(project=project_id, task=task_id, control=control + OVERLAP,
                                                   user_a=a, user_b=b, score=overlap))
        labels = [AgreementLabel(project=project_id, task=task_id, label=label[:255], score=score)
                  for label, score in found.labels.items() if score is not None]
    for user, result in results.items():
        for control, regions in metrics.controls_of(result).items():
            if any(r.get("type") in CHOICE_TYPES for r in regions) and (picked := category(regions)) is not None:
                choices.append(AgreementChoice(project=project_id, task=task_id, control=control, user=user,
                                               category=picked))
    for table, rows in ((AgreementPair, pairs), (AgreementLabel, labels), (AgreementChoice, choices)):
        if rows:
            await table.insert(*rows)
    await Task.update({Task.agreement: found.score if found is not None else None}).where(Task.id == task_id)


async def refresh_project(project: Project) -> int:
    """Every task of the project with annotations, in chunks (after an import, or a weight change)."""
    found = await Task.select(Task.id).where(Task.project == project.id, Task.total_annotations > 0).order_by(Task.id)
    ids = [r["id"] for r in found]
    for start in range(0, len(ids), 500):
        await refresh(project, ids[start:start + 500])
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
