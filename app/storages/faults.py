"""The one error a storage raises: what is wrong, in words for its Storage page and the API."""


class StorageError(Exception):
    """Never carries a secret: messages name the bucket, key or endpoint, not the credentials."""


class ObjectGone(StorageError):
    """One object is no longer there; the storage itself answers."""
