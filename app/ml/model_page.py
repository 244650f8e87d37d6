"""What the project's Model pages show and do: the settings page (backends, their jobs, the stored
versions, the backend buttons) and the model quality report, each model version's predictions
against the final annotations of the same tasks (the metrics themselves are in `quality.py`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from litestar.exceptions import PermissionDeniedException

from app.learning import service as builtin
from app.ml import events, predictions, quality, service
from app.projects import service as projects
from app.rows import raw
from app.tables import Job

if TYPE_CHECKING:
    from app.tables import MLBackend, Project, User

# what the settings page lists (not the workspace's suggestions)
JOB_KINDS = ["ml_predict", "ml_webhook", "builtin_train"]
BACKEND_ACTIONS = ("check", "activate", "delete", "train")


async def settings_context(project: Project) -> dict[str, Any]:
    """The settings page's data: the backends, the last jobs, the versions predictions exist of."""
    recent = await Job.objects().where(Job.project == project.id, Job.kind.is_in(JOB_KINDS)).order_by(
        Job.id, ascending=False).limit(8).output(load_json=True)
    return {"project": project, "backends": await service.backends_of(project.id), "states": service.STATES,
            "jobs": recent, "versions": sorted(await predictions.stored_versions(project.id)),
            "builtin": await builtin.overview(project)}


class Outcome(NamedTuple):
    message: str
    ok: bool
    job: Job | None = None


async def backend_action(project: Project, backend: MLBackend, action: str, user_id: int) -> Outcome:
    """One of the settings page's backend buttons (BACKEND_ACTIONS)."""
    if action == "check":
        await service.check_state(backend, project)  # updates `backend`
        return Outcome(f"{backend.title}: {service.STATES[backend.state]}" + (
            f" — {backend.error_message}" if backend.error_message else f", model version {backend.model_version}."),
            backend.state == "CO")
    if action == "activate":
        await service.activate(backend)
        return Outcome(f"{backend.title} is now the project's model.", True)
    if action == "delete":
        await service.delete_backend(backend)
        return Outcome(f"{backend.title} was removed; its predictions stay.", True)
    job = await events.start_training(project, backend, user_id)
    return Outcome(f"START_TRAINING is on its way to {backend.title}.", True, job)


def added(backend: MLBackend) -> Outcome:
    """What adding a backend found."""
    if backend.state == "CO":
        return Outcome(f"Connected to {backend.title} (model version {backend.model_version}).", True)
    return Outcome(f"{backend.title} was added but is not usable yet: {backend.error_message}", False)


# -- model quality --------------------------------------------------------------------------------

async def may_see(user: User, project: Project) -> None:
    """Admins and reviewers: the numbers compare annotators' final work, which annotators do not see."""
    if await projects.member_role(user, project.id) not in ("admin", "reviewer"):
        raise PermissionDeniedException("Only admins and reviewers see the model's quality")


async def report(project: Project) -> dict[str, Any]:
    finals = await predictions.final_results(project.id)
    found = await raw("SELECT task, model_version, result FROM lw_prediction WHERE project = {} ORDER BY id", project.id)
    versions: dict[str, dict[int, list[dict]]] = {}  # in the order versions first appeared
    counts: dict[str, int] = {}
    for row in found:
        version = row["model_version"]
        counts[version] = counts.get(version, 0) + 1
        versions.setdefault(version, {})[row["task"]] = predictions.json_value(row["result"]) or []  # the newest per task counts
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


async def quality_context(user: User, project: Project) -> dict[str, Any]:
    """The quality page's data (403 for those who may not see it)."""
    await may_see(user, project)
    found = await report(project)
    curve = learning_curve(await builtin.versions(project.id), found)
    return {"project": project, "report": found, "chart": chart(found), "curve": curve}


CURVE = (("cv_f1", "CV F1", "#0072B2"), ("f1", "Later F1", "#E69F00"), ("acceptance", "Accepted", "#009E73"))


def learning_curve(versions: list[dict[str, Any]], report_: dict[str, Any]) -> dict[str, Any] | None:
    """The built-in model's quality against its training set size: cross-validated F1 when it
    trained, then F1 and the share accepted unchanged against what annotators later submitted."""
    if not versions:
        return None
    later = {v["model_version"]: v for v in report_["versions"]}
    points = []
    for v in versions:
        f1s = [q["micro"]["f1"] for q in v["quality"].get("controls", {}).values() if q["micro"]["f1"] is not None]
        seen = later.get(v["version"], {})
        points.append({"version": v["version"], "x": v["examples"], "cv_f1": sum(f1s) / len(f1s) if f1s else None,
                       "f1": seen.get("f1") if seen.get("compared") else None, "acceptance": seen.get("acceptance")})
    svg = quality.chart_svg(points, CURVE, "The built-in model's quality against the number of tasks it learnt from",
                            "learning-curve")
    return {"points": points, "svg": svg}
