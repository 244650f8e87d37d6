"""The health checks an admin reads on /settings/health: database, migrations, worker, broker, disk.
Each says ok or problem in a sentence; none waits long, so the page answers when things are down."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import anyio
from piccolo.apps.migrations.tables import Migration

from app.clock import iso, now
from app.db import engine_name, is_postgres
from app.errors import Unavailable
from app.piccolo_app import APP_CONFIG
from app.settings import settings
from app.system.heartbeat import FRESH_SECONDS, broker_label
from app.tables import User, Worker
from app.uploads import media_store

BROKER_TIMEOUT = 1.5  # seconds
LOW_DISK_BYTES = 1_000_000_000
MIGRATION_ID = re.compile(r'^ID = "([^"]+)"', re.MULTILINE)


@dataclass
class Check:
    key: str
    title: str
    ok: bool
    sentence: str
    facts: dict[str, str] = field(default_factory=dict)
    command: str = ""  # the command that mends the problem, shown as code


def size_text(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000:
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def age_text(seconds: float) -> str:
    for limit, step, unit in ((120, 1, "s"), (7200, 60, "min"), (172800, 3600, "h")):
        if seconds < limit:
            return f"{int(seconds // step)} {unit} ago"
    return f"{int(seconds // 86400)} days ago"


async def database_answers() -> str:
    """The open /health's check: the database answers (or this raises, and the check fails with 500)."""
    await User.exists()
    return engine_name()


async def database_check() -> Check:
    if is_postgres():
        rows = await Worker.raw("SELECT version() AS v, pg_database_size(current_database()) AS size")
        engine, version, size = "PostgreSQL", rows[0]["v"].split()[1], rows[0]["size"]
    else:
        engine, version = "SQLite", sqlite3.sqlite_version
        path = settings.sqlite_path
        size = sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
    return Check("database", "Database", True, f"{engine} {version} answers; the database takes {size_text(size)}.",
                 {"Engine": engine, "Version": version, "Size": size_text(size)})


async def migrations_check() -> Check:
    folder = Path(APP_CONFIG.migrations_folder_path)
    known = {m.group(1) for f in folder.glob("*.py") if (m := MIGRATION_ID.search(f.read_text()))}
    applied = set(await Migration.get_migrations_which_ran(app_name=APP_CONFIG.app_name))
    pending, unknown = sorted(known - applied), sorted(applied - known)
    facts = {"Applied": f"{len(known & applied)} of {len(known)}"}
    if pending:
        return Check("migrations", "Migrations", False, f"{len(pending)} of {len(known)} migrations are not applied: "
                     f"{', '.join(pending)} (restarting the server applies them too).", facts, "labelwell migrate")
    if unknown:
        return Check("migrations", "Migrations", False, f"The database has migrations this version does not know "
                     f"({', '.join(unknown)}): a newer Labelwell has used it.", facts)
    return Check("migrations", "Migrations", True, f"All {len(known)} migrations are applied.", facts)


async def list_workers() -> list[dict[str, Any]]:
    moment = now()
    rows = await Worker.select().order_by(Worker.seen_at, ascending=False)
    for row in rows:
        age = max(0.0, (moment - row["seen_at"]).total_seconds())
        row.update(age=age, seen_text=age_text(age), alive=age < FRESH_SECONDS,
                   same_broker=row["broker"] == broker_label())
    return rows


def worker_check(workers: list[dict[str, Any]]) -> Check:
    alive = [w for w in workers if w["alive"]]
    serving = [w for w in alive if w["same_broker"]]
    facts = {"Running": str(len(serving))}
    if serving:
        names = ", ".join(f"{w['name']} (pid {w['pid']}, seen {w['seen_text']})" for w in serving)
        plural = "s" if len(serving) > 1 else ""
        return Check("worker", "Worker", True, f"{len(serving)} worker{plural} running: {names}.", facts)
    if alive:
        other = alive[0]
        return Check("worker", "Worker", False, f"{other['name']} is running but reads jobs from {other['broker']}, "
                     f"while this server queues them in {broker_label()}: give both the same CELERY_BROKER_URL "
                     "(and, for the filesystem broker, the same data folder).", facts)
    last = f" The last heartbeat came {workers[0]['seen_text']} from {workers[0]['name']}." if workers else ""
    return Check("worker", "Worker", False, f"No worker is running (none sent a heartbeat in the last "
                 f"{FRESH_SECONDS} s), so jobs wait in the queue.{last}", facts, "labelwell worker")


def probe_broker() -> str:
    """Connect to the broker (blocking, short timeouts); answers what is waiting there."""
    url = settings.broker_url
    if url.startswith("filesystem://"):
        queue = settings.broker_dir / "queue"
        if not queue.is_dir():
            raise OSError(f"the folder {queue} does not exist")
        if not os.access(queue, os.W_OK):
            raise OSError(f"the folder {queue} is not writable")
        return f"{sum(1 for name in os.listdir(queue) if name.endswith('.msg'))} messages waiting"
    if url.startswith(("redis://", "rediss://")):
        import redis

        with redis.Redis.from_url(url, socket_connect_timeout=BROKER_TIMEOUT, socket_timeout=BROKER_TIMEOUT) as client:
            client.ping()
            return f"{client.llen('celery')} messages waiting"
    from kombu import Connection

    with Connection(url, connect_timeout=BROKER_TIMEOUT) as connection:
        connection.connect()
    return "connected"


async def broker_check() -> Check:
    facts = {"URL": broker_label()}
    try:
        with anyio.fail_after(BROKER_TIMEOUT + 0.5):  # a name that takes long to resolve, say
            waiting = await anyio.to_thread.run_sync(probe_broker, abandon_on_cancel=True)
    except TimeoutError:
        return Check("broker", "Broker", False, f"The broker at {broker_label()} did not answer within "
                     f"{BROKER_TIMEOUT + 0.5:.0f} s, so no job can be queued.", facts)
    except Exception as exc:  # whatever the client raised, it is the sentence the admin needs
        return Check("broker", "Broker", False, f"The broker at {broker_label()} cannot be reached, so no job can be "
                     f"queued ({type(exc).__name__}: {str(exc).rstrip('.')}).", facts)
    return Check("broker", "Broker", True, f"The broker at {broker_label()} accepts connections ({waiting}).",
                 {**facts, "Queue": waiting})


def disk_check() -> Check:
    folder = settings.data_dir
    usage = shutil.disk_usage(folder)
    facts = {"Folder": str(folder), "Free": size_text(usage.free), "Total": size_text(usage.total)}
    free = f"{size_text(usage.free)} free of {size_text(usage.total)}"
    if not os.access(folder, os.W_OK):
        return Check("disk", "Data folder", False, f"The data folder {folder} is not writable: uploads and exports "
                     "fail.", facts)
    if usage.free < LOW_DISK_BYTES or usage.free < usage.total * 0.05:
        return Check("disk", "Data folder", False, f"The disk holding {folder} is nearly full: {free}.", facts)
    return Check("disk", "Data folder", True, f"{free} on the disk holding {folder}.", facts)


async def media_check() -> Check | None:
    """The media bucket (LABELWELL_MEDIA_URL), when uploads are kept in one: does it answer."""
    kept = media_store.current()
    if isinstance(kept, media_store.Folder):
        return None
    facts = {"Bucket": media_store.describe()}
    try:
        await anyio.to_thread.run_sync(kept.check)
    except Unavailable as exc:
        return Check("media", "Media bucket", False, f"{exc} Uploads cannot be stored or served.", facts)
    return Check("media", "Media bucket", True, f"Uploads are kept in {media_store.describe()}, which answers.", facts)


async def system_status(full: bool = True) -> dict[str, Any]:
    """The checks (only broker and worker unless `full`), and the workers' rows."""
    workers = await list_workers()
    checks = [await broker_check(), worker_check(workers)]
    if full:
        media = await media_check()
        checks = [await database_check(), await migrations_check(), *checks, disk_check(), *([media] if media else [])]
    return {"ok": all(c.ok for c in checks), "checks": checks, "workers": workers}


def status_json(status: dict[str, Any]) -> dict[str, Any]:
    workers = [{"name": w["name"], "pid": w["pid"], "broker": w["broker"], "started_at": iso(w["started_at"]),
                "seen_at": iso(w["seen_at"]), "reachable": w["alive"] and w["same_broker"]} for w in status["workers"]]
    return {"ok": status["ok"], "checks": [asdict(c) for c in status["checks"]], "workers": workers}
