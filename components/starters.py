"""Starter configs to begin a project from (the template gallery), grouped by the data they label;
each file's first comment says what it is for, "Title: summary"; a later comment may hold the sample
task the gallery's preview shows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from markupsafe import Markup

from components.config import parse_config

FOLDER = Path(__file__).resolve().parent / "starters"
# group (the kind of data) -> its starters, in gallery order
GROUPS: dict[str, tuple[str, ...]] = {
    "Text": ("ner", "text-classification", "sentiment-rating", "two-level-sentiment", "topic-taxonomy",
             "relation-extraction", "event-facts", "pairwise"),
    "Image": ("image-classification", "bounding-boxes", "outlines-and-points", "ocr", "multi-page-document",
              "semantic-segmentation"),
    "Dialogue": ("dialogue-intent", "dialogue-spans"),
    "Ranking": ("answer-buckets", "image-ranking"),
    "Conversations": ("chat-reply-rating", "chat-writing"),
    "HTML and tables": ("web-page-spans", "table-review"),
    "Audio": ("speech-segments", "audio-classification"),
    "Video": ("video-tracking", "video-frame-spans", "video-classification"),
    "Time series": ("time-series-ranges", "time-series-anomalies"),
    "Documents": ("pdf-classification", "pdf-ocr"),
}
ORDER = tuple(slug for slugs in GROUPS.values() for slug in slugs)
ID = re.compile(r'\b(id|for)="(lw\d)')


@dataclass(frozen=True)
class Starter:
    slug: str
    title: str
    summary: str
    xml: str
    group: str

    def preview(self) -> Markup:
        """The form its sample task shows, read-only, with ids of its own (the gallery shows many)."""
        return _preview(self.slug, self.xml)


@cache
def _preview(slug: str, xml: str) -> Markup:
    config = parse_config(xml)
    rendered = config.render(config.sample_task()["data"], readonly=True)
    return Markup(ID.sub(lambda m: f'{m.group(1)}="starter-{slug}-{m.group(2)}', str(rendered)))


@cache
def starters() -> list[Starter]:
    found = []
    for group, slugs in GROUPS.items():
        for slug in slugs:
            xml = (FOLDER / f"{slug}.xml").read_text()
            comment = re.match(r"<!--\s*(.*?)\s*-->", xml)
            title, _, summary = (comment.group(1) if comment else slug).partition(": ")
            found.append(Starter(slug, title, summary, xml, group))
    return found


def gallery() -> list[tuple[str, list[Starter]]]:
    return [(group, [s for s in starters() if s.group == group]) for group in GROUPS]


def starter(slug: str) -> Starter | None:
    return next((s for s in starters() if s.slug == slug), None)
