"""PDF documents (issue 20): a .pdf upload becomes one task, its pages rendered once by the worker
(page pictures and text-layer words, served with the upload's access rules), bad PDFs refused with a
message naming the file, and <OcrLabels>/perItem results checked as Label Studio writes them."""

from __future__ import annotations

import io
import random
import time
from pathlib import Path

import lxml.html
import pytest
from fpdf import FPDF
from PIL import Image

from tests.helpers import browser

CONFIGS = Path(__file__).resolve().parent / "data" / "configs" / "pdf"
OCR = (CONFIGS / "pdf-ocr.xml").read_text()
CLASSIFY = (CONFIGS / "pdf-classification.xml").read_text()
PER_PAGE = """<View>
  <Pdf name="pdf" value="$pdf"/>
  <Choices name="kind" toName="pdf" perItem="true"><Choice value="Text"/><Choice value="Blank"/></Choices>
  <TextArea name="note" toName="pdf" perItem="true"/>
</View>"""
KNOWN = {"page": 2, "text": "Invoice 42", "x": 100, "y": 200}  # points from the top-left corner of an A4 page
A4 = (595.28, 841.89)


def make_pdf(pages: int = 3, seed: int = 7, password: str | None = None) -> bytes:
    """Pages of filler words (seeded), with "Invoice 42" at a known place on page 2."""
    rng = random.Random(seed)
    pdf = FPDF(unit="pt", format="A4")
    pdf.set_auto_page_break(False)
    if password:
        pdf.set_encryption(owner_password=password, user_password=password)
    for number in range(1, pages + 1):
        pdf.add_page()
        pdf.set_font("Helvetica", size=12)
        pdf.text(40, 60, f"Page {number} " + " ".join(rng.choice(["alpha", "beta", "gamma"]) for _ in range(4)))
        if number == KNOWN["page"]:
            pdf.set_font("Helvetica", size=24)
            pdf.text(KNOWN["x"], KNOWN["y"], KNOWN["text"])
    return bytes(pdf.output())


def upload(api, project_id: int, name: str, content: bytes):
    return api.post(f"/api/projects/{project_id}/import", files=[("file", (name, content))])


def the_task(api, project_id: int) -> dict:
    (task,) = api.get(f"/api/tasks?project={project_id}&fields=all").json()["tasks"]
    return task


def wait_for(api, address: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while (response := api.get(address)).status_code == 404:
        assert time.monotonic() < deadline, f"{address} not there after {timeout} s"
        time.sleep(0.1)
    return response


@pytest.fixture
def pdf_project(api, worker, make_project):
    def make(config: str = OCR, pages: int = 3) -> tuple[dict, dict]:
        project = make_project(label_config=config)
        assert upload(api, project["id"], "invoice.pdf", make_pdf(pages)).status_code == 201
        return project, the_task(api, project["id"])
    return make


def test_a_pdf_upload_is_one_task_with_its_pages_rendered(server, api, pdf_project, make_user):
    project, task = pdf_project()
    address = task["data"]["pdf"]
    assert address.startswith(f"/data/upload/{project['id']}/") and address.endswith("invoice.pdf")
    for page in (1, 2, 3):
        picture = wait_for(api, f"{address}/pages/{page}")
        assert picture.headers["content-type"] == "image/png" and picture.content[:4] == b"\x89PNG"
    assert api.get(f"{address}/pages/4").status_code == 404
    words = wait_for(api, f"{address}/pages/2/text").json()["words"]
    invoice = next(w for w in words if w["text"] == "Invoice")
    # the word's box, as fractions of the page, top-left origin: its baseline is at y = 200 pt
    assert abs(invoice["x"] - KNOWN["x"] / A4[0]) < 0.01
    assert invoice["y"] < KNOWN["y"] / A4[1] < invoice["y"] + invoice["height"] + 0.01
    after = words[words.index(invoice) + 1]
    assert after["text"] == "42" and after["x"] > invoice["x"] + invoice["width"]
    # the upload's own access rules: someone outside the project gets nothing
    outsider = make_user()
    stranger = browser(server, outsider["email"], outsider["password"])
    assert stranger.get(f"{address}/pages/1").status_code == 404
    assert stranger.get(f"{address}/pages/2/text").status_code == 404
    assert api.get(f"{address}/pages/1", headers={"Authorization": ""}).status_code in (302, 303, 401)


@pytest.mark.parametrize(("name", "content", "said"), [
    ("locked.pdf", make_pdf(2, password="secret"), "password"),
    ("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage", "not a readable PDF"),
    ("notes.pdf", b"just some text, not a PDF at all", "not a readable PDF"),
    ("huge.pdf", make_pdf(1001), "1,001 pages"),
])
def test_bad_pdfs_are_refused_naming_the_file(api, make_project, name, content, said):
    project = make_project(label_config=OCR)
    response = upload(api, project["id"], name, content)
    assert response.status_code == 400, response.text
    assert name in response.text and said in response.text, response.text
    assert api.get(f"/api/tasks?project={project['id']}").json()["total"] == 0


def test_ocr_and_per_page_results_are_checked(api, pdf_project):
    project, task = pdf_project()
    box = {"x": 0.1, "y": 0.2, "width": 0.3, "height": 0.05, "rotation": 0, "pageIndex": 2,
           "ocrtext": "Invoice 42", "ocrlabels": ["Typo"]}
    item = {"id": "b1", "from_name": "ocr", "to_name": "pdf", "type": "ocrlabels", "value": box}
    for bad, said in (({"x": 40}, "fraction"), ({"pageIndex": 4}, "pageIndex"), ({"pageIndex": 0}, "pageIndex"),
                      ({"width": 0.95}, "outside the page")):
        response = api.post(f"/api/tasks/{task['id']}/annotations",
                            json={"result": [{**item, "value": {**box, **bad}}]})
        assert response.status_code == 400 and said in response.text, (bad, response.text)
    good = api.post(f"/api/tasks/{task['id']}/annotations", json={"result": [item]})
    assert good.status_code == 201, good.text
    exported = api.get(f"/api/projects/{project['id']}/export?exportType=JSON").json()
    assert exported[0]["annotations"][0]["result"][0]["value"] == box  # unchanged, as Label Studio reads it


def test_per_page_answers_carry_the_page(api, pdf_project):
    project, task = pdf_project(PER_PAGE)
    page1 = {"id": "p1", "from_name": "kind", "to_name": "pdf", "type": "choices", "item_index": 0,
             "value": {"choices": ["Text"]}}
    far = api.post(f"/api/tasks/{task['id']}/annotations", json={"result": [{**page1, "item_index": 3}]})
    assert far.status_code == 400 and "item_index" in far.text, far.text
    assert api.post(f"/api/tasks/{task['id']}/annotations", json={"result": [page1]}).status_code == 201


def test_the_gallery_templates_are_accepted_verbatim(api):
    for xml in (OCR, CLASSIFY):
        assert api.post("/api/projects/validate", json={"label_config": xml}).status_code == 200


PAGES_AS_IMAGES = """<View>
  <Image name="page" valueList="$pages"/>
  <RectangleLabels name="box" toName="page"><Label value="Signature"/></RectangleLabels>
</View>"""


def test_a_pdf_in_a_multi_page_image_project_is_its_pages(server, api, pdf_project):
    """Label Studio's community way with documents: <Image valueList> over the pages as pictures."""
    project, task = pdf_project(PAGES_AS_IMAGES)
    pages = task["data"]["pages"]
    assert len(pages) == 3 and all(p.endswith(f"invoice.pdf/pages/{n}") for n, p in enumerate(pages, 1))
    for address in pages:
        assert wait_for(api, address).content[:4] == b"\x89PNG"
    with Image.open(io.BytesIO(api.get(pages[1]).content)) as picture:
        width, height = picture.size
    box = {"id": "s1", "from_name": "box", "to_name": "page", "type": "rectanglelabels", "item_index": 1,
           "original_width": width, "original_height": height, "image_rotation": 0,
           "value": {"x": 10, "y": 20, "width": 30, "height": 5, "rotation": 0, "rectanglelabels": ["Signature"]}}
    assert api.post(f"/api/tasks/{task['id']}/annotations", json={"result": [box]}).status_code == 201
    shown = lxml.html.fromstring(api.get(f"/projects/{project['id']}/label/{task['id']}").text)
    assert [img.get("src") for img in shown.cssselect(".lw-image-frame img")] == pages
    assert shown.cssselect('[data-key="page:1"] [data-testid="shape-s1"]')  # the box is on page 2


def test_a_page_asked_for_is_rendered_next(api, pdf_project):
    """A jump to the last page of a long PDF still being rendered does not wait for the pages before it."""
    project, task = pdf_project(OCR, pages=120)
    address = task["data"]["pdf"]
    assert wait_for(api, f"{address}/pages/120").content[:4] == b"\x89PNG"
    assert api.get(f"{address}/pages/100").status_code == 404  # the worker went on to page 120 out of order
    assert wait_for(api, f"{address}/pages/100", timeout=120).status_code == 200  # and then on with the rest
