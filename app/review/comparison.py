"""A task's annotations side by side for its reviewer: each rendered read-only, with the regions
no other annotator has marked, the task's history, and how much every annotator agrees on."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from app.review import adjudication, differences, service
from app.uploads.service import media_of
from components import parse_config

if TYPE_CHECKING:
    from app.tables import Project, Task, User

SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # region ids the page may mark by their id


async def task_context(project: Project, task: Task, user: User) -> dict[str, Any]:
    config = parse_config(project.label_config)
    annotations = await service.annotations_of(task.id)
    people = await service.users({a.completed_by for a in annotations})
    opinions = [a for a in annotations if a.review_state != "adjudicated"]
    columns, media = [], await media_of(task.data)
    for a in annotations:
        others = [o.result for o in opinions if o.id != a.id]
        unique = differences.unique_regions(a.result or [], others) if a.review_state != "adjudicated" else []
        columns.append({"annotation": a, "author": people.get(a.completed_by),
                        "form": config.render(task.data, a.result, readonly=True, media=media),
                        "unique": [(r, differences.describe(r, task.data)) for r in unique],
                        "marks": [str(r.get("id")) for r in unique if SAFE_ID.fullmatch(str(r.get("id", "")))]})
    agreed = len(differences.agreed_regions([a.result or [] for a in opinions])) if len(opinions) > 1 else None
    return {"project": project, "task": task, "columns": columns, "history": await service.history(task.id),
            "draft": await adjudication.has_draft(task, user), "agreed": agreed}
