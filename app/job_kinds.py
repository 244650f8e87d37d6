"""Every domain's job handlers, imported so the registry in app/jobs.py is complete: the worker
runs them, and the web app refuses to enqueue a kind nobody handles."""

from __future__ import annotations

from app import jobs
from app.agreement import jobs as agreement_jobs
from app.data_export import jobs as export_jobs
from app.data_import import jobs as import_jobs
from app.learning import jobs as learning_jobs
from app.ml import jobs as ml_jobs
from app.storages import jobs as storage_jobs
from app.tasks import jobs as task_jobs
from app.uploads import jobs as upload_jobs
from app.webhooks import jobs as webhook_jobs

MODULES = (agreement_jobs, export_jobs, import_jobs, learning_jobs, ml_jobs, storage_jobs, task_jobs, upload_jobs,
           webhook_jobs)
HANDLERS = jobs.HANDLERS
