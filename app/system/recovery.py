"""Jobs whose worker is gone. A job that starts records who runs it (`lw_job.worker`): the worker's
node name, main process and start, and the process running the job. Every worker checks, when
it starts and after each heartbeat, the running jobs of all workers, and marks failed those whose
owner is gone, so Retry can run them again; a second delivery of a job never runs it twice.

Whether an owner is gone:
- on the same machine (same boot, same process namespace) the process table says so exactly:
  the process that ran the job no longer exists, or its pid now belongs to another process;
- from elsewhere, only the heartbeat can: the owner's worker row was taken over by a newer process
  of the same name (a restart), or has been silent for FRESH_SECONDS while this worker's own beats
  went through (so the database was there to receive them)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import os
from dataclasses import dataclass
from typing import Any

from app.clock import now
from app.db import write_tx
from app.system.heartbeat import FRESH_SECONDS, identity
from app.tables import Job, Worker

log = logging.getLogger("labelwell.jobs")
FRESH = dt.timedelta(seconds=FRESH_SECONDS)
INTERRUPTED = "Interrupted by a restart: {who} stopped before the job finished. Retry runs it again from the start."


def _read(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            return fh.read().decode(errors="replace").strip()
    except OSError:
        return ""


def _machine() -> str:
    """This boot of this machine and this process namespace: where a pid means the same process."""
    boot = _read("/proc/sys/kernel/random/boot_id")
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""
    return hashlib.sha256(f"{boot} {namespace}".encode()).hexdigest()[:12] if boot else ""


MACHINE = _machine()


def _process_start(pid: int) -> tuple[str, str]:
    """(state, start time in clock ticks since boot) of a process, or ("", "") if there is none."""
    stat = _read(f"/proc/{pid}/stat")
    fields = stat.rpartition(")")[2].split()  # the command name, in brackets, may hold spaces
    return (fields[0], fields[19]) if len(fields) > 19 else ("", "")


def _alive_here(pid: int, start: str) -> bool:
    state, started = _process_start(pid)
    if not state:
        try:
            os.kill(pid, 0)  # /proc may hide other users' processes: ask the kernel
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return started == start and state not in ("Z", "X")  # a zombie ran its last line already


@dataclass(frozen=True)
class Owner:
    name: str  # the worker's node name (celery@host)
    pid: int  # the worker's main process, which beats
    started: dt.datetime  # the worker's start, as its heartbeat row has it
    machine: str
    process: int  # the process running the job (a pool process)
    process_start: str

    def token(self) -> str:
        return "|".join([self.name, str(self.pid), self.started.isoformat(), self.machine, str(self.process),
                         self.process_start])

    @classmethod
    def parse(cls, token: str) -> Owner | None:
        parts = token.rsplit("|", 5)
        try:
            return cls(parts[0], int(parts[1]), dt.datetime.fromisoformat(parts[2]), parts[3], int(parts[4]), parts[5])
        except (IndexError, ValueError):
            return None

    @property
    def label(self) -> str:
        return f"worker {self.name} (pid {self.pid})"


def me() -> str:
    """The owner token of the current process, as a job it starts records it."""
    name, pid, started = identity()
    process = os.getpid()
    return Owner(name, pid, started, MACHINE, process, _process_start(process)[1]).token()


def worker_name(token: str) -> str:
    """The worker a job's owner token names, for pages."""
    owner = Owner.parse(token)
    return owner.name if owner else ""


def gone(owner: Owner, job_started: dt.datetime | None, rows: dict[str, dict[str, Any]], moment: dt.datetime,
         steady: float | None) -> bool:
    """Whether the owner of a running job is gone. `steady`: how long this worker's heartbeats have
    gone through; None to judge only what this machine can tell exactly."""
    if owner.machine and owner.machine == MACHINE and owner.process_start:
        return not _alive_here(owner.process, owner.process_start)
    if steady is None:
        return False
    row = rows.get(owner.name)
    if row is not None and row["started_at"] > owner.started:
        return True  # a newer worker of that name beats in its row: the owner was restarted
    settled = steady >= FRESH_SECONDS
    if row is None or row["pid"] != owner.pid or row["started_at"] != owner.started:
        # its first beat may still be on its way (it began the job first): give it time
        return settled and (job_started is None or job_started < moment - FRESH)
    return settled and row["seen_at"] < moment - FRESH


async def interrupt(job_id: int, token: str, who: str) -> bool:
    """Mark a running job failed, if it is still running for that owner. Whether it was."""
    async with write_tx():
        marked = await Job.update({Job.state: "failed", Job.error: INTERRUPTED.format(who=who),
                                   Job.finished_at: now()}).where(
            (Job.id == job_id) & (Job.state == "running") & (Job.worker == token)).returning(Job.id)
    return bool(marked)


async def interrupt_if_gone(job: Job) -> bool:
    """For a job delivered again while it is marked running: fail it if its owner is certainly gone."""
    owner = Owner.parse(job.worker)
    if owner is None or not gone(owner, job.started_at, {}, now(), None):
        return False
    return await interrupt(job.id, job.worker, owner.label)


async def fail_orphans(steady: float | None) -> list[int]:
    """Mark failed every running job whose owner is gone; the ids marked."""
    running = await Job.select(Job.id, Job.worker, Job.started_at).where(Job.state == "running")
    if not running:
        return []
    moment = now()
    rows = {row["name"]: row for row in await Worker.select(Worker.name, Worker.pid, Worker.started_at, Worker.seen_at)}
    name, pid, _ = identity()
    others_alive = any(row["seen_at"] >= moment - FRESH and (row["name"], row["pid"]) != (name, pid)
                       for row in rows.values())
    marked = []
    for job in running:
        owner = Owner.parse(job["worker"])
        if owner is None:
            # started by a release that did not record its worker: gone unless another worker lives
            if steady is not None and not others_alive and await interrupt(job["id"], job["worker"], "its worker"):
                marked.append(job["id"])
        elif gone(owner, job["started_at"], rows, moment, steady) and await interrupt(job["id"], job["worker"],
                                                                                   owner.label):
            marked.append(job["id"])
    if marked:
        log.warning("jobs %s were running on workers that stopped: marked failed (interrupted)", marked)
    return marked


def sweep(steady: float) -> None:
    """The heartbeat's hook, in its thread: an event loop of its own for each check."""
    asyncio.run(fail_orphans(steady))
