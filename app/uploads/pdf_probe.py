"""Reading a PDF with pypdfium2: its page sizes (the check an upload gets) and, in the worker, each page's
picture and text-layer words. The web process never imports pypdfium2 (it is PDFium, a C library, and a
hostile file should crash at most a worker or a child process): it runs `python -m app.uploads.pdf_probe`
on an upload instead, and this module imports nothing of the app, so that child starts fast."""

from __future__ import annotations

import json
import sys
from typing import Any

SCALE = 2.0  # pixels a PDF point: 144 dpi, sharp enough to read 8 pt type and box it


class BadPdf(ValueError):
    """A file that is no PDF we can show: damaged, locked by a password, or too large."""


def _open(path: str) -> Any:
    import pypdfium2 as pdfium  # noqa: PLC0415 - only the worker and the probe child load PDFium

    try:
        return pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        text = str(exc).lower()
        if "password" in text:
            raise BadPdf("is protected by a password; upload it without the password") from None
        raise BadPdf("is not a readable PDF (damaged, or not a PDF at all)") from None


def sizes(path: str, max_pages: int, max_pixels: int) -> list[list[float]]:
    """Each page's (width, height) in points, checked against the limits; raises BadPdf."""
    doc = _open(path)
    try:
        count = len(doc)
        if count == 0:
            raise BadPdf("has no pages")
        if count > max_pages:
            raise BadPdf(f"has {count:,} pages, more than the {max_pages:,} allowed (LABELWELL_PDF_MAX_PAGES)")
        out = []
        for index in range(count):
            width, height = doc.get_page_size(index)
            pixels = width * SCALE * height * SCALE
            if pixels > max_pixels:
                raise BadPdf(f"has a page ({index + 1}) of {width:.0f} x {height:.0f} points, which renders to "
                             f"{pixels:,.0f} pixels, more than {max_pixels:,} (LABELWELL_PDF_MAX_PIXELS)")
            out.append([round(width, 2), round(height, 2)])
        return out
    finally:
        doc.close()


def words(textpage: Any, width: float, height: float) -> list[dict[str, Any]]:
    """The page's words (runs of non-space characters) with boxes as fractions 0-1 of the page, top-left origin."""
    found: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for index in range(textpage.count_chars()):
        char = textpage.get_text_range(index, 1)
        if not char or char.isspace():
            current = None
            continue
        left, bottom, right, top = textpage.get_charbox(index)
        box = [left / width, 1 - top / height, right / width, 1 - bottom / height]
        if current is None:
            current = {"text": "", "box": box}
            found.append(current)
        current["text"] += char
        b = current["box"]
        current["box"] = [min(b[0], box[0]), min(b[1], box[1]), max(b[2], box[2]), max(b[3], box[3])]
    return [{"text": w["text"], "x": round(w["box"][0], 5), "y": round(w["box"][1], 5),
             "width": round(w["box"][2] - w["box"][0], 5), "height": round(w["box"][3] - w["box"][1], 5)}
            for w in found]


def render_page(doc: Any, index: int, picture: str, text: str) -> None:
    """Page `index` (0-based) as a PNG at `picture` and its words as JSON at `text` (callers rename them)."""
    page = doc[index]
    try:
        width, height = page.get_size()
        page.render(scale=SCALE).to_pil().save(picture, format="PNG", compress_level=1)  # fast: 3x the size of level 9 at most
        textpage = page.get_textpage()
        try:
            found = words(textpage, width, height)
        finally:
            textpage.close()
        with open(text, "w", encoding="utf-8") as out:
            json.dump({"page": index + 1, "words": found}, out)
    finally:
        page.close()


def open_document(path: str) -> Any:
    return _open(path)


def main(argv: list[str]) -> int:
    """`python -m app.uploads.pdf_probe FILE MAX_PAGES MAX_PIXELS`: {"sizes": [...]} or {"error": "..."} on stdout."""
    path, max_pages, max_pixels = argv[0], int(argv[1]), int(argv[2])
    try:
        print(json.dumps({"sizes": sizes(path, max_pages, max_pixels)}))
    except BadPdf as exc:
        print(json.dumps({"error": str(exc)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
