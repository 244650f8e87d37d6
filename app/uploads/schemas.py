"""What goes over the wire for uploaded files: Label Studio's FileUpload (`id`, `file` as the
`upload/<project>/<name>` path it shows, `size`) with what Labelwell knows besides, and the id
lists its file-upload API reads."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from app.clock import iso
from app.errors import InputError
from app.uploads.service import url_of
from app.web import parse_id, parse_ids

if TYPE_CHECKING:
    from app.tables import FileUpload


def upload_json(upload: FileUpload) -> dict[str, Any]:
    return {"id": upload.id, "file": f"upload/{upload.file}", "size": upload.size, "project": upload.project,
            "user": upload.user, "original_name": upload.original_name, "content_type": upload.content_type,
            "url": url_of(upload), "created_at": iso(upload.created_at), "width": upload.width,
            "height": upload.height, "duration": upload.duration, "frame_rate": upload.frame_rate,
            "frame_count": upload.frame_count, "sample_rate": upload.sample_rate, "channels": upload.channels}


def query_ids(values: Iterable[str]) -> list[int] | None:
    """`?ids=[1,2]` (Label Studio's JSON list), `?ids=1&ids=2` (SDK 2.x) or `?ids=1,2`; None when absent."""
    values = list(values)
    if not values:
        return None
    return parse_ids([v.strip().removeprefix("[").removesuffix("]") for v in values], "ids")


def body_ids(body: bytes) -> list[int] | None:
    """`{"file_upload_ids": [1, 2]}`; None (every upload, as Label Studio) for no body or no such key."""
    if not body.strip():
        return None
    try:
        data = json.loads(body)
    except ValueError:
        raise InputError({"body": ["Send JSON: {\"file_upload_ids\": [1, 2]}."]}) from None
    ids = data.get("file_upload_ids") if isinstance(data, dict) else data
    if ids is None:
        return None
    if not isinstance(ids, list):
        raise InputError({"file_upload_ids": ["file_upload_ids must be a list of ids, e.g. [1, 2]."]})
    return [parse_id(i, "file_upload_ids") for i in ids]
