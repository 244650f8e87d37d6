"""Open endpoints for containers and scripts: /health and /api/version."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

from litestar import get

from app.auth import PUBLIC
from app.db import engine_name
from app.tables import User


@get(["/health", "/health/"], opt=PUBLIC)
async def health() -> dict[str, Any]:
    await User.exists()  # the database answers, or this raises and the check fails with 500
    return {"status": "UP", "database": engine_name()}


@get(["/api/version", "/api/version/"], opt=PUBLIC)
async def api_version() -> dict[str, Any]:
    release = version("labelwell")
    return {"release": release, "labelwell": {"version": release}, "edition": "Labelwell"}


ROUTES = [health, api_version]
