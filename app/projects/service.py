"""Projects and their members: validation, visibility, create/update/delete."""

from __future__ import annotations

from collections import Counter
from typing import Any

from components import ConfigInvalid, LabelConfig, parse_config

from app.agreement import store as agreement
from app.db import write_tx
from app import instance, rows, storable
from app.errors import InputError
from app.webhooks import outbox as webhooks
from app.tables import (PROJECT_ROLES, SAMPLING, SKIP_QUEUE, Annotation, AnnotationDraft, Project, ProjectMember,
                        User)

TEXT_FIELDS = ("description", "expert_instruction", "model_version", "color")
BOOL_FIELDS = ("show_instruction", "show_skip_button", "enable_empty_annotation", "show_annotation_history",
               "show_collab_predictions", "annotators_see_others", "evaluate_predictions_automatically",
               "start_training_on_annotation_update")
CHOICE_FIELDS = {"sampling": SAMPLING, "skip_queue": SKIP_QUEUE}
INT_FIELDS = {"maximum_annotations": (1, 1000), "overlap_cohort_percentage": (1, 100), "ground_truth_checks": (0, 100)}


LENGTHS = {"model_version": 255, "color": 16}


def _clean_one(key: str, value: Any) -> Any:
    """The cleaned value, or raise ValueError with a message for the user."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("Contains a NUL character.")
    if key == "title":
        value = str(value or "").strip()
        if not 3 <= len(value) <= 50:
            raise ValueError("A title has 3 to 50 characters.")
    elif key == "label_config":
        value = str(value or "")
        check_config(value)
    elif key in TEXT_FIELDS:
        value = "" if value is None else str(value)
        if key in LENGTHS and len(value) > LENGTHS[key]:
            raise ValueError(f"At most {LENGTHS[key]} characters.")
    elif key in BOOL_FIELDS:
        if not isinstance(value, bool):
            raise ValueError("Must be true or false.")
    elif key in CHOICE_FIELDS and value not in CHOICE_FIELDS[key]:
        raise ValueError(f"Must be one of: {', '.join(CHOICE_FIELDS[key])}.")
    elif key in INT_FIELDS:
        low, high = INT_FIELDS[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"Must be a whole number from {low} to {high}.")
    elif key == "control_weights" and not isinstance(value, dict):
        raise ValueError("Must be an object mapping control names to weights.")
    elif key == "control_weights" and storable.problem(value):
        raise ValueError(f"It {storable.problem(value)}.")
    return value


def check_config(xml: str) -> LabelConfig:
    """The parsed config, or ValueError listing every problem (one per line)."""
    try:
        return parse_config(xml)
    except ConfigInvalid as exc:
        raise ValueError(str(exc)) from None
    except ValueError as exc:  # ConfigError from the XML parser
        raise ValueError(str(exc)) from None


EDITABLE = ("title", "label_config", *TEXT_FIELDS, *BOOL_FIELDS, *CHOICE_FIELDS, *INT_FIELDS, "control_weights")


def clean_project_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Validate the editable fields present in `data`; read-only and unknown keys are ignored."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    for key in EDITABLE:
        if key in data:
            try:
                out[key] = _clean_one(key, data[key])
            except ValueError as exc:
                errors[key] = str(exc).splitlines()
    if errors:
        raise InputError(errors)
    return out


async def visible_ids(user: User) -> list[int] | None:
    """Project ids the user may open; None means all of them (admins)."""
    if user.role == "admin":
        return None
    rows = await ProjectMember.select(ProjectMember.project).where(ProjectMember.user == user.id)
    return [r["project"] for r in rows]


async def list_projects(user: User, page: int, size: int) -> tuple[list[Project], int]:
    ids = await visible_ids(user)
    query, count = Project.objects().order_by(Project.id, ascending=False), Project.count()
    if ids is not None:
        query, count = query.where(Project.id.is_in(ids or [0])), count.where(Project.id.is_in(ids or [0]))
    projects = await query.offset((page - 1) * size).limit(size).output(load_json=True)
    return projects, await count


async def get_project(user: User, project_id: int) -> Project | None:
    """The project if it exists and the user may see it; otherwise None (the caller answers 404).
    One query in plain SQL (app/rows.py): nearly every request asks this."""
    if user.role == "admin":
        return await rows.one(Project, "id = {}", project_id)
    return await rows.one(Project, 'id = {} AND id IN (SELECT project FROM lw_project_member WHERE "user" = {})',
                          project_id, user.id)


async def member_role(user: User, project_id: int) -> str | None:
    if user.role == "admin":
        return "admin"
    row = await ProjectMember.select(ProjectMember.role).where(
        ProjectMember.project == project_id, ProjectMember.user == user.id).first()
    return row["role"] if row else None


async def create_project(user: User, data: dict[str, Any]) -> Project:
    # a new project asks for the instance's default overlap unless it says otherwise
    defaults = {"title": "New project", "maximum_annotations": instance.current().default_overlap}
    fields = clean_project_fields({**defaults, **data})
    project = Project(**fields, created_by=user.id)
    async with write_tx():
        await project.save()
    # read back, so JSON columns and defaults come out as the database has them
    return await Project.objects().where(Project.id == project.id).output(load_json=True).first()


async def config_orphans(project: Project, config: LabelConfig) -> list[str]:
    """What the project's annotations and drafts would lose under `config` (Label Studio's check)."""
    if not project.total_annotations_number and not await AnnotationDraft.exists().where(
            AnnotationDraft.task.project == project.id):
        return []
    usage: Counter[tuple[str, str, str]] = Counter()
    labels: Counter[tuple[str, str]] = Counter()
    results = [r["result"] for r in await Annotation.select(Annotation.result).where(
        Annotation.project == project.id).output(load_json=True)]
    results += [r["result"] for r in await AnnotationDraft.select(AnnotationDraft.result).where(
        AnnotationDraft.task.project == project.id).output(load_json=True)]
    for result in results:
        for item in result if isinstance(result, list) else []:
            if not isinstance(item, dict) or item.get("type") == "relation":
                continue
            usage[(str(item.get("from_name")), str(item.get("to_name")), str(item.get("type")))] += 1
            for key, value in (item.get("value") or {}).items():
                if (key.endswith("labels") or key == "choices") and isinstance(value, list):
                    labels.update((str(item.get("from_name")), str(v)) for v in value if isinstance(v, str))
    return config.orphans(dict(usage), dict(labels))


async def update_project(project: Project, data: dict[str, Any]) -> Project:
    fields = clean_project_fields(data)
    if "label_config" in fields and fields["label_config"] != project.label_config:
        orphans = await config_orphans(project, parse_config(fields["label_config"]))
        if orphans:
            raise InputError({"label_config": ["Created annotations are incompatible with this config: "
                                               + "; ".join(orphans) + "."]})
    if fields:
        for key, value in fields.items():
            setattr(project, key, value)
        project.updated_at = Project.updated_at.default.python()
        async with write_tx():
            await project.save(columns=[getattr(Project, k) for k in fields] + [Project.updated_at])
            await webhooks.project_updated(project.id)
        # every stored score combines controls by the weights, and scores ratings by the config's ranges
        if "control_weights" in fields or "label_config" in fields:
            await agreement.rescore(project.id)
    return project


async def delete_project(project: Project) -> None:
    async with write_tx():
        await Project.delete().where(Project.id == project.id)


async def list_members(project_id: int) -> list[dict[str, Any]]:
    return await ProjectMember.select(
        ProjectMember.user.id.as_alias("user"), ProjectMember.user.email.as_alias("email"),
        ProjectMember.user.first_name.as_alias("first_name"), ProjectMember.user.last_name.as_alias("last_name"),
        ProjectMember.role,
    ).where(ProjectMember.project == project_id).order_by(ProjectMember.id)


async def set_member(project_id: int, user_id: Any, role: Any) -> None:
    if role not in PROJECT_ROLES:
        raise InputError({"role": [f"Must be one of: {', '.join(PROJECT_ROLES)}."]})
    if isinstance(user_id, bool) or not isinstance(user_id, int) or not 0 < user_id < 2**31 or not await User.exists().where(
            User.id == user_id):
        raise InputError({"user": [f"No user with id {user_id}."]})
    async with write_tx():
        await ProjectMember.delete().where(ProjectMember.project == project_id, ProjectMember.user == user_id)
        await ProjectMember(project=project_id, user=user_id, role=role).save()


async def remove_member(project_id: int, user_id: int) -> bool:
    async with write_tx():
        found = await ProjectMember.exists().where(ProjectMember.project == project_id, ProjectMember.user == user_id)
        await ProjectMember.delete().where(ProjectMember.project == project_id, ProjectMember.user == user_id)
    return found


async def counts_page(user: User, page: int, size: int) -> tuple[list[dict[str, Any]], int]:
    """Label Studio's /api/projects/counts: each visible project's counters, ground truths counted."""
    projects, count = await list_projects(user, page, size)
    ids = ", ".join(str(p.id) for p in projects) or "0"  # ints only: safe to inline
    truths = {r["project"]: r["n"] for r in await rows.raw(
        f"SELECT project, COUNT(*) AS n FROM lw_annotation WHERE project IN ({ids}) AND ground_truth = {{}} "
        "GROUP BY project", True)}
    return [{"id": p.id, "task_number": p.task_number, "finished_task_number": p.finished_task_number,
             "total_predictions_number": p.total_predictions_number,
             "total_annotations_number": p.total_annotations_number,
             "num_tasks_with_annotations": p.finished_task_number,
             "useful_annotation_number": p.total_annotations_number - p.skipped_annotations_number,
             "ground_truth_number": truths.get(p.id, 0),
             "skipped_annotations_number": p.skipped_annotations_number} for p in projects], count


async def annotators(project: Project) -> list[User]:
    """Everyone with a submitted or skipped annotation in the project, in id order."""
    return await rows.many(User, "id IN (SELECT DISTINCT completed_by FROM lw_annotation WHERE project = {})",
                           project.id, tail="ORDER BY id")
