"""What the rest of the app calls when something happens: one line in the writer's transaction.

    await webhooks.tasks_deleted(project_id, task_ids)

Each call finds the project's active webhooks that want the event and writes one delivery row
per webhook (the outbox) inside the caller's `write_tx()`: the change and its deliveries commit
together, or neither does. Once the transaction has committed, the worker is asked to send them
(a Celery message, `labelwell.webhooks.deliver`); should that message be lost (a crash between
commit and send, a broker down), the worker's sweep finds the rows within seconds. Nothing is
ever sent from the request itself.

This module imports no other domain: callers pass ids, and payloads are built from table rows."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

import anyio
import orjson

from app import rows
from app.clock import now
from app.db import engine, insert_rows, write_tx
from app.tables import Annotation, Project, Task, Webhook
from app.webhooks import payloads
from app.worker import celery_app

log = logging.getLogger("labelwell.webhooks")
BATCH = 5000  # objects per request, as Label Studio's WEBHOOK_BATCH_SIZE
DELIVER_TASK = "labelwell.webhooks.deliver"
COMMIT_WAIT = 30.0  # seconds a kick waits for the caller's transaction to end, then leaves it to the sweep

# Label Studio's catalogue (WebhookAction.ACTIONS), as /api/webhooks/info answers it
ACTIONS: dict[str, tuple[str, str, bool]] = {
    "PROJECT_CREATED": ("Project created", "", True),
    "PROJECT_UPDATED": ("Project updated", "", False),
    "PROJECT_DELETED": ("Project deleted", "", True),
    "TASKS_CREATED": ("Task created", "", False),
    "TASKS_DELETED": ("Task deleted", "", False),
    "ANNOTATION_CREATED": ("Annotation created", "", False),
    "ANNOTATIONS_CREATED": ("Annotations created", "", False),
    "ANNOTATION_UPDATED": ("Annotation updated", "", False),
    "ANNOTATIONS_DELETED": ("Annotation deleted", "", False),
    "LABEL_LINK_CREATED": ("Label link created", "", False),
    "LABEL_LINK_UPDATED": ("Label link updated", "", False),
    "LABEL_LINK_DELETED": ("Label link deleted", "", False),
}
ORGANIZATION_ONLY = {name for name, (_, _, org) in ACTIONS.items() if org}
_kicks: set[asyncio.Task] = set()  # kicks waiting for a commit (a reference, so none is collected)


def catalogue(organization_only: bool | None = None) -> dict[str, dict[str, Any]]:
    return {key: {"name": name, "description": description or name + ".", "key": key, "organization-only": org}
            for key, (name, description, org) in ACTIONS.items()
            if organization_only is None or org == organization_only}


def wants(hook: Webhook, action: str) -> bool:
    return hook.send_for_all_actions or action in (hook.actions or [])


async def _receivers(project_id: int, action: str) -> list[Webhook]:
    found = await rows.many(Webhook, "project = {} AND is_active = {}", project_id, True, tail="ORDER BY id")
    return [h for h in found if wants(h, action)]


async def _emit(project_id: int, action: str, key: str, items: Any, extra: dict[str, Any] | None = None,
                batched: bool = False) -> None:
    """Deliveries of one event to every webhook that wants it (several for a batched list)."""
    async with write_tx():
        hooks = await _receivers(project_id, action)
        if not hooks:
            return
        project = await rows.one(Project, "id = {}", project_id)
        if project is None:
            return
        block = payloads.project_payload(project)
        chunks = [items[i:i + BATCH] for i in range(0, len(items), BATCH)] or [[]] if batched else [items]
        moment, out = now(), []
        for chunk in chunks:
            full = orjson.dumps({"action": action, key: chunk, **(extra or {}), "project": block}).decode()
            bare = orjson.dumps({"action": action}).decode()
            for hook in hooks:
                out.append((hook.id, project_id, action, uuid.uuid4().hex, full if hook.send_payload else bare,
                            "pending", 0, moment, "", moment))
        await insert_rows("lw_webhook_delivery", ["webhook", "project", "action", "uid", "body", "state",
                                                  "attempts", "next_attempt_at", "error", "created_at"], out)
    _kick_after_commit([h.id for h in hooks])


# -- the events ------------------------------------------------------------------------------------

async def project_updated(project_id: int) -> None:
    await _emit(project_id, "PROJECT_UPDATED", "project", None)


async def tasks_created(project_id: int, task_ids: list[int] | None = None,
                        inner_ids: tuple[int, int] | None = None) -> None:
    """TASKS_CREATED for tasks by id, or by inner ids `first <= inner_id < end` (an import)."""
    if not await _any_receiver(project_id, "TASKS_CREATED"):
        return
    if inner_ids is not None:
        found = await rows.many(Task, "project = {} AND inner_id >= {} AND inner_id < {}", project_id,
                                inner_ids[0], inner_ids[1], tail="ORDER BY inner_id")
    else:
        found = await rows.many(Task, f"id IN ({_ints(task_ids or [])})", tail="ORDER BY id")
    if found:
        await _emit(project_id, "TASKS_CREATED", "tasks", [payloads.task_payload(t) for t in found], batched=True)


async def tasks_deleted(project_id: int, task_ids: list[int]) -> None:
    if task_ids:
        await _emit(project_id, "TASKS_DELETED", "tasks", [{"id": int(i)} for i in task_ids], batched=True)


async def annotation_saved(action: str, annotation_id: int) -> None:
    """ANNOTATION_CREATED (skips too) or ANNOTATION_UPDATED, with the task as it is now."""
    annotation = await rows.one(Annotation, "id = {}", annotation_id)
    if annotation is None or not await _any_receiver(annotation.project, action):
        return
    task = await rows.one(Task, "id = {}", annotation.task)
    await _emit(annotation.project, action, "annotation", payloads.annotation_payload(annotation),
                {"task": payloads.task_payload(task) if task else None})


async def annotations_created(project_id: int, annotation_ids: list[int]) -> None:
    """Label Studio's ANNOTATIONS_CREATED: the list under the singular key `annotation`, and `task` a list."""
    if not annotation_ids or not await _any_receiver(project_id, "ANNOTATIONS_CREATED"):
        return
    found = await rows.many(Annotation, f"id IN ({_ints(annotation_ids)})", tail="ORDER BY id")
    tasks = await rows.many(Task, f"id IN ({_ints([a.task for a in found])})", tail="ORDER BY id")
    await _emit(project_id, "ANNOTATIONS_CREATED", "annotation", [payloads.annotation_payload(a) for a in found],
                {"task": [payloads.task_payload(t) for t in tasks]})


async def annotations_deleted(project_id: int, annotation_ids: list[int]) -> None:
    if annotation_ids:
        await _emit(project_id, "ANNOTATIONS_DELETED", "annotations", [{"id": int(i)} for i in annotation_ids],
                    batched=True)


async def _any_receiver(project_id: int, action: str) -> bool:
    return bool(await _receivers(project_id, action))


def _ints(ids: list[int]) -> str:
    return ", ".join(str(int(i)) for i in ids) or "0"  # ints only: safe to inline


# -- after the commit ------------------------------------------------------------------------------

def _kick_after_commit(webhook_ids: list[int]) -> None:
    """Ask the worker to send, once the caller's transaction has committed (a message sent
    before could reach the worker before the rows are visible to it)."""
    transaction = engine().current_transaction.get()
    kick = asyncio.get_running_loop().create_task(_kick(transaction, webhook_ids))
    _kicks.add(kick)
    kick.add_done_callback(_kicks.discard)


async def _kick(transaction: Any, webhook_ids: list[int]) -> None:
    if transaction is not None:
        # Piccolo's transactions (both engines) mark how they ended; nested ones are the outer one
        deadline = asyncio.get_running_loop().time() + COMMIT_WAIT
        while not (transaction._committed or transaction._rolled_back):
            if asyncio.get_running_loop().time() > deadline:
                return  # still open: the sweep delivers once it commits
            await asyncio.sleep(0.005)
        if transaction._rolled_back:
            return
    await kick(webhook_ids)


async def kick(webhook_ids: list[int]) -> None:
    try:
        # sending is blocking I/O (a file or a socket): keep it off the event loop
        await anyio.to_thread.run_sync(lambda: celery_app.send_task(DELIVER_TASK, args=[sorted(set(webhook_ids))]))
    except Exception:  # noqa: BLE001 - the rows are saved; the worker's sweep sends them
        log.warning("could not queue webhook delivery for %s: the sweep will send it", webhook_ids, exc_info=True)


async def tasks_deleted_where(project_id: int, where: str) -> None:
    """TASKS_DELETED for the tasks `where` selects (SQL over lw_task): call it before the delete."""
    if await _any_receiver(project_id, "TASKS_DELETED"):
        found = await rows.raw(f"SELECT id FROM lw_task WHERE {where} ORDER BY id")
        await tasks_deleted(project_id, [r["id"] for r in found])


async def annotations_deleted_where(project_id: int, where: str) -> None:
    """ANNOTATIONS_DELETED for the annotations `where` selects (SQL over lw_annotation): before the delete."""
    if await _any_receiver(project_id, "ANNOTATIONS_DELETED"):
        found = await rows.raw(f"SELECT id FROM lw_annotation WHERE {where} ORDER BY id")
        await annotations_deleted(project_id, [r["id"] for r in found])
