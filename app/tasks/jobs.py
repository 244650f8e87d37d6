"""The tasks domain's background job: repairing a project's counters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.db import write_tx
from app.jobs import handler
from app.tasks import counters

if TYPE_CHECKING:
    from app.tables import Job


@handler("recount")
async def recount(job: Job) -> dict[str, Any]:
    """Recompute a project's counters from its rows: repairs drift after a crash or a manual edit."""
    async with write_tx():
        return await counters.recount_project(job.project)
