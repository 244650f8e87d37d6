"""One module per kind of storage, each with the same functions (see kinds/s3.py for the list).
GCS or Azure Blob is one more module here and one more entry in KINDS."""

from __future__ import annotations

from types import ModuleType

from app.storages.kinds import localfiles, s3

KINDS: dict[str, ModuleType] = {"s3": s3, "localfiles": localfiles}
# Label Studio's /api/storages/types answer, for the kinds we have
TITLES = {"s3": "AWS S3", "localfiles": "Local files"}
