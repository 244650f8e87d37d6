"""What the rest of the app calls when annotations change, for the project's export storages: one
statement in the writer's transaction.

    await export_queue.annotations_changed(project_id, [annotation.id])

Each export storage of the project gets a due row per annotation (lw_storage_export), committed
with the change or not at all; the worker writes what the annotation is when it gets there
(app/storages/exporting.py), so a submit, an update and a delete in a row end as the last of
them, and the request never waits for a bucket."""

from __future__ import annotations

from app.clock import now
from app.rows import raw

CHUNK = 500  # rows per statement


async def _targets(project_id: int) -> list[int]:
    found = await raw("SELECT id FROM lw_storage WHERE project = {} AND role = 'export'", project_id)
    return [r["id"] for r in found]


async def annotations_changed(project_id: int, annotation_ids: list[int]) -> None:
    """Created, updated, skipped or deleted: each export storage writes (or removes) it again."""
    targets = await _targets(project_id) if annotation_ids else []
    ids = sorted({int(i) for i in annotation_ids})
    stamp = now()
    for storage_id in targets:
        for start in range(0, len(ids), CHUNK):
            values = ", ".join(f"({storage_id}, {i}, 'pending', 0, {{}}, {{}})" for i in ids[start:start + CHUNK])
            await raw("INSERT INTO lw_storage_export (storage, annotation, state, attempts, next_attempt_at, "
                      f"updated_at) VALUES {values} ON CONFLICT (storage, annotation) DO UPDATE SET "
                      "state = 'pending', attempts = 0, error = NULL, generation = lw_storage_export.generation + 1, next_attempt_at = excluded.next_attempt_at, "
                      "updated_at = excluded.updated_at", *[stamp] * (2 * len(ids[start:start + CHUNK])))


async def annotations_changed_where(project_id: int, where: str) -> None:
    """For the annotations `where` selects (SQL over lw_annotation): call it before a delete."""
    if await _targets(project_id):
        found = await raw(f"SELECT id FROM lw_annotation WHERE {where}")
        await annotations_changed(project_id, [r["id"] for r in found])
