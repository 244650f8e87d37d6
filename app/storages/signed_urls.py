"""Presigned URLs handed out again while they have more than half their life left: the same object
then has the same address, so the browser's cache (and the workspace's preload of the next task)
serves it instead of fetching it from the bucket again. Per process, bounded; for the resolver of a
storage's objects (app/storages/resolve.py) and the media bucket's uploads (app/uploads/media_store.py)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable

MOST = 20_000  # URLs kept: a few MB


class SignedUrls:
    def __init__(self) -> None:
        self._urls: OrderedDict[Hashable, tuple[str, float, int]] = OrderedDict()
        self._lock = threading.Lock()

    def fresh(self, key: Hashable) -> tuple[str, int] | None:
        """The URL kept for `key` and the seconds it still works, while over half its life is left."""
        with self._lock:
            url, made, seconds = self._urls.get(key, ("", 0.0, 0))
        age = time.monotonic() - made
        return (url, max(1, int(seconds - age))) if url and age <= seconds / 2 else None

    def keep(self, key: Hashable, url: str, seconds: int) -> tuple[str, int]:
        """A URL just signed for `seconds`, kept for `key`; given back as fresh() gives it."""
        with self._lock:
            self._urls[key] = (url, time.monotonic(), seconds)
            self._urls.move_to_end(key)
            while len(self._urls) > MOST:
                self._urls.popitem(last=False)
        return url, seconds
