"""Sample projects a newcomer can label within a minute: a starter config and bundled tasks
(images for the box sample are drawn here, so the package carries no binaries)."""

from __future__ import annotations

import io
import random
from collections.abc import AsyncIterator

from PIL import Image, ImageDraw

from app.data_import.from_uploads import source_of
from app.data_import.service import run_import
from app.errors import InputError
from app.projects import service as projects
from app.settings import ROOT
from app.tables import Project, User
from app.uploads import service as uploads
from components.starters import starter

SAMPLES = ROOT / "app" / "samples"
KINDS = {"ner": ("ner", "Sample: named entities", ["ner.jsonl"]),
         "sentiment": ("sentiment-rating", "Sample: sentiment", ["sentiment.csv"]),
         "boxes": ("bounding-boxes", "Sample: bounding boxes", None),
         "dialogue": ("dialogue-intent", "Sample: dialogue intents", ["dialogue.json"])}


def street(seed: int) -> bytes:
    """A made-up street: a sky, a road, a few cars and signs, for boxes to go around."""
    rng = random.Random(seed)
    image = Image.new("RGB", (640, 400), (186, 214, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 260, 640, 400], fill=(90, 90, 96))
    for _ in range(rng.randint(1, 3)):
        x = rng.randint(20, 500)
        draw.rounded_rectangle([x, 270, x + 110, 330], 12, fill=tuple(rng.randint(40, 230) for _ in range(3)))
    for _ in range(rng.randint(1, 2)):
        x = rng.randint(20, 600)
        draw.rectangle([x, 160, x + 4, 260], fill=(60, 60, 60))
        draw.ellipse([x - 14, 130, x + 18, 162], fill=(220, 40, 40))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def create(user: User, kind: str) -> Project:
    if kind not in KINDS:
        raise InputError({"kind": [f"Choose one of: {', '.join(KINDS)}."]})
    slug, title, files = KINDS[kind]
    project = await projects.create_project(user, {"title": title, "label_config": starter(slug).xml,
                                                   "description": "Made from a starter config and bundled tasks."})
    if files:
        stored = [await uploads.save(project.id, user.id, name, once((SAMPLES / name).read_bytes())) for name in files]
    else:
        stored = [await uploads.save(project.id, user.id, f"street-{i}.png", once(street(i))) for i in range(6)]
    await run_import(project, user.id, [source_of(u) for u in stored])
    return await Project.objects().where(Project.id == project.id).first()
