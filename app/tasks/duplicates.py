"""The data manager's "Remove Duplicated Tasks", as Label Studio does it: among selected tasks with
identical data, the first annotated one (else the first) stays; the others' annotations move to it
and the others are deleted. Our one-annotation-per-user rule adds one case Label Studio does not
have: a duplicate whose annotator already annotated the kept task stays too, so nothing is lost."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app import idempotency
from app.agreement import store as agreement
from app.db import write_tx
from app.rows import raw
from app.tasks import counters, service

if TYPE_CHECKING:
    from app.tables import Project


async def _groups(where: str) -> list[list[dict[str, Any]]]:
    """The selected tasks that share their data with another selected task, grouped, each in id
    order with its number of annotations: only duplicates leave the database."""
    found = await raw(
        "SELECT s.id, s.grp, (SELECT COUNT(*) FROM lw_annotation a WHERE a.task = s.id) AS n FROM ("
        "SELECT id, DENSE_RANK() OVER (ORDER BY data) AS grp, COUNT(*) OVER (PARTITION BY data) AS copies "
        f"FROM lw_task WHERE {where}) s WHERE s.copies > 1 ORDER BY s.grp, s.id")
    groups: dict[int, list[dict[str, Any]]] = {}
    for row in found:
        groups.setdefault(row["grp"], []).append(row)
    return list(groups.values())


async def _clashes(keeper: int, other: int) -> bool:
    """Would moving `other`'s annotations give someone two live annotations of the kept task?"""
    found = await raw("SELECT 1 AS x FROM lw_annotation a JOIN lw_annotation b ON a.completed_by = b.completed_by "
                      "WHERE a.task = {} AND b.task = {} AND a.review_state != 'adjudicated' "
                      "AND b.review_state != 'adjudicated' LIMIT 1", keeper, other)
    return bool(found)


async def _move(keeper: int, other: int) -> int:
    moved = (await raw("SELECT COUNT(*) AS n FROM lw_annotation WHERE task = {}", other))[0]["n"]
    await raw("UPDATE lw_annotation SET task = {} WHERE task = {}", keeper, other)
    await raw("UPDATE lw_review SET task = {} WHERE task = {}", keeper, other)
    await raw("UPDATE lw_annotation_draft SET task = {} WHERE task = {} AND annotation IS NOT NULL", keeper, other)
    return int(moved)


async def remove_duplicates(project: Project, task_ids: list[int] | None, excluded: Any = ()) -> tuple[int, int, int]:
    """(tasks removed, annotations moved, duplicates kept because their annotator clashed)."""
    project_id = project.id
    where = service.task_where(project_id, task_ids, excluded)
    removing: list[int] = []
    keepers: list[int] = []
    moved = kept = 0
    async with write_tx():
        await counters.lock_where(where)
        for group in await _groups(where):
            keeper = next((t for t in group if t["n"] > 0), group[0])["id"]
            keepers.append(keeper)
            for task in group:
                if task["id"] == keeper:
                    continue
                if task["n"] and await _clashes(keeper, task["id"]):
                    kept += 1
                    continue
                if task["n"]:
                    moved += await _move(keeper, task["id"])
                removing.append(task["id"])
        if keepers:
            touched = ", ".join(str(int(i)) for i in keepers + removing)
            await counters.refresh_where(project_id, f"project = {int(project_id)} AND id IN ({touched})")
        removed = await service.delete_tasks(project_id, removing) if removing else 0
    if moved:
        await idempotency.after_commit(lambda: agreement.refresh(project, keepers))
    return removed, moved, kept
