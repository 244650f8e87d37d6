"""Run a benchmark once per database engine: SQLite in a folder, PostgreSQL in a throwaway cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from tests import pg


def on_engines(choice: str, folder: Path, run: Callable[[str, str], None]) -> None:
    """run(engine, database_url) for "sqlite", "postgres" or "both"."""
    if choice in ("sqlite", "both"):
        run("sqlite", f"sqlite:///{folder / 'bench.sqlite3'}")
    if choice in ("postgres", "both"):
        bin_dir = pg.find_bin_dir()
        if bin_dir is None:
            print("[postgres] skipped: PostgreSQL is not installed")
            return
        cluster = pg.Cluster(bin_dir)
        try:
            run("postgres", pg.create_database(cluster.start(), "bench"))
        finally:
            cluster.stop()
