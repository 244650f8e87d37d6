"""Which data key an uploaded audio or video file fills: the value of the config's `<Audio>`
(`<AudioPlus>`) or `<Video>`, as Label Studio does; else the config's single data key, as for an
image; else `audio` / `video`. A CSV/TSV/TXT imported as one task (a time series) fills the value of
a `<TimeSeries valueType="url">` the same way (kind `file`). A PDF fills a `<Pdf>`'s key; with no
`<Pdf>` but an `<Image valueList="$key">`, it becomes that image's list of pages (kind `pages`), Label
Studio's way of labelling documents as multi-page images."""

from __future__ import annotations

from lxml import etree

TAGS = {"audio": ("audio", "audioplus"), "video": ("video",), "file": ("timeseries",), "pdf": ("pdf",)}
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def media_keys(label_config: str, required_keys: list[str]) -> dict[str, str]:
    """{"audio": key, "video": key, "file": key} for this config: the first matching tag's `$key` wins."""
    fallback = {kind: required_keys[0] if len(required_keys) == 1 else kind for kind in TAGS}
    tagged = tagged_keys(label_config)
    if "pdf" in tagged:
        tagged.pop("pages", None)
    return {**fallback, **tagged}


def tagged_keys(label_config: str) -> dict[str, str]:
    try:
        root = etree.fromstring(label_config.encode(), parser=PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return {}
    tagged: dict[str, str] = {}
    for element in root.iter(etree.Element):  # not comments
        value = element.get("value", "")
        pages = element.get("valueList", "")
        if element.tag.lower() == "image" and pages.startswith("$") and len(pages) > 1:
            tagged.setdefault("pages", pages[1:])
        if element.get("valueType", "url") != "url":  # a <TimeSeries> whose data is in the task, not a file
            continue
        for kind, tags in TAGS.items():
            if element.tag.lower() in tags and value.startswith("$") and len(value) > 1:
                tagged.setdefault(kind, value[1:])
    return tagged


def series_files(label_config: str) -> bool:
    """Whether the config reads a file per task (`<TimeSeries valueType="url">`): then a CSV upload is
    rather one task than a list of tasks."""
    return "file" in tagged_keys(label_config)
