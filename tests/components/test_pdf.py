"""<Pdf> and <OcrLabels> without a server: OCR boxes checked as Label Studio writes them (fractions
0-1, 1-based pageIndex within the document when its page count is known), per-page answers from the
form, and the page blocks the workspace shows one at a time."""

from __future__ import annotations

import json

import lxml.html
import pytest

from components import parse_config

ADDRESS = "/data/upload/1/abc-invoice.pdf"
CONFIG = """<View>
  <Pdf name="pdf" value="$pdf"/>
  <OcrLabels name="ocr" toName="pdf"><Label value="Typo"/><Label value="Incorrect Name"/></OcrLabels>
  <Choices name="kind" toName="pdf" perItem="true"><Choice value="Text"/><Choice value="Blank"/></Choices>
</View>"""
MEDIA = {ADDRESS: {"pdf_state": "ready", "pages": 3, "sizes": [[595.28, 841.89]] * 3}}
BOX = {"x": 0.1, "y": 0.2, "width": 0.3, "height": 0.05, "rotation": 0, "pageIndex": 2, "ocrtext": "Invoice 42",
       "ocrlabels": ["Typo"]}


def ocr(**value) -> dict:
    return {"id": "b1", "from_name": "ocr", "to_name": "pdf", "type": "ocrlabels", "value": {**BOX, **value}}


@pytest.mark.parametrize(("change", "said"), [
    ({"x": 12.5}, "fraction of the page"), ({"width": 0}, "above 0"), ({"x": 0.9}, "outside the page"),
    ({"pageIndex": 0}, "pageIndex must be a page number from 1 to 3"), ({"pageIndex": 4}, "from 1 to 3"),
    ({"pageIndex": "2"}, "pageIndex"), ({"ocrtext": 42}, "ocrtext must be text"),
])
def test_bad_ocr_boxes_are_refused(change, said):
    errors, _ = parse_config(CONFIG).check_results([ocr(**change)], {"pdf": ADDRESS}, MEDIA)
    assert errors and said in errors[0], errors


def test_a_good_box_passes_and_an_unknown_label_is_flagged():
    config = parse_config(CONFIG)
    assert config.check_results([ocr()], {"pdf": ADDRESS}, MEDIA) == ([], [])
    # without the file's page count (an import), any page from 1 is taken
    assert config.check_results([ocr(pageIndex=40)], {"pdf": ADDRESS})[0] == []
    _, warnings = config.check_results([ocr(ocrlabels=["Smudge"])], {"pdf": ADDRESS}, MEDIA)
    assert warnings and "Smudge" in warnings[0]


def test_a_box_from_the_form_keeps_its_text_and_page():
    (item,) = parse_config(CONFIG).collect({"pdf": ADDRESS}, {"region": [json.dumps(ocr())]})
    assert item["type"] == "ocrlabels" and item["value"] == BOX


def test_per_page_answers_render_one_block_a_page_and_collect_with_item_index():
    config = parse_config(CONFIG)
    page = lxml.html.fromstring(str(config.render({"pdf": ADDRESS}, workspace=True, media=MEDIA)))
    blocks = page.cssselect(".lw-pdf-item[data-pdf=pdf]")
    assert [b.get("data-page") for b in blocks] == ["1", "2", "3"]
    assert [b.get("hidden") is not None for b in blocks] == [False, True, True]  # page 1 shown first
    form = {"item:kind": ["page1:0", "page2:1", "page3:2"], "kind@page1": ["Text"], "kind@page3": ["Blank"]}
    items = config.collect({"pdf": ADDRESS}, form)
    assert [(i["item_index"], i["value"]) for i in items] == [(0, {"choices": ["Text"]}), (2, {"choices": ["Blank"]})]
    assert all(i["to_name"] == "pdf" and not i["id"].startswith("page") for i in items)
