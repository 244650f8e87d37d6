"""Checking a config text as the editor types it, and Label Studio's validate answer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.projects import service
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


async def preview(xml: str, project: Project | None) -> dict[str, Any]:
    """The editor's live answer: the errors, or the config rendered on a sample task."""
    config, errors, orphans = await check(xml, project)
    rendered = config.render(config.sample_task()["data"]) if config is not None else None
    return {"errors": errors, "orphans": orphans, "config": config, "preview": rendered}


async def validation(xml: str, project: Project | None) -> tuple[dict[str, Any], int]:
    """Label Studio's /validate body and status: the data keys and controls, or every error."""
    config, errors, orphans = await check(xml, project)
    if errors or orphans:
        messages = [str(e) for e in errors] + orphans
        return {"status_code": 400, "detail": "Validation error", "validation_errors": {"label_config": messages},
                "errors": [e.as_json() for e in errors]}, 400
    assert config is not None
    controls = {c.name: {"type": c.tag, "to_name": c.to_names} for c in config.controls}
    return {"valid": True, "data_keys": config.data_keys(), "controls": controls}, 200
