"""Agreement and review for scripts: GET /api/projects/{id}/agreement, and a reviewer's decision
on an annotation (POST /api/annotations/{id}/review)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException

from app import audit, rows
from app.agreement import report
from app.auth import user_of
from app.errors import InputError
from app.projects.api import both, project_or_404
from app.review import queue, service
from app.tables import Annotation
from app.tasks.api import annotation_json


@get(both("/api/projects/{project_id:int}/agreement"))
async def agreement(request: Request, project_id: int) -> dict[str, Any]:
    """The project's agreement: mean task score, per control (with kappa and alpha where they
    apply), per label, and per annotator pair. Reviewers and admins."""
    project = await project_or_404(user_of(request), project_id)
    if not await queue.may_review(user_of(request), project):
        raise PermissionDeniedException("Only the project's reviewers and admins see agreement")
    data = await report.cached(project)
    return {key: data[key] for key in (*report.SUMMARY_KEYS, "stale", "computed_at") if key in data}


@post(both("/api/annotations/{annotation_id:int}/review"), status_code=200, opt={"audit": "review.decide"})
async def review(request: Request, annotation_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """{"accepted": true} or {"accepted": false, "comment": "why"}."""
    annotation = await rows.one(Annotation, "id = {}", annotation_id)
    project = await project_or_404(user_of(request), annotation.project) if annotation else None
    if annotation is None or project is None:
        raise NotFoundException(f"No annotation with id {annotation_id}")
    if not await queue.may_review(user_of(request), project):
        raise PermissionDeniedException("Only the project's reviewers and admins review")
    if not isinstance(data.get("accepted"), bool):
        raise InputError({"accepted": ["true to accept, false to reject (with a comment)."]})
    await service.decide(project, user_of(request), annotation, data["accepted"], str(data.get("comment") or ""))
    audit.note(request, ("Accepted" if data["accepted"] else "Rejected") + f" annotation {annotation.id} of task "
                        f"{annotation.task}", project=project.id)
    return annotation_json(await rows.one(Annotation, "id = {}", annotation_id))


ROUTES = [agreement, review]
