"""A storage body (Label Studio's field names, from the API's JSON or the Storage page's form) ->
what we keep: title, description, synchronizable, the kind's non-secret config and its sealed
credentials. A wrong type or an unusable value is a 400 naming the field; credentials left blank
keep the stored ones ("leave blank to keep")."""

from __future__ import annotations

import re
from types import ModuleType
from typing import Any

from app.errors import InputError

BOOLS = {"use_blob_urls", "presign", "recursive_scan", "can_delete_objects", "synchronizable"}
INTS = {"presign_ttl": (1, 7 * 24 * 60)}  # minutes; S3 signs for at most 7 days
IMPORT_ONLY = {"presign", "presign_ttl", "recursive_scan"}
EXPORT_ONLY = {"can_delete_objects"}
BUCKET = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._-]{1,254}")
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def kind_fields(kind: ModuleType, role: str) -> dict[str, Any]:
    """The kind's Label Studio fields for this role, with their defaults."""
    dropped = EXPORT_ONLY if role == "import" else IMPORT_ONLY
    return {k: v for k, v in kind.FIELDS.items() if k not in dropped}


def _bool(name: str, value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE + FALSE:
        return value.strip().lower() in TRUE
    raise InputError({name: [f"{name} must be true or false, not {str(value)[:40]!r}."]})


def _int(name: str, value: Any) -> int:
    low, high = INTS[name]
    text = str(value).strip()
    if isinstance(value, bool) or not (isinstance(value, int) or (text.isascii() and text.isdigit())) \
            or not low <= int(text) <= high:
        raise InputError({name: [f"{name} must be a whole number from {low} to {high}."]})
    return int(text)


def _text(name: str, value: Any, limit: int = 2048) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise InputError({name: [f"{name} must be text."]})
    text = str(value).strip()
    if len(text) > limit:
        raise InputError({name: [f"{name} is longer than {limit} characters."]})
    return text or None


def value_of(name: str, value: Any) -> Any:
    if name in BOOLS:
        return _bool(name, value)
    if name in INTS:
        return None if value in (None, "") else _int(name, value)
    return _text(name, value)


def _checked(config: dict[str, Any]) -> dict[str, Any]:
    if config.get("regex_filter"):
        try:
            re.compile(config["regex_filter"])
        except re.error as exc:
            raise InputError({"regex_filter": [f"regex_filter is not a valid regular expression: {exc}."]}) from None
    if "bucket" in config:
        if not config.get("bucket"):
            raise InputError({"bucket": ["bucket is required."]})
        if not BUCKET.fullmatch(config["bucket"]):
            raise InputError({"bucket": [f"{config['bucket'][:80]!r} is not a valid bucket name."]})
    if "path" in config and not config.get("path"):
        raise InputError({"path": ["path is required: a folder under LABELWELL_LOCAL_FILES_ROOT."]})
    return config


def parse(kind: ModuleType, role: str, body: Any, old: dict[str, Any] | None = None,
          old_secrets: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(row fields, config, secrets) from a body, over the old values when updating."""
    if not isinstance(body, dict):
        raise InputError({"body": ["Send the storage's fields as a JSON object."]})
    config = {**kind_fields(kind, role), **(old or {})}
    for name in kind_fields(kind, role):
        if name in body:
            parsed = value_of(name, body[name])
            config[name] = kind.FIELDS[name] if parsed is None and name in BOOLS | set(INTS) else parsed
    secrets = dict(old_secrets or {})
    for name in kind.SECRET_FIELDS:
        given = _text(name, body.get(name), 8192)
        if given:  # blank keeps what is stored: the form never shows it
            secrets[name] = given
    row: dict[str, Any] = {}
    for name in ("title", "description"):
        if name in body:
            row[name] = _text(name, body[name], 256 if name == "title" else 100_000)
    if "synchronizable" in body:
        row["synchronizable"] = _bool("synchronizable", body["synchronizable"]) is not False
    return row, _checked(config), secrets


# the Storage page's labels and hints, and Label Studio's /form answer, for every field we know
LABELS: dict[str, tuple[str, str]] = {
    "title": ("Storage title", ""),
    "description": ("Description", ""),
    "bucket": ("Bucket name", "The S3 bucket, e.g. my-images"),
    "prefix": ("Bucket prefix", "Only objects under this folder, e.g. images/2024"),
    "path": ("Absolute local path", "A folder under the server's LABELWELL_LOCAL_FILES_ROOT"),
    "regex_filter": ("File filter regex", "Python regular expression matched from the start, e.g. .*\\.jpg"),
    "use_blob_urls": ("Treat every object as a source file", "On: one task per object (images, audio…). "
                      "Off: each object is a JSON/JSONL file of tasks"),
    "region_name": ("Region name", "e.g. us-east-1"),
    "s3_endpoint": ("S3 endpoint", "For MinIO, Ceph, R2…: e.g. https://minio.example.com"),
    "aws_access_key_id": ("Access key ID", ""),
    "aws_secret_access_key": ("Secret access key", ""),
    "aws_session_token": ("Session token", ""),
    "aws_sse_kms_key_id": ("SSE KMS key ID", ""),
    "presign": ("Use pre-signed URLs", "On: browsers load objects straight from the bucket. Off: through this server"),
    "presign_ttl": ("Pre-signed URL lifetime (minutes)", ""),
    "recursive_scan": ("Scan all sub-folders", ""),
    "can_delete_objects": ("Delete objects when annotations are deleted", ""),
}


def form_layout(kind: ModuleType, role: str) -> list[dict[str, Any]]:
    """Label Studio's form layout: columns of {type, name, label, required}; credentials are
    password fields, never filled."""
    out = []
    names = ["title", *kind_fields(kind, role), *kind.SECRET_FIELDS]
    for name in names:
        default = kind.FIELDS.get(name)
        kind_name = "password" if name in kind.SECRET_FIELDS else "toggle" if name in BOOLS else \
            "counter" if name in INTS else "text"
        label, hint = LABELS.get(name, (name, ""))
        field: dict[str, Any] = {"type": kind_name, "name": name, "label": label,
                                 "required": name in ("bucket", "path")}
        if hint:
            field["description"] = hint
        if default is not None:
            field["value"] = 15 if name == "presign_ttl" else default  # Label Studio's form pre-fills 15
        out.append(field)
    return [{"columnCount": 1, "fields": out}]


def from_form(kind: ModuleType, role: str, form: Any) -> dict[str, Any]:
    """The Storage page's form as an API body: a box left unticked is false (a browser sends
    nothing for it), a blank field is left out (a blank credential keeps the stored one)."""
    body: dict[str, Any] = {}
    for name in ["title", "description", *kind_fields(kind, role), *kind.SECRET_FIELDS]:
        if name in BOOLS:
            body[name] = name in form
        elif (form.get(name) or "").strip():
            body[name] = form.get(name)
    return body
