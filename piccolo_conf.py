"""The one place that picks the database engine (Piccolo reads this module by name)."""

from __future__ import annotations

from piccolo.conf.apps import AppRegistry

from app.db import make_engine
from app.settings import settings

DB = make_engine(settings)
APP_REGISTRY = AppRegistry(apps=["app.piccolo_app"])
