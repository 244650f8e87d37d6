"""Tasks, annotations and predictions as Label Studio's API sends them (and its webhooks carry)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.clock import iso

if TYPE_CHECKING:
    from app.tables import Annotation, Prediction, Task


def task_json(task: Task, annotations: list | None = None, predictions: list | None = None,
              agreement: bool = True) -> dict[str, Any]:
    """`agreement=False` for annotators working blind: a task's agreement tells them what the
    others did (two people, yes or no: 0.0 means the other said the opposite)."""
    out = {"id": task.id, "data": task.data, "meta": task.meta, "inner_id": task.inner_id, "project": task.project,
           "created_at": iso(task.created_at), "updated_at": iso(task.updated_at), "is_labeled": task.is_labeled,
           "overlap": task.overlap, "total_annotations": task.total_annotations,
           "cancelled_annotations": task.cancelled_annotations, "total_predictions": task.total_predictions,
           "file_upload": task.file_upload, "agreement": task.agreement if agreement else None}
    if annotations is not None:
        out["annotations"] = [annotation_json(a) for a in annotations if a.task == task.id]
    if predictions is not None:
        out["predictions"] = [prediction_json(p) for p in predictions if p.task == task.id]
    return out


def annotation_json(a: Annotation) -> dict[str, Any]:
    return {"id": a.id, "task": a.task, "project": a.project, "completed_by": a.completed_by, "result": a.result,
            "was_cancelled": a.was_cancelled, "ground_truth": a.ground_truth, "lead_time": a.lead_time,
            "created_at": iso(a.created_at), "updated_at": iso(a.updated_at), "unique_id": a.unique_id,
            "parent_prediction": a.parent_prediction, "result_count": len(a.result or []),
            "review_state": a.review_state, "review_comment": a.review_comment}


def prediction_json(p: Prediction) -> dict[str, Any]:
    return {"id": p.id, "task": p.task, "project": p.project, "result": p.result, "score": p.score,
            "model_version": p.model_version, "created_at": iso(p.created_at), "updated_at": iso(p.updated_at)}
