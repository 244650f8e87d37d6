"""<Pdf>: a PDF document shown one page at a time, as pictures the server's worker rendered once per
file (app/uploads/pdf_pages.py); the browser never parses the PDF. Document-level controls label the
whole file; `perItem` ones answer per page (item-level 0-based `item_index`, as for <Image valueList>);
<OcrLabels> draws boxes on pages (components/ocr_labels.py)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from components.base import About, ObjectTag, Problem
from components.variables import resolve

if TYPE_CHECKING:
    from components.render import RenderContext

SAFE_SRC = re.compile(r"^/data/upload/\d+/[A-Za-z0-9_-][A-Za-z0-9._-]*$")  # only uploads here have pages
LETTER = [612.0, 792.0]  # points: the shape a page is given until its size is known


class Pdf(ObjectTag):
    tag = "Pdf"
    about = About(
        summary="A PDF document (`value`: the `/data/upload/…` address of a PDF uploaded here; a `.pdf` upload "
                "becomes one task). The server's worker renders every page once to a picture and reads its text "
                "layer; the workspace opens on page 1 and shows one page at a time: PageUp/PageDown or the "
                "Previous/Next buttons, \"Page 3 of 200\" beside them. While pages are still being rendered the "
                "page says so and tries again.\n\n"
                "`<Choices>`, `<TextArea>`, `<Rating>` with `toName` the Pdf answer for the whole document. With "
                "`perItem=\"true\"`, `<Choices>` and `<TextArea>` answer per page: one result a page, with the "
                "page's 0-based `item_index` on the item. `<OcrLabels>` draws boxes on pages.",
        attributes={"value": "the PDF: `$key` holding the `/data/upload/…` address of an uploaded PDF"},
        example='<Pdf name="pdf" value="$pdf"/>\n<Choices name="kind" toName="pdf">\n'
                '  <Choice value="Invoice"/>\n  <Choice value="Letter"/>\n</Choices>')
    template = "pdf.html"

    def sample_value(self) -> Any:
        return ""

    def source(self, data: dict[str, Any]) -> str:
        return str(resolve(self.get("value"), data) or "")

    def info(self, ctx: RenderContext) -> dict[str, Any]:
        return ctx.media.get(self.source(ctx.data)) or {}

    def pages(self, ctx: RenderContext) -> int | None:
        """The document's page count, when the server has read the file."""
        found = self.info(ctx).get("pages")
        return found if isinstance(found, int) and found > 0 else None

    def view(self, ctx: RenderContext) -> dict[str, Any]:
        src, info = self.source(ctx.data), self.info(ctx)
        sizes = info.get("sizes") or [LETTER]
        regions = [r for r in ctx.by_to.get(str(self.name), []) if r.get("type") == "ocrlabels"]
        regions.sort(key=lambda r: (r["value"].get("pageIndex", 1), r["value"].get("y", 0), r["value"].get("x", 0)))
        return {"src": src if SAFE_SRC.match(src) else None, "raw_src": src, "pages": self.pages(ctx),
                "sizes": sizes, "first": sizes[0], "state": info.get("pdf_state"), "error": info.get("pdf_error"),
                "regions": regions, "drawing": bool(ctx.workspace and [
                    c for c in ctx.config.controls if c.tag == "OcrLabels" and self.name in c.to_names])}

    # -- perItem controls: one answer a page ---------------------------------------------------

    def item_ids(self, control: Any, ctx: RenderContext) -> dict[int, str]:
        return {r["item_index"]: str(r["id"]) for r in ctx.by_from.get(str(control.name), [])
                if isinstance(r.get("item_index"), int)}

    def render_per_item(self, control: Any, ctx: RenderContext) -> Markup:
        """The control once per page, each block shown only with its page (static/pdf-tools.js)."""
        ids, out = self.item_ids(control, ctx), []
        for index in range(self.pages(ctx) or 1):
            region = {"id": ids.get(index) or f"page{index + 1}", "item_index": index, "to_name": self.name}
            out.append(Markup('<div class="lw-pdf-item" data-pdf="{}" data-page="{}"{}>'
                              '<input type="hidden" name="item:{}" value="{}:{}">{}</div>').format(
                self.name, index + 1, Markup(" hidden") if index else "", control.name, region["id"], index,
                control.render(ctx, region)))
        return Markup("").join(out)

    def collect_per_item(self, control: Any, form: dict, ctx: RenderContext) -> list[dict[str, Any]]:
        out = []
        for entry in form.get(f"item:{control.name}", []):
            region_id, _, index = entry.rpartition(":")
            if not index.isdigit():
                raise Problem(f"{control.name}: the page of an answer must be a number, not {index!r}")
            value = control.parse(form.get(f"{control.name}@{region_id}", []), ctx)
            if value is None:
                if ctx.check_required and control.flag("required"):
                    raise Problem(f"{control.required_message()} (page {int(index) + 1})")
                continue
            item = control.item({control.value_key: value}, region_id if not region_id.startswith("page")
                                else control.result_id({}), self.name)
            item["item_index"] = int(index)
            out.append(item)
        return out

    def check_page(self, index: Any, ctx: RenderContext, field: str, base: int) -> None:
        """A page number (0- or 1-based, by `base`) within the document, when its page count is known."""
        pages = self.pages(ctx)
        if isinstance(index, bool) or not isinstance(index, int) or index < base or (pages and index >= pages + base):
            top = f" to {pages - 1 + base}" if pages else " or more"
            raise Problem(f"{field} must be a page number from {base}{top}, not {index!r}")

