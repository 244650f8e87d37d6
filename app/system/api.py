"""JSON for containers and scripts: the open /health and /api/version, and every check for admins."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

from litestar import get

from app.auth import PUBLIC, require_admin
from app.system import health


@get(["/health", "/health/"], opt=PUBLIC)
async def health_check() -> dict[str, Any]:
    return {"status": "UP", "database": await health.database_answers()}


@get(["/api/version", "/api/version/"], opt=PUBLIC)
async def api_version() -> dict[str, Any]:
    release = version("labelwell")
    return {"release": release, "labelwell": {"version": release}, "edition": "Labelwell"}


@get(["/api/health", "/api/health/"], guards=[require_admin])
async def health_json() -> dict[str, Any]:
    """Every health check as data, for scripts (the open /health only says the database answers)."""
    return health.status_json(await health.system_status())


ROUTES = [health_check, api_version, health_json]
