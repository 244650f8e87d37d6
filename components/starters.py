"""Starter configs to begin a project from; each file's first comment says what it is for."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

FOLDER = Path(__file__).resolve().parent / "starters"
ORDER = ("ner", "text-classification", "sentiment-rating", "image-classification", "bounding-boxes",
         "relation-extraction", "dialogue-intent")


@dataclass(frozen=True)
class Starter:
    slug: str
    title: str
    summary: str
    xml: str


@cache
def starters() -> list[Starter]:
    found = []
    for slug in ORDER:
        xml = (FOLDER / f"{slug}.xml").read_text()
        comment = re.match(r"<!--\s*(.*?)\s*-->", xml)
        title, _, summary = (comment.group(1) if comment else slug).partition(": ")
        found.append(Starter(slug, title, summary, xml))
    return found


def starter(slug: str) -> Starter | None:
    return next((s for s in starters() if s.slug == slug), None)
