"""Piccolo app registration: where the tables and the migrations live."""

from __future__ import annotations

from piccolo.conf.apps import AppConfig, table_finder

from app.settings import ROOT

APP_CONFIG = AppConfig(
    app_name="labelwell",
    migrations_folder_path=str(ROOT / "piccolo_migrations"),
    table_classes=table_finder(modules=["app.tables"], exclude_imported=True),
    migration_dependencies=[],
    commands=[],
)
