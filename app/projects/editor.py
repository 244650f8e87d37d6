"""The config editor's live check and preview, the starter gallery, and Label Studio's validate API."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from litestar import Request, Response, post
from litestar.response import Template

from app.auth import require_admin, user_of
from app.projects import service
from app.projects.api import both, project_or_404
from components import ConfigError, ConfigInvalid, LabelConfig, parse_config

if TYPE_CHECKING:
    from app.tables import Project


async def check(xml: str, project: Project | None) -> tuple[LabelConfig | None, list[ConfigError], list[str]]:
    """(config, errors, orphaned) for a config text, against the project's annotations when given."""
    try:
        config = parse_config(xml)
    except ConfigInvalid as exc:
        return None, exc.errors, []
    except ConfigError as exc:
        return None, [exc], []
    orphans = await service.config_orphans(project, config) if project and xml != project.label_config else []
    return config, [], orphans


@post("/projects/config/preview", guards=[require_admin], opt={"audit": None})
async def config_preview(request: Request) -> Template:
    """The editor posts the config as it is typed (debounced); the answer is the errors or a preview."""
    form = await request.form()
    project_id = form.get("project_id", "")
    project = await project_or_404(user_of(request), int(project_id)) if re.fullmatch(r"[0-9]{1,9}", project_id) else None
    config, errors, orphans = await check(form.get("label_config", ""), project)
    context: dict[str, Any] = {"errors": errors, "orphans": orphans, "config": config, "preview": None}
    if config is not None:
        context["preview"] = config.render(config.sample_task()["data"])
    return Template("projects/_config_preview.html", context=context)


def validation_response(config: LabelConfig | None, errors: list[ConfigError], orphans: list[str]) -> Response:
    if errors or orphans:
        messages = [str(e) for e in errors] + orphans
        return Response({"status_code": 400, "detail": "Validation error",
                         "validation_errors": {"label_config": messages},
                         "errors": [e.as_json() for e in errors]}, status_code=400)
    assert config is not None
    controls = {c.name: {"type": c.tag, "to_name": c.to_names} for c in config.controls}
    return Response({"valid": True, "data_keys": config.data_keys(), "controls": controls}, status_code=200)


@post(both("/api/projects/validate"), guards=[require_admin], status_code=200, opt={"audit": None})
async def config_validate(data: dict[str, Any]) -> Response:
    return validation_response(*await check(str(data.get("label_config") or ""), None))


@post(both("/api/projects/{project_id:int}/validate"), guards=[require_admin], status_code=200, opt={"audit": None})
async def project_config_validate(request: Request, project_id: int, data: dict[str, Any]) -> Response:
    project = await project_or_404(user_of(request), project_id)
    return validation_response(*await check(str(data.get("label_config") or ""), project))


ROUTES = [config_preview, config_validate, project_config_validate]
