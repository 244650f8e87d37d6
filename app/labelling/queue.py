"""Who labels what next: choosing a task and holding it with a lock, in one write transaction.

A task has room for one more annotator when its finished annotations plus the live locks of
other people are fewer than its overlap. Choosing and locking happen in one transaction that
writers take in turn (BEGIN IMMEDIATE on SQLite, a per-project advisory lock on PostgreSQL), so
two annotators can never be handed the same slot. Expired locks simply stop counting."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any


from app import instance
from app.clock import now
from app.db import is_postgres, write_tx
from app.rows import raw
from app.tables import Project, TaskLock, User


def lock_ttl() -> dt.timedelta:
    return instance.current().task_lock  # the live setting (Settings → Instance)


async def _serialise(project_id: int) -> None:
    """Queue choices for one project take turns (SQLite's IMMEDIATE transaction already does)."""
    if is_postgres():
        await raw("SELECT pg_advisory_xact_lock(7301, {})", project_id)


def _room(project: Project) -> str:
    """SQL: the task `t` can take one more annotator (finished work plus others' live locks < overlap)."""
    done = "t.total_annotations + t.cancelled_annotations" if project.skip_queue == "IGNORE_SKIPPED" else "t.total_annotations"
    return (f"({done} + (SELECT COUNT(*) FROM lw_task_lock l WHERE l.task = t.id AND l.\"user\" <> {{}} "
            f"AND l.expire_at > {{}})) < t.overlap")


NOT_MINE = "NOT EXISTS (SELECT 1 FROM lw_annotation a WHERE a.task = t.id AND a.completed_by = {})"


async def _candidate(project: Project, user_id: int, moment: dt.datetime, exclude: int = 0) -> int | None:
    """The next task for this user by the project's sampling (never `exclude`), or None."""
    where = f"t.project = {{}} AND t.is_labeled = {{}} AND t.id <> {{}} AND {NOT_MINE} AND {_room(project)}"
    args: list[Any] = [project.id, False, exclude, user_id, user_id, moment]
    order = "t.inner_id"
    if project.maximum_annotations > 1:
        # breadth first, as Label Studio: finish the tasks others have started before opening new ones
        order = "t.total_annotations DESC, t.inner_id"
    if project.sampling == "Uncertainty sampling":
        found = await _least_sure(project, where, args)
        if found is not None:
            return found  # else no task with room has a prediction of the version: the usual order
    if project.sampling == "Uniform sampling" and project.maximum_annotations <= 1:
        # a random starting point in inner-id order, wrapping round: one index seek, not ORDER BY random()
        pivot = random.randint(1, max(1, project.next_inner_id - 1))
        for extra, extra_arg in (("AND t.inner_id >= {}", pivot), ("AND t.inner_id < {}", pivot)):
            rows = await raw(f"SELECT t.id FROM lw_task t WHERE {where} {extra} ORDER BY t.inner_id LIMIT 1",
                              *args, extra_arg)
            if rows:
                return rows[0]["id"]
        return None
    rows = await raw(f"SELECT t.id FROM lw_task t WHERE {where} ORDER BY {order} LIMIT 1", *args)
    return rows[0]["id"] if rows else None


async def _least_sure(project: Project, where: str, args: list[Any]) -> int | None:
    """Uncertainty sampling: the task whose prediction of the project's model version is the least
    sure. The walk goes up lw_prediction_certainty (project, version, score) from the lowest score
    and stops at the first task with room, so it reads a handful of rows at a million tasks; the
    built-in model predicts only unannotated tasks and retrains often, so few it passes are done."""
    version = project.model_version or await _newest_version(project.id)
    if version is None:
        return None
    rows = await raw(f"SELECT t.id FROM lw_prediction p JOIN lw_task t ON t.id = p.task WHERE p.project = {{}} "
                     f"AND p.model_version = {{}} AND p.score IS NOT NULL AND {where} "
                     f"ORDER BY p.score, p.task LIMIT 1", project.id, version, *args)
    return rows[0]["id"] if rows else None


async def _newest_version(project_id: int) -> str | None:
    """With no model version chosen, the one predicted last (the predictions annotators see)."""
    rows = await raw("SELECT model_version FROM lw_prediction WHERE project = {} ORDER BY id DESC LIMIT 1", project_id)
    return rows[0]["model_version"] if rows else None


async def _requeued_skip(project: Project, user_id: int, moment: dt.datetime) -> int | None:
    """REQUEUE_FOR_ME: once nothing new is left, the tasks this user skipped come back, oldest skip first."""
    rows = await raw(
        f"SELECT t.id FROM lw_task t JOIN lw_annotation a ON a.task = t.id AND a.completed_by = {{}} "
        f"AND a.was_cancelled = {{}} WHERE t.project = {{}} AND t.is_labeled = {{}} AND {_room(project)} "
        f"AND NOT EXISTS (SELECT 1 FROM lw_annotation b WHERE b.task = t.id AND b.completed_by = {{}} "
        f"AND b.was_cancelled = {{}}) ORDER BY a.updated_at, a.id LIMIT 1",
        user_id, True, project.id, False, user_id, moment, user_id, False)
    return rows[0]["id"] if rows else None


async def _rejected(project_id: int, user_id: int) -> int | None:
    """A task whose annotation by this user a reviewer rejected: it comes back first."""
    rows = await raw("SELECT task FROM lw_annotation WHERE project = {} AND completed_by = {} AND review_state = {} "
                      "ORDER BY updated_at, id LIMIT 1", project_id, user_id, "rejected")
    return rows[0]["task"] if rows else None


GROUND_TRUTH = "EXISTS (SELECT 1 FROM lw_annotation g WHERE g.task = t.id AND g.ground_truth = {})"


async def _ground_truth_check(project: Project, user_id: int) -> int | None:
    """A task with a ground truth this user has not annotated, at random: a check of their work
    (their annotation is compared with the ground truth on the dashboard). Found from the
    project's ground truths (an index), never by scanning its tasks."""
    rows = await raw(
        "SELECT DISTINCT g.task FROM lw_annotation g WHERE g.project = {} AND g.ground_truth = {} AND NOT EXISTS "
        "(SELECT 1 FROM lw_annotation a WHERE a.task = g.task AND a.completed_by = {}) LIMIT 1000",
        project.id, True, user_id)
    return random.choice(rows)["task"] if rows else None


async def _held(project_id: int, user_id: int, moment: dt.datetime) -> int | None:
    """A task this user holds a live lock on and has not finished: reopening the queue resumes it."""
    rows = await raw(
        f"SELECT t.id FROM lw_task_lock l JOIN lw_task t ON t.id = l.task WHERE t.project = {{}} "
        f"AND l.\"user\" = {{}} AND l.expire_at > {{}} AND {NOT_MINE} ORDER BY l.id DESC LIMIT 1",
        project_id, user_id, moment, user_id)
    return rows[0]["id"] if rows else None


async def _lock(project_id: int, task_id: int, user_id: int, moment: dt.datetime, page: str = "") -> None:
    """Hold `task_id`: one lock per user and project, so taking a task lets go of the previous one.
    The user's locks in the project are found through their own locks (a handful), never
    through the project's tasks (millions). `page` names the workspace page that holds it."""
    await raw('DELETE FROM lw_task_lock WHERE "user" = {} AND task IN (SELECT l.task FROM lw_task_lock l '
               'JOIN lw_task t ON t.id = l.task WHERE l."user" = {} AND t.project = {})', user_id, user_id, project_id)
    await raw('INSERT INTO lw_task_lock (task, "user", expire_at, page) VALUES ({}, {}, {}, {})', task_id, user_id,
               moment + lock_ttl(), page)


async def next_task(project: Project, user: User) -> int | None:
    """The task this user should label now, locked for them; None when nothing is left for them."""
    rejected = await _rejected(project.id, user.id)
    if rejected is not None:
        return rejected  # their own annotation, reopened: nothing to lock
    if project.ground_truth_checks and random.random() * 100 < project.ground_truth_checks \
            and await _held(project.id, user.id, now()) is None:  # a task in hand comes first
        check = await _ground_truth_check(project, user.id)
        if check is not None:
            return check  # outside the overlap count: held by nobody else's slot
    async with write_tx():
        await _serialise(project.id)
        moment = now()
        task_id = await _held(project.id, user.id, moment)
        if task_id is None:
            task_id = await _candidate(project, user.id, moment)
        if task_id is None and project.skip_queue == "REQUEUE_FOR_ME":
            task_id = await _requeued_skip(project, user.id, moment)
        if task_id is not None:
            await _lock(project.id, task_id, user.id, moment)
        if random.random() < 0.05:
            # expired locks no longer count, they only take room: clear them now and then
            await raw("DELETE FROM lw_task_lock WHERE expire_at <= {}", moment)
    return task_id


async def likely_next(project: Project, user: User, current: int) -> int | None:
    """A guess at the task this user gets after `current`, locking nothing: the workspace has the
    browser fetch its media while the annotator works (a guess: others may take it first)."""
    return await _candidate(project, user.id, now(), exclude=current)


async def claim(project: Project, user: User, task_id: int, page: str = "") -> bool:
    """Open a given task (a shared link, going back, a reload): lock it for this page if it has
    room for this user or they hold it already. False when it is full (others hold or finished it)."""
    async with write_tx():
        await _serialise(project.id)
        moment = now()
        # a ground-truth task is open to anyone while checks are on: it is a check, not a slot
        check = f" OR {GROUND_TRUTH}" if project.ground_truth_checks else ""
        rows = await raw(f"SELECT t.id FROM lw_task t WHERE t.id = {{}} AND t.project = {{}} AND ("
                          f"EXISTS (SELECT 1 FROM lw_task_lock l WHERE l.task = t.id AND l.\"user\" = {{}} AND l.expire_at > {{}}) "
                          f"OR {_room(project)}{check})", task_id, project.id, user.id, moment, user.id, moment,
                          *([True] if check else []))
        if not rows:
            return False
        await _lock(project.id, task_id, user.id, moment, page)
    return True


async def renew(task_id: int, user_id: int) -> bool:
    """Keep holding a task while the annotator works; False if the lock was lost (expired and taken)."""
    async with write_tx():
        return await renew_in_tx(task_id, user_id)


async def renew_in_tx(task_id: int, user_id: int) -> bool:
    # only a live lock: an expired one may stand beside someone else's newer hold on the slot
    moment = now()
    rows = await TaskLock.update({TaskLock.expire_at: moment + lock_ttl()}).where(
        TaskLock.task == task_id, TaskLock.user == user_id, TaskLock.expire_at > moment).returning(TaskLock.id)
    return bool(rows)


async def release(task_id: int, user_id: int, page: str) -> None:
    """Let go of a task when the page holding it is left. Only that page's hold: after a reload
    (or in a second tab) another page holds the task, and the old page's late goodbye must not
    free it."""
    async with write_tx():
        await release_in_tx(task_id, user_id, page)


async def release_in_tx(task_id: int, user_id: int, page: str) -> None:
    await TaskLock.delete().where(TaskLock.task == task_id, TaskLock.user == user_id, TaskLock.page == page)
