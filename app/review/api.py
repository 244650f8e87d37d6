"""Agreement and review for scripts: GET /api/projects/{id}/agreement, and a reviewer's decision
on an annotation (POST /api/annotations/{id}/review)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException

from app import access, audit
from app.agreement import report
from app.auth import user_of
from app.errors import InputError
from app.review import queue, service
from app.tasks.schemas import annotation_json
from app.web import both

if TYPE_CHECKING:
    from app.tables import Project


@get(both("/api/projects/{project_id:int}/agreement"))
async def agreement(request: Request, project: Project) -> dict[str, Any]:
    """The project's agreement: mean task score, per control (with kappa and alpha where they
    apply), per label, and per annotator pair. Reviewers and admins."""
    if not await queue.may_review(user_of(request), project):
        raise PermissionDeniedException("Only the project's reviewers and admins see agreement")
    data = await report.cached(project)
    return {key: data[key] for key in (*report.SUMMARY_KEYS, "stale", "computed_at") if key in data}


@post(both("/api/annotations/{annotation_id:int}/review"), status_code=200, opt={"audit": "review.decide"})
async def review(request: Request, annotation_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """{"accepted": true} or {"accepted": false, "comment": "why"}."""
    annotation = await service.get_annotation(annotation_id)
    if annotation is None:
        raise NotFoundException(f"No annotation with id {annotation_id}")
    project = await access.visible_project(user_of(request), annotation.project)
    if not await queue.may_review(user_of(request), project):
        raise PermissionDeniedException("Only the project's reviewers and admins review")
    if not isinstance(data.get("accepted"), bool):
        raise InputError({"accepted": ["true to accept, false to reject (with a comment)."]})
    await service.decide(project, user_of(request), annotation, data["accepted"], str(data.get("comment") or ""))
    audit.note(request, service.verdict(data["accepted"], annotation), project=project.id)
    return annotation_json(await service.get_annotation(annotation_id))


ROUTES = [agreement, review]
