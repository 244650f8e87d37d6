"""The bodies Label Studio's webhooks carry (storage-webhooks.md §12), built from table rows.

No secret goes out: Label Studio puts the project's invite `token` and `task_data_password` in
every payload's `project` block; Labelwell has neither in it. Counters it would have to count
in the writer's transaction (`num_tasks_with_annotations`, `ground_truth_number`) are left out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.clock import iso

if TYPE_CHECKING:
    from app.tables import Annotation, Project, Task

ORGANIZATION = 1  # one organization per instance, as Label Studio's Community edition has it


def project_payload(p: Project) -> dict[str, Any]:
    return {"task_number": p.task_number, "finished_task_number": p.finished_task_number,
            "total_predictions_number": p.total_predictions_number,
            "total_annotations_number": p.total_annotations_number,
            "useful_annotation_number": p.total_annotations_number,
            "skipped_annotations_number": p.skipped_annotations_number,
            "id": p.id, "title": p.title, "description": p.description, "label_config": p.label_config,
            "expert_instruction": p.expert_instruction, "show_instruction": p.show_instruction,
            "show_skip_button": p.show_skip_button, "enable_empty_annotation": p.enable_empty_annotation,
            "show_annotation_history": p.show_annotation_history,
            "show_collab_predictions": p.show_collab_predictions,
            "maximum_annotations": p.maximum_annotations, "model_version": p.model_version,
            "evaluate_predictions_automatically": p.evaluate_predictions_automatically,
            "start_training_on_annotation_update": p.start_training_on_annotation_update,
            "sampling": p.sampling, "skip_queue": p.skip_queue,
            "overlap_cohort_percentage": p.overlap_cohort_percentage, "color": p.color,
            "created_at": iso(p.created_at), "updated_at": iso(p.updated_at),
            "organization": ORGANIZATION, "created_by": p.created_by}


def task_payload(t: Task) -> dict[str, Any]:
    """Every field of Label Studio's Task model; comments Labelwell does not have are empty."""
    return {"id": t.id, "data": t.data, "meta": t.meta, "created_at": iso(t.created_at),
            "updated_at": iso(t.updated_at), "is_labeled": t.is_labeled, "allow_skip": True, "overlap": t.overlap,
            "inner_id": t.inner_id, "total_annotations": t.total_annotations,
            "cancelled_annotations": t.cancelled_annotations, "total_predictions": t.total_predictions,
            "precomputed_agreement": t.agreement, "comment_count": 0, "unresolved_comment_count": 0,
            "last_comment_updated_at": None, "project": t.project, "updated_by": t.updated_by,
            "file_upload": t.file_upload, "comment_authors": []}


def annotation_payload(a: Annotation) -> dict[str, Any]:
    """Every field of Label Studio's Annotation model, the people and the task as ids."""
    return {"id": a.id, "result": a.result, "was_cancelled": a.was_cancelled, "ground_truth": a.ground_truth,
            "created_at": iso(a.created_at), "updated_at": iso(a.updated_at), "draft_created_at": None,
            "lead_time": a.lead_time, "prediction": {}, "result_count": len(a.result or []),
            "unique_id": a.unique_id, "import_id": None, "last_action": None, "bulk_created": False,
            "task": a.task, "project": a.project, "completed_by": a.completed_by, "updated_by": a.completed_by,
            "parent_prediction": a.parent_prediction, "parent_annotation": None, "last_created_by": None}
