"""An export: the chosen format writing the filtered records, streamed to the client or written to a
file by a job, and the records written counted against the records expected."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from litestar.exceptions import PermissionDeniedException

from app.data_export import records
from app.data_export.formats import FORMATS, Format, available
from app.db import read_snapshot
from app.errors import InputError
from app.projects import service as projects
from app.tables import Project, User
from components import LabelConfig, parse_config

log = logging.getLogger("labelwell.export")


class ExportIncomplete(RuntimeError):
    """Fewer (or more) records were written than the query promised: the download must fail, loudly."""


async def exportable(user: User, project: Project) -> None:
    if await projects.member_role(user, project.id) not in ("admin", "reviewer"):
        raise PermissionDeniedException("Only reviewers and admins export a project")


def chosen_format(project: Project, name: str) -> tuple[LabelConfig, Format]:
    """The format asked for, if the project's config allows it: a 400 saying which ones it allows otherwise."""
    config = parse_config(project.label_config)
    fmt = FORMATS.get(name)
    if fmt is None or fmt not in available(config):
        allowed = ", ".join(f.name for f in available(config))
        raise InputError({"exportType": [f"{name!r} is not available for this project; use one of: {allowed}."]})
    return config, fmt


class Counted:
    """Opens the records (a format may read them twice) and counts what the last reading gave."""

    def __init__(self, project_id: int, filters: records.Filters) -> None:
        self.project_id, self.filters, self.count = project_id, filters, 0

    def open(self) -> AsyncIterator[dict[str, Any]]:
        self.count = 0
        return self._read()

    async def _read(self) -> AsyncIterator[dict[str, Any]]:
        async for record in records.tasks(self.project_id, self.filters):
            self.count += 1
            yield record


async def export_stream(project: Project, name: str, filters: records.Filters) -> tuple[AsyncIterator[Any], int, Counted]:
    config, fmt = chosen_format(project, name)
    expected = await records.expected_count(project.id, filters)  # for the header; may move while we write
    counted = Counted(project.id, filters)
    extra = {"data_keys": await records.data_keys(project.id)} if fmt.wants_data_keys else {}

    async def body() -> AsyncIterator[Any]:
        # one snapshot for the count and the records: annotating during an export changes neither
        async with read_snapshot():
            promised = await records.expected_count(project.id, filters)
            async for chunk in fmt.writer(counted.open, config, **extra):
                yield chunk
        if counted.count != promised:
            log.error("export of project %s wrote %s of %s records", project.id, counted.count, promised)
            raise ExportIncomplete(f"wrote {counted.count} of {promised} records")

    return body(), expected, counted
