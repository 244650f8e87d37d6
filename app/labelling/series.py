"""A <TimeSeries>'s data for the chart: read once (a file's parse is kept per file and modification time,
within a bound on points held), then reduced to a minimum and a maximum per pixel of the window asked for."""

from __future__ import annotations

import contextlib
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import anyio
import numpy as np

from app.uploads import service as uploads
from app.uploads import media_store
from components.config import parse_config
from components.time_series import Series, SeriesError, TimeSeries

if TYPE_CHECKING:
    from collections.abc import Mapping

    from app.tables import Project, Task, User

CACHE_POINTS = 40_000_000  # values held across cached series (8 bytes each: about 320 MB at most)
MAX_WIDTH = 4000  # pixels a window may ask for
_cache: OrderedDict[tuple, Series] = OrderedDict()
_lock = threading.Lock()


Source = Callable[[], contextlib.AbstractContextManager[Path | None]]


class NoSeries(LookupError):
    """The task's config has no <TimeSeries> of that name."""


def _held(series: Series) -> int:
    return series.points * (1 + len(series.channels))


def _parsed(key: tuple, obj: TimeSeries, source: Source, where: str) -> Series:
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    try:
        with source() as path:
            if path is None:
                raise SeriesError(f"{where}: no such file here")
            text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise SeriesError(f"{where}: not a text file (a CSV, TSV or JSON in UTF-8)") from None
    series = obj.parse(text, where)
    with _lock:
        _cache[key] = series
        while sum(_held(s) for s in _cache.values()) > CACHE_POINTS and len(_cache) > 1:
            _cache.popitem(last=False)
    return series


async def _file(user: User, address: str) -> tuple[tuple, Source]:
    """The stored file a url-valued series names, with the access rules of serving it: its version
    (what the parse is cached by) and how to open it (a bucket's object is fetched to a scratch file)."""
    parts = urlsplit(address)
    if parts.path.startswith("/data/upload/"):
        project_id, _, name = parts.path.removeprefix("/data/upload/").partition("/")
        found = await uploads.served(user, int(project_id), name) if project_id.isdigit() else None
        seen = await anyio.to_thread.run_sync(media_store.current().stat, found.file) if found else None
        if found is not None and seen is not None:
            return (found.file, seen.stamp, seen.size), partial(media_store.local_copy, found.file)
    elif parts.path.rstrip("/") == "/data/local-files":
        path = await uploads.local_file(user, (parse_qs(parts.query).get("d") or [""])[0])
        if path is not None:
            stat = path.stat()
            return (str(path), stat.st_mtime_ns, stat.st_size), partial(contextlib.nullcontext, path)
    elif parts.scheme in ("http", "https", "s3", "gs", "azure-blob"):
        raise SeriesError(f"{address[:120]}: files at other addresses are not fetched by the server; upload the "
                          "file (or put it under the local files root) and use its /data/… address")
    raise SeriesError(f"{address[:120]}: no such file here")


async def series_of(user: User, task: Task, project: Project, name: str) -> Series:
    obj = parse_config(project.label_config).by_name.get(name)
    if not isinstance(obj, TimeSeries):
        raise NoSeries(name)
    data = json.loads(task.data) if isinstance(task.data, str) else task.data
    raw = obj.source(data if isinstance(data, dict) else {})
    if (obj.get("valueType") or "url") == "json":
        return await anyio.to_thread.run_sync(obj.parse, raw, f"task {task.id}, {obj.get('value')}")
    if not isinstance(raw, str) or not raw:
        raise SeriesError(f"task {task.id}: {obj.get('value')} holds no file address")
    version, source = await _file(user, raw)
    key = (*version, project.label_config, name)
    return await anyio.to_thread.run_sync(_parsed, key, obj, source, raw.rsplit("/", 1)[-1])


def _number(params: Mapping[str, Any], key: str, default: float) -> float:
    raw = params.get(key)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SeriesError(f"{key}={raw!r} is not a number") from None
    if not math.isfinite(value):
        raise SeriesError(f"{key}={raw!r} is not a finite number")
    return value


def reduce(series: Series, start: float, end: float, width: int) -> dict[str, Any]:
    """The points in [start, end]: all of them when few, else per bucket (of `width`) the first x and each
    channel's min and max, so every peak and dip stays drawn. One point past each side keeps the line going."""
    x = series.x
    first = max(0, int(np.searchsorted(x, start, "left")) - 1)
    last = min(x.size, int(np.searchsorted(x, end, "right")) + 1)
    count = last - first
    out: dict[str, Any] = {"points": series.points, "first": float(x[0]), "last": float(x[-1]),
                           "start": start, "end": end, "count": count}
    if count <= 2 * width:
        out.update(reduced=False, x=x[first:last].tolist(),
                   channels={k: {"min": v[first:last].tolist(), "max": v[first:last].tolist()}
                             for k, v in series.channels.items()})
        return out
    edges = np.unique(np.linspace(first, last, width + 1).astype(np.int64)[:-1])
    out.update(reduced=True, x=x[edges].tolist(), channels={
        k: {"min": np.minimum.reduceat(v[first:last], edges - first).tolist(),
            "max": np.maximum.reduceat(v[first:last], edges - first).tolist()} for k, v in series.channels.items()})
    return out


async def window(user: User, task: Task, project: Project, name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """What the chart draws for GET …/timeseries/{name}?start=&end=&width= (all of it by default)."""
    series = await series_of(user, task, project, name)
    start = _number(params, "start", float(series.x[0]))
    end = _number(params, "end", float(series.x[-1]))
    width = int(_number(params, "width", 1000))
    if not start <= end:
        raise SeriesError(f"start ({start:g}) must not be after end ({end:g})")
    if not 1 <= width <= MAX_WIDTH:
        raise SeriesError(f"width must be from 1 to {MAX_WIDTH} pixels, not {width}")
    return await anyio.to_thread.run_sync(reduce, series, start, end, width)
