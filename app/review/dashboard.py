"""The agreement dashboard: the project's report (app/agreement/report.py) drawn as charts whose
parts link into the review queue, and its settings (control weights, ground-truth checks)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from app.agreement import charts, report
from app.errors import InputError
from app.projects import service as projects
from app.web import small_int
from components import parse_config

if TYPE_CHECKING:
    from app.tables import Project


def _charts(data: dict[str, Any], base: str) -> dict[str, str]:
    people = data["people"]
    names = [p["email"] for p in people]
    matrix = [[data["annotators"].get(str(a["id"]), {}).get(str(b["id"])) for b in people] for a in people]
    return {
        "heatmap": charts.heatmap(names, matrix, lambda i, j: f"{base}&annotator={people[i]['id']}&with={people[j]['id']}"),
        "labels": charts.bars([(label, score, f"{base}&label={quote(label)}") for label, score in data["labels"].items()],
                              testid="agreement-labels"),
        "histogram": charts.histogram(data["histogram"], data["edges"],
                                      lambda i: f"{base}&min={data['edges'][i]}&max={data['edges'][i + 1]}"),
        "trend": charts.trend(data["trend"]),
    }


async def context(project: Project) -> dict[str, Any]:
    data = await report.cached(project)
    base = f"/projects/{project.id}/review?status=all"
    try:
        controls = [c.name for c in parse_config(project.label_config).controls]
    except Exception:  # noqa: BLE001 - a config saved before a stricter check: no weights to show
        controls = []
    return {"project": project, "data": data, "charts": _charts(data, base), "base": base, "controls": controls}


def _weights(project: Project, form: Any) -> dict[str, float] | str:
    """The control weights the form sets, or why one of them is refused."""
    weights = dict(project.control_weights or {})
    for key in form.keys():
        if key.startswith("weight:"):
            try:
                value = float(form.get(key))
            except ValueError:
                value = math.nan
            if not math.isfinite(value) or value < 0:
                return f"The weight of {key.removeprefix('weight:')} must be a number, 0 or more."
            weights[key.removeprefix("weight:")] = value
    return weights


async def save_settings(project: Project, form: Any) -> tuple[bool, str]:
    """Store the settings form: (saved, the message to show)."""
    weights = _weights(project, form)
    if isinstance(weights, str):
        return False, weights
    checks = str(form.get("ground_truth_checks", "0")).strip()
    # not a small whole number: passed on as typed, and the project's check names the field
    changes: dict[str, Any] = {"annotators_see_others": "annotators_see_others" in form,
                               "ground_truth_checks": small_int(checks) if small_int(checks) is not None else checks}
    if weights != (project.control_weights or {}):  # a full rescoring only when the weights moved
        changes["control_weights"] = weights
    try:
        await projects.update_project(project, changes)
    except InputError as exc:
        return False, str(exc)
    rescoring = " Scores are being recomputed with the new weights." if "control_weights" in changes else ""
    return True, "Saved." + rescoring
