"""S3 and S3-compatible buckets (MinIO, Ceph, R2, moto...) through boto3, blocking: callers run
these in a thread. Every kind module has the same functions:

    check(config, secrets, role)            raise StorageError unless the storage can be used
    objects(config, secrets)                iterate {key, size, last_modified}, page by page
    uri(config, key) / key_of(config, uri)  the task-data URI of a key, and back (None: not ours)
    read(config, secrets, key, limit)       an object's bytes (a task file), at most `limit`
    presign(config, secrets, key, seconds)  a URL the browser fetches the object from directly
    open(config, secrets, key, byte_range)  (status, headers, chunks) to stream it through us
    put(config, secrets, key, data, type) / remove(config, secrets, key)   export storage writes

boto3 rather than aioboto3 or obstore: it is the client S3-compatible servers test against, its
presigned URLs are what browsers and Label Studio's own users already get, and a thread per call
costs nothing next to a network round trip (aiobotocore pins botocore tightly)."""

from __future__ import annotations

import mimetypes
import re
import threading
from collections.abc import Iterator
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from app.addresses import reserved, resolved
from app.settings import env
from app.storages.faults import ObjectGone, StorageError

SCHEME = "s3"
SECRET_FIELDS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")
# Label Studio's fields for an S3 storage and their defaults (import; export ignores the last four)
FIELDS: dict[str, Any] = {
    "bucket": None, "prefix": None, "regex_filter": None, "use_blob_urls": False, "region_name": None,
    "s3_endpoint": None, "aws_sse_kms_key_id": None, "can_delete_objects": None,
    "presign": True, "presign_ttl": 1, "recursive_scan": False,
}
TRUE = ("1", "true", "yes", "on")
PAGE = 1000  # keys per listing request (S3's maximum)
CHUNK = 512 * 1024
_lock = threading.Lock()


def _allow_private() -> bool:
    return (env("LABELWELL_STORAGE_ALLOW_PRIVATE", "false") or "").lower() in TRUE


def _endpoint(config: dict[str, Any]) -> str | None:
    return config.get("s3_endpoint") or None


def _check_endpoint(endpoint: str | None) -> None:
    """Label Studio's SSRF rule for s3_endpoint: not a private or loopback address, checked on every
    connection (LABELWELL_STORAGE_ALLOW_PRIVATE=true for a MinIO on this machine or network)."""
    if not endpoint:
        return
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StorageError(f"s3_endpoint {endpoint!r} is not an http(s) URL.")
    try:
        addresses = resolved(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except (OSError, UnicodeError):
        raise StorageError(f"Cannot resolve the host of s3_endpoint {endpoint}.") from None
    if not _allow_private() and any(reserved(a) for a in addresses):
        raise StorageError(f"s3_endpoint {endpoint} resolves to a private or loopback address; this server "
                           "does not connect to those unless LABELWELL_STORAGE_ALLOW_PRIVATE=true.")


@lru_cache(maxsize=64)
def _client(endpoint: str | None, region: str, key_id: str | None, secret: str | None, token: str | None):
    import boto3  # a second or so to import: only when a storage is used
    from botocore.config import Config

    with _lock:  # boto3's session set-up is not thread-safe; the clients it makes are
        session = boto3.session.Session()
        return session.client(
            "s3", endpoint_url=endpoint, region_name=region, aws_access_key_id=key_id,
            aws_secret_access_key=secret, aws_session_token=token,
            config=Config(signature_version="s3v4", connect_timeout=min(5, _timeout()), read_timeout=_timeout(),
                          retries={"max_attempts": 2, "mode": "standard"}, s3={"addressing_style": "path"}))


def _timeout() -> float:
    """Seconds a bucket may take to answer one request before it is called unresponsive."""
    try:
        return max(0.5, float(env("LABELWELL_STORAGE_TIMEOUT_SECONDS", "20") or 20))
    except ValueError:
        return 20.0


def client(config: dict[str, Any], secrets: dict[str, Any]):
    endpoint = _endpoint(config)
    _check_endpoint(endpoint)
    region = config.get("region_name") or env("AWS_DEFAULT_REGION") or "us-east-1"
    return _client(endpoint, region, secrets.get("aws_access_key_id") or env("AWS_ACCESS_KEY_ID"),
                   secrets.get("aws_secret_access_key") or env("AWS_SECRET_ACCESS_KEY"),
                   secrets.get("aws_session_token") or env("AWS_SESSION_TOKEN"))


def media_client(endpoint: str | None):
    """The client of the media bucket (LABELWELL_MEDIA_URL): the operator's own, so no SSRF rule,
    with the usual AWS_* credentials."""
    return _client(endpoint, env("AWS_DEFAULT_REGION") or "us-east-1", env("AWS_ACCESS_KEY_ID"),
                   env("AWS_SECRET_ACCESS_KEY"), env("AWS_SESSION_TOKEN"))


def why(exc: Exception, bucket: str, endpoint: str | None) -> StorageError:
    """A boto error in words: no such bucket, access denied, unreachable, or what S3 said."""
    from botocore.exceptions import (BotoCoreError, ClientError, ConnectTimeoutError, EndpointConnectionError,
                                     NoCredentialsError, ReadTimeoutError)

    if isinstance(exc, StorageError):
        return exc
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in ("NoSuchBucket", "404", "NotFound") and status == 404:
            return StorageError(f"Cannot find bucket {bucket} in S3.")
        if code in ("NoSuchKey",):
            return ObjectGone(f"The object is no longer in bucket {bucket}.")
        if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403", "Forbidden"):
            return StorageError(f"Cannot connect to S3 {bucket} with specified AWS credentials ({code or status}).")
        return StorageError(f"S3 answered {code or status} for bucket {bucket}.")
    if isinstance(exc, NoCredentialsError):
        return StorageError(f"No credentials for S3 {bucket}: give aws_access_key_id and aws_secret_access_key.")
    if isinstance(exc, ReadTimeoutError):
        return StorageError(f"The S3 endpoint {endpoint or 'of AWS'} did not answer within {_timeout():g} s "
                            f"(bucket {bucket}).")
    if isinstance(exc, (EndpointConnectionError, ConnectTimeoutError)):
        return StorageError(f"Cannot reach the S3 endpoint {endpoint or 'of AWS'}.")
    if isinstance(exc, BotoCoreError):
        return StorageError(f"S3 {bucket}: {type(exc).__name__}: {str(exc)[:200]}")
    return StorageError(f"S3 {bucket}: {type(exc).__name__}")


def _prefix(config: dict[str, Any]) -> str:
    prefix = (config.get("prefix") or "").strip("/")
    return prefix + "/" if prefix else ""


def check(config: dict[str, Any], secrets: dict[str, Any], role: str) -> None:
    """Label Studio's connection check: with a prefix, one key listed (an import storage needs one);
    without, the bucket itself."""
    bucket = config.get("bucket") or ""
    if not bucket:
        raise StorageError("bucket is required.")
    try:
        s3 = client(config, secrets)
        if _prefix(config):
            found = s3.list_objects_v2(Bucket=bucket, Prefix=_prefix(config), MaxKeys=1)
            if role == "import" and not found.get("KeyCount"):
                raise StorageError(f"s3://{bucket}/{_prefix(config)} not found: no object under that prefix.")
        else:
            s3.head_bucket(Bucket=bucket)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a message for the user
        raise why(exc, bucket, _endpoint(config)) from None


def objects(config: dict[str, Any], secrets: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The objects sync takes, page by page (bounded memory for any bucket): folders skipped, the
    regex matched from the start of the full key as Label Studio does, direct children of the
    prefix only unless recursive_scan."""
    bucket, prefix = config["bucket"], _prefix(config)
    pattern = re.compile(config["regex_filter"]) if config.get("regex_filter") else None
    args: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": PAGE}
    if not config.get("recursive_scan"):
        args["Delimiter"] = "/"
    try:
        s3 = client(config, secrets)
        for page in s3.get_paginator("list_objects_v2").paginate(**args):
            for item in page.get("Contents", []):
                key = item["Key"]
                if key.endswith("/") or (pattern and not pattern.match(key)):
                    continue
                yield {"key": key, "size": item.get("Size", 0), "last_modified": item.get("LastModified")}
    except StorageError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise why(exc, bucket, _endpoint(config)) from None


def uri(config: dict[str, Any], key: str) -> str:
    return f"s3://{config['bucket']}/{key}"


def key_of(config: dict[str, Any], address: str) -> str | None:
    """The key of an `s3://bucket/key` URI in this storage's bucket; None for anything else."""
    head = f"s3://{config.get('bucket')}/"
    return address[len(head):] if address.startswith(head) and len(address) > len(head) else None


def read(config: dict[str, Any], secrets: dict[str, Any], key: str, limit: int) -> bytes:
    bucket = config["bucket"]
    try:
        body = client(config, secrets).get_object(Bucket=bucket, Key=key)
        if body.get("ContentLength", 0) > limit:
            raise StorageError(f"s3://{bucket}/{key} is {body['ContentLength']} bytes, over the {limit}-byte limit.")
        return body["Body"].read(limit + 1)[:limit]
    except StorageError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise why(exc, bucket, _endpoint(config)) from None


def content_type(key: str) -> str:
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


def presign(config: dict[str, Any], secrets: dict[str, Any], key: str, seconds: int) -> str:
    # the object may be cached as long as its address works: the same address (the resolver hands it
    # out again for half its life) is then read from the browser's cache, the next task's preload too
    seconds = max(1, int(seconds))
    return client(config, secrets).generate_presigned_url("get_object", Params={
        "Bucket": config["bucket"], "Key": key, "ResponseContentType": content_type(key),
        "ResponseCacheControl": f"private, max-age={seconds}"}, ExpiresIn=seconds)


def open(config: dict[str, Any], secrets: dict[str, Any], key: str,  # noqa: A001 - the kinds' common name
         byte_range: str | None) -> tuple[int, dict[str, str], Iterator[bytes]]:
    """The object (or the asked-for range of it) as a status, headers to copy and a chunk iterator."""
    bucket = config["bucket"]
    args = {"Bucket": bucket, "Key": key, **({"Range": byte_range} if byte_range else {})}
    try:
        found = client(config, secrets).get_object(**args)
    except Exception as exc:  # noqa: BLE001
        raise why(exc, bucket, _endpoint(config)) from None
    headers = {"Content-Length": str(found.get("ContentLength", 0)), "Accept-Ranges": "bytes"}
    if found.get("ContentRange"):
        headers["Content-Range"] = found["ContentRange"]
    if found.get("ETag"):
        headers["ETag"] = found["ETag"]
    if found.get("LastModified"):
        headers["Last-Modified"] = found["LastModified"].strftime("%a, %d %b %Y %H:%M:%S GMT")
    kind = found.get("ContentType") or ""
    headers["Content-Type"] = kind if kind and kind not in ("binary/octet-stream", "application/octet-stream") \
        else content_type(key)
    status = 206 if found.get("ContentRange") else 200
    return status, headers, found["Body"].iter_chunks(CHUNK)


def put(config: dict[str, Any], secrets: dict[str, Any], key: str, data: bytes, kind: str) -> None:
    bucket = config["bucket"]
    extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": config["aws_sse_kms_key_id"]} \
        if config.get("aws_sse_kms_key_id") else {}
    try:
        client(config, secrets).put_object(Bucket=bucket, Key=key, Body=data, ContentType=kind, **extra)
    except Exception as exc:  # noqa: BLE001
        raise why(exc, bucket, _endpoint(config)) from None


def remove(config: dict[str, Any], secrets: dict[str, Any], key: str) -> None:
    bucket = config["bucket"]
    try:
        client(config, secrets).delete_object(Bucket=bucket, Key=key)
    except Exception as exc:  # noqa: BLE001
        raise why(exc, bucket, _endpoint(config)) from None


def export_key(config: dict[str, Any], name: str) -> str:
    """Where export storage writes `name` (Label Studio: `<prefix>/<annotation id>`)."""
    return _prefix(config) + name
