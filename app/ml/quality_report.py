"""The model quality report of a project: each model version's predictions against the final
annotations of the same tasks (the metrics themselves are in `quality.py`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from litestar.exceptions import PermissionDeniedException
from piccolo.querystring import QueryString

from app.db import engine
from app.ml import quality
from app.projects import service as projects

if TYPE_CHECKING:
    from app.tables import Project, User


async def may_see(user: User, project: Project) -> None:
    """Admins and reviewers: the numbers compare annotators' final work, which annotators do not see."""
    if await projects.member_role(user, project.id) not in ("admin", "reviewer"):
        raise PermissionDeniedException("Only admins and reviewers see the model's quality")


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def _finals(project_id: int) -> dict[int, list[dict]]:
    """Each annotated task's final result: its ground truth if one is marked, else the newest
    annotation (skips are not an answer)."""
    found = await engine().run_querystring(QueryString(
        "SELECT task, result, ground_truth FROM lw_annotation WHERE project = {} AND was_cancelled = {} "
        "ORDER BY ground_truth, updated_at, id", project_id, False))
    # ordered so that the last row per task is the one that counts
    return {row["task"]: _json(row["result"]) or [] for row in found}


async def report(project: Project) -> dict[str, Any]:
    finals = await _finals(project.id)
    found = await engine().run_querystring(QueryString(
        "SELECT task, model_version, result FROM lw_prediction WHERE project = {} ORDER BY id", project.id))
    versions: dict[str, dict[int, list[dict]]] = {}  # in the order versions first appeared
    counts: dict[str, int] = {}
    for row in found:
        version = row["model_version"]
        counts[version] = counts.get(version, 0) + 1
        versions.setdefault(version, {})[row["task"]] = _json(row["result"]) or []  # the newest per task counts
    out = []
    for version, predicted in versions.items():
        pairs = [(result, finals[task]) for task, result in predicted.items() if task in finals]
        summary = quality.summarize(pairs)
        micro = summary["micro"]
        out.append({"model_version": version, "predictions": counts[version], "tasks": len(predicted),
                    "compared": summary["compared"], "accepted_unchanged": summary["unchanged"],
                    "acceptance": summary["unchanged"] / summary["compared"] if summary["compared"] else None,
                    "precision": micro["precision"], "recall": micro["recall"], "f1": micro["f1"],
                    "macro_f1": summary["macro_f1"], "labels": summary["labels"]})
    return {"project": project.id, "current": project.model_version, "versions": out}


def chart(report_: dict[str, Any]) -> str:
    return quality.chart_svg([{"version": v["model_version"], "f1": v["f1"], "precision": v["precision"],
                               "recall": v["recall"]} for v in report_["versions"] if v["compared"]])
