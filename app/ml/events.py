"""What the model hears about: Label Studio's webhook payloads for annotation changes (when the
project trains on annotation updates) and START_TRAINING. Each is delivered by a job, so a slow or
down backend never holds up the annotator who saved."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app import jobs
from app.clock import iso
from app.learning import service as builtin
from app.ml import service
from app.tasks.schemas import annotation_json, task_json

if TYPE_CHECKING:
    from app.tables import Annotation, Job, MLBackend, Project, Task


def project_payload(project: Project) -> dict[str, Any]:
    """Label Studio's WebhookProject fields the SDKs read (2.x needs id and label_config)."""
    return {"id": project.id, "title": project.title, "description": project.description,
            "label_config": project.label_config, "model_version": project.model_version,
            "maximum_annotations": project.maximum_annotations, "created_at": iso(project.created_at),
            "updated_at": iso(project.updated_at), "task_number": project.task_number,
            "created_by": project.created_by}


async def _send(project: Project, backend: MLBackend, payload: dict[str, Any], user_id: int | None) -> Job:
    # quiet: the annotation is saved; a broker that is down must not turn that into an error
    return await jobs.enqueue("ml_webhook", project_id=project.id, user_id=user_id,
                              params={"backend": backend.id, "payload": payload}, quiet=True)


async def annotation_changed(project: Project, action: str, annotation: Annotation, task: Task) -> None:
    """ANNOTATION_CREATED or ANNOTATION_UPDATED, if the project trains on annotation updates;
    the built-in model counts it either way (it trains after every N)."""
    if not annotation.was_cancelled:
        await builtin.annotation_saved(project)
    if not project.start_training_on_annotation_update or annotation.was_cancelled:
        return
    backend = await service.active_backend(project.id)
    if backend is None:
        return
    await _send(project, backend, {"action": action, "annotation": annotation_json(annotation),
                                   "task": task_json(task), "project": project_payload(project)},
                annotation.completed_by)


async def annotations_deleted(project: Project, annotation_ids: list[int]) -> None:
    """Label Studio sends the plural ANNOTATIONS_DELETED, with the ids only."""
    if not project.start_training_on_annotation_update or not annotation_ids:
        return
    backend = await service.active_backend(project.id)
    if backend is not None:
        await _send(project, backend, {"action": "ANNOTATIONS_DELETED", "annotations": [{"id": i} for i in annotation_ids],
                                       "project": project_payload(project)}, None)


async def start_training(project: Project, backend: MLBackend, user_id: int) -> Job:
    return await _send(project, backend, {"action": "START_TRAINING", "project": project_payload(project)}, user_id)
