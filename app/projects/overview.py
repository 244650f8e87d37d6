"""What a project's own page shows: its config's preview and export formats, the job the user just
started, its members (for admins), and whether the user reviews here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app import jobs
from app.accounts import service as accounts
from app.data_export.formats import available
from app.data_import.media_keys import series_files
from app.projects import service
from components import ConfigError, parse_config

if TYPE_CHECKING:
    from app.tables import Project, User


def config_view(project: Project) -> dict[str, Any]:
    try:
        config = parse_config(project.label_config)
    except ConfigError as exc:  # saved before a stricter check: say so instead of failing the page
        return {"preview": None, "data_keys": [], "config_error": str(exc), "formats": [], "series_files": False}
    return {"preview": config.render(config.sample_task()["data"], readonly=True), "data_keys": config.data_keys(),
            "config_error": None, "formats": available(config), "series_files": series_files(project.label_config)}


async def page(user: User, project: Project, job_id: int | None) -> dict[str, Any]:
    context: dict[str, Any] = {"project": project, "members": [], "users": [], **config_view(project),
                               "job": await jobs.get(job_id, project.id) if job_id else None}
    if user.role == "admin":
        context.update(members=await service.list_members(project.id), users=await accounts.list_users())
    # review is a project role: a member reviewer sees the links, whatever their global role
    context["reviews"] = await service.member_role(user, project.id) in ("admin", "reviewer")
    return context
