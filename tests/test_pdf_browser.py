"""PDFs in a real browser (Debian's Chromium): Label Studio's two PDF gallery templates labelled end to
end on an uploaded PDF whose pages the worker rendered: paging with PageDown, a rating and a choice for
the document, and an OCR box drawn around known text on page 2 whose text comes from the PDF."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.helpers import accessibility_problems
from tests.test_pdf import A4, CLASSIFY, KNOWN, OCR, PAGES_AS_IMAGES, make_pdf, the_task, upload, wait_for
from tests.test_workspace_browser import annotations, start_labelling


@pytest.fixture
def pdf_task(api, worker, make_project, make_user):
    def make(config: str, pages: int = 3) -> tuple[dict, dict, str]:
        project, user = make_project(label_config=config), make_user()
        assert upload(api, project["id"], "invoice.pdf", make_pdf(pages)).status_code == 201
        api.post(f"/api/projects/{project['id']}/members", json={"user": user["id"]})
        address = the_task(api, project["id"])["data"]["pdf"]
        for n in range(1, pages + 1):  # a page asked for is drawn first, so page 3 may come before page 2
            wait_for(api, f"{address}/pages/{n}/text")
            wait_for(api, f"{address}/pages/{n}")
        return project, user, address
    return make


def shown_page(page) -> int:
    return int(page.locator(".lw-pdf-page").get_attribute("data-page"))


def test_pdf_classification_template(page, server, api, pdf_task):
    project, user, _ = pdf_task(CLASSIFY)
    start_labelling(page, project, user)
    status = page.get_by_test_id("pdf-status")
    expect(status).to_have_text("Page 1 of 3")
    expect(page.locator(".lw-pdf-page")).to_have_attribute("data-loaded", "1")
    page.keyboard.press("PageDown")
    page.keyboard.press("PageDown")
    expect(status).to_have_text("Page 3 of 3")
    expect(page.locator(".lw-pdf-page")).to_have_attribute("data-loaded", "3")
    page.keyboard.press("PageDown")  # past the end: stays
    expect(status).to_have_text("Page 3 of 3")
    page.get_by_role("button", name="Previous page").click()
    expect(status).to_have_text("Page 2 of 3")
    page.get_by_test_id("choice-Yellow press").check()
    page.locator("label.lw-star", has_text="7").click()
    expect(page.locator("#lw-saved")).to_have_text("Draft saved")
    expect(status).to_have_text("Page 2 of 3")  # the page shown survives the form's re-render
    assert accessibility_problems(page) == []
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("queue-done")).to_be_visible()
    (stored,) = annotations(api, project["id"])
    values = {r["type"]: r["value"] for r in stored["result"]}
    assert values == {"choices": {"choices": ["Yellow press"]}, "rating": {"rating": 7}}
    assert {r["to_name"] for r in stored["result"]} == {"pdf"}


def test_pdf_ocr_template_box_gets_the_text_under_it(page, server, api, pdf_task):
    project, user, address = pdf_task(OCR)
    words = api.get(f"{address}/pages/2/text").json()["words"]
    invoice = next(w for w in words if w["text"] == "Invoice")
    number = words[words.index(invoice) + 1]
    start_labelling(page, project, user)
    page.keyboard.press("PageDown")
    expect(page.get_by_test_id("pdf-status")).to_have_text("Page 2 of 3")
    expect(page.locator(".lw-pdf-page")).to_have_attribute("data-loaded", "2")
    page.get_by_test_id("label-Typo").click()
    fitted = page.locator(".lw-pdf-page").bounding_box()
    page.get_by_test_id("pdf-zoom-in").click()  # zoomed, boxes are still fractions of the page
    expect(page.get_by_test_id("pdf-note")).to_have_text("Zoom 125 %")
    box = page.locator(".lw-pdf-page").bounding_box()
    assert abs(box["width"] / fitted["width"] - 1.25) < 0.02
    # a box a little larger than the two words, as fractions of the page
    x0, y0 = invoice["x"] - 0.01, invoice["y"] - 0.01
    x1, y1 = number["x"] + number["width"] + 0.01, max(invoice["y"] + invoice["height"], number["y"] + number["height"]) + 0.01
    page.mouse.move(box["x"] + x0 * box["width"], box["y"] + y0 * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + x1 * box["width"], box["y"] + y1 * box["height"], steps=6)
    page.mouse.up()
    text = page.locator("input.lw-pdf-ocrtext")
    expect(text).to_have_value(KNOWN["text"])
    text.fill("Invoice 43")
    text.press("Tab")
    expect(page.locator("input.lw-pdf-ocrtext")).to_have_value("Invoice 43")
    expect(page.locator("#lw-saved")).to_have_text("Draft saved")
    page.get_by_test_id("label-Incorrect Amount").click()  # relabels the selected box
    expect(page.locator("#lw-saved")).to_have_text("Draft saved")
    assert accessibility_problems(page) == []
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("queue-done")).to_be_visible()
    (stored,) = annotations(api, project["id"])
    (item,) = stored["result"]
    value = item["value"]
    assert item["type"] == "ocrlabels" and item["to_name"] == "pdf" and item["from_name"] == "ocr"
    assert value["pageIndex"] == 2 and value["ocrtext"] == "Invoice 43" and value["rotation"] == 0
    assert value["ocrlabels"] == ["Incorrect Amount"]
    for got, want in ((value["x"], x0), (value["y"], y0), (value["x"] + value["width"], x1),
                      (value["y"] + value["height"], y1)):
        assert abs(got - want) < 0.005, (value, (x0, y0, x1, y1))
    assert abs(KNOWN["x"] / A4[0] - value["x"]) < 0.02


def test_per_page_answers_in_the_workspace(page, server, api, pdf_task):
    from tests.test_pdf import PER_PAGE  # noqa: PLC0415

    project, user, _ = pdf_task(PER_PAGE)
    start_labelling(page, project, user)
    status = page.get_by_test_id("pdf-status")
    expect(status).to_have_text("Page 1 of 3")
    blocks = page.locator(".lw-pdf-item:visible")
    expect(blocks).to_have_count(2)  # the choices and the text of page 1 only
    blocks.first.get_by_test_id("choice-Text").check()
    expect(page.locator("#lw-saved")).to_have_text("Draft saved")
    page.keyboard.press("PageDown")
    page.keyboard.press("PageDown")
    expect(status).to_have_text("Page 3 of 3")
    third = page.locator('.lw-pdf-item[data-page="3"]')
    expect(third.first).to_be_visible()
    expect(page.locator('.lw-pdf-item[data-page="1"]').first).to_be_hidden()
    third.first.get_by_test_id("choice-Blank").check()
    expect(page.locator("#lw-saved")).to_have_text("Draft saved")
    third.locator("textarea").last.fill("the last page")
    third.locator("textarea").last.press("Tab")
    expect(page.locator("#lw-saved")).to_have_text("Draft saved")
    assert accessibility_problems(page) == []
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("queue-done")).to_be_visible()
    (stored,) = annotations(api, project["id"])
    answers = sorted((r["from_name"], r["item_index"], r["value"].get("choices") or r["value"].get("text"))
                     for r in stored["result"])
    assert answers == [("kind", 0, ["Text"]), ("kind", 2, ["Blank"]), ("note", 2, ["the last page"])]


def test_pdf_pages_as_images_appear_once_the_worker_has_drawn_them(page, server, api, worker, make_project,
                                                                    make_user):
    """<Image valueList> over a PDF upload: a page not rendered yet (here: its picture removed) is asked
    for, drawn by the worker, and shown without a reload; boxes drawn on it are kept per page."""
    project, user = make_project(label_config=PAGES_AS_IMAGES), make_user()
    assert upload(api, project["id"], "scan.pdf", make_pdf(3)).status_code == 201
    api.post(f"/api/projects/{project['id']}/members", json={"user": user["id"]})
    pages = the_task(api, project["id"])["data"]["pages"]
    for address in pages:
        wait_for(api, address)
    (first,) = [p for p in server.data_dir.rglob("page-1.png")
                if p.parent.name.endswith("scan.pdf.pages") and p.parent.parent.name == str(project["id"])]
    first.unlink()
    answers = []
    page.on("response", lambda r: answers.append(r.status) if "/pages/1" in r.url else None)
    start_labelling(page, project, user)
    # asked for by selector each time: a re-render of the form may have replaced the <img>
    page.wait_for_function("""() => { const img = document.querySelector('[data-key="page:0"] .lw-image-frame img');
                                       return img && img.naturalWidth > 0 }""", timeout=30_000)
    assert answers[0] == 404 and answers[-1] == 200  # it failed first, and was tried again
    assert first.is_file()
    expect(page.get_by_text("Page 3 of 3")).to_be_visible()
