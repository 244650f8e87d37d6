"""A project as Label Studio's API sends it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.clock import iso
from app.projects import service

if TYPE_CHECKING:
    from app.tables import Project, User

READ_ONLY = ("task_number", "finished_task_number", "total_annotations_number", "skipped_annotations_number",
             "total_predictions_number")


def project_json(project: Project) -> dict[str, Any]:
    out = {"id": project.id, "title": project.title}
    out.update({key: getattr(project, key) for key in service.EDITABLE if key != "title"})
    out.update({key: getattr(project, key) for key in READ_ONLY})
    out.update(
        created_by={"id": project.created_by} if project.created_by else None,
        created_at=iso(project.created_at),
        updated_at=iso(project.updated_at),
        num_tasks_with_annotations=project.finished_task_number,
        is_published=True,
        is_draft=False,
    )
    return out


def user_simple(user: User) -> dict[str, Any]:
    """Label Studio's UserSimple: who someone is, nothing about their account."""
    return {"id": user.id, "first_name": user.first_name, "last_name": user.last_name, "email": user.email,
            "avatar": None}
