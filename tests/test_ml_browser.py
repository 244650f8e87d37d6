"""Opening a task the model has not predicted, in a real browser: the page does not wait for the
model; the prediction appears when it arrives, as the starting point or one click away."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.test_browser import log_in
from tests.test_ml import NER, connect, expected_spans
from tests.test_workspace_browser import annotator_in, ready, select_text  # noqa: F401,F811 - a fixture

TEXTS = ["Ada Lovelace met Charles Babbage", "Grace Hopper at Yale"]


def test_prediction_arrives_in_the_open_workspace(page, server, api, annotator_in, ml_backend, worker, tmp_path):
    project, user = annotator_in(NER, [{"text": t} for t in TEXTS])
    gate = tmp_path / "answer"  # the model answers only once this file exists: the test says when
    connect(api, project, ml_backend(2, "gated", gate=gate))
    log_in(page, user["email"], user["password"])

    # untouched work takes the prediction as soon as it arrives
    page.goto(f"/projects/{project['id']}/label")
    ready(page)
    expect(page.get_by_test_id("suggestion-waiting")).to_be_visible()
    expect(page.locator("mark.lw-span")).to_have_count(0)
    gate.touch()
    expect(page.get_by_test_id("suggestion-used")).to_be_visible()
    expect(page.locator("mark.lw-span")).to_have_count(len(expected_spans(TEXTS[0])))
    gate.unlink()
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("suggestion-waiting")).to_be_visible()  # on to the next task, and its own request

    # work already begun is not replaced: the prediction waits one click away, and undo brings the work back
    ready(page)
    select_text(page, "Grace")
    page.keyboard.press("2")  # ORG's key: "Grace" becomes an ORG span before the model answers
    expect(page.locator("mark.lw-span")).to_have_count(1)
    gate.touch()
    expect(page.get_by_test_id("use-suggestion")).to_be_visible()
    expect(page.locator("mark.lw-span")).to_have_count(1)
    page.get_by_test_id("use-suggestion").click()
    expect(page.locator("mark.lw-span")).to_have_count(len(expected_spans(TEXTS[1])))
    page.get_by_test_id("undo").click()
    expect(page.locator("mark.lw-span")).to_have_count(1)
    page.get_by_test_id("redo").click()
    expect(page.locator("mark.lw-span")).to_have_count(len(expected_spans(TEXTS[1])))
    page.get_by_test_id("submit").click()
    expect(page).to_have_url(f"/projects/{project['id']}/label")

    annotations = [a for t in api.get(f"/api/tasks?project={project['id']}").json()["tasks"]
                   for a in api.get(f"/api/tasks/{t['id']}/annotations").json()]
    assert len(annotations) == 2
    for annotation in annotations:
        assert annotation["parent_prediction"] is not None
        assert {r.get("origin") for r in annotation["result"]} == {"prediction"}  # accepted as the model made it


def test_asr_prelabels_land_as_editable_segments_with_transcripts(page, server, api, make_project, make_user, ml_backend, worker):
    """A label_studio_ml speech model's segments and transcripts (tests/ml_backend.py finds the loud
    stretches of the uploaded WAV) are the annotator's starting point: corrected, not re-typed."""
    import base64

    from tests.test_audio_browser import CONFIG as ASR, tone_silence_tone

    project = make_project(label_config=ASR)
    wav = base64.b64decode(tone_silence_tone().split(",", 1)[1])
    assert api.post(f"/api/projects/{project['id']}/import", files=[("file", ("tone.wav", wav))]).status_code == 201
    user = make_user()
    api.post(f"/api/projects/{project['id']}/members", json={"user": user["id"]})
    connect(api, project, ml_backend(1))  # 1.0.9 downloads the file with the token /setup gives it
    log_in(page, user["email"], user["password"])
    page.goto(f"/projects/{project['id']}/label")
    ready(page)
    expect(page.get_by_test_id("suggestion-used")).to_be_visible()
    segments = page.locator(".lw-audio-segment")
    expect(segments).to_have_count(2)
    assert sorted(float(segments.nth(i).get_attribute("data-start")) for i in range(2)) == [0.0, 2.0]
    regions = page.locator(".lw-region")
    expect(regions.nth(0).locator("textarea").first).to_have_value("segment 1")
    expect(regions.nth(1).locator("textarea").first).to_have_value("segment 2")
    regions.nth(1).locator("textarea").first.fill("hello again")  # the second one corrected
    expect(page.locator("#lw-saved")).to_have_text("Draft saved")
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("queue-done")).to_be_visible()

    (task,) = api.get(f"/api/tasks?project={project['id']}").json()["tasks"]
    (annotation,) = api.get(f"/api/tasks/{task['id']}/annotations").json()
    assert annotation["parent_prediction"] is not None
    by_type = {}
    for item in annotation["result"]:
        by_type.setdefault(item["type"], []).append(item)
    spans = sorted((i["value"]["start"], i["value"]["end"], i["origin"]) for i in by_type["labels"])
    assert spans == [(0.0, 1.0, "prediction"), (2.0, 3.0, "prediction")]
    texts = sorted((i["value"]["start"], i["value"]["text"], i["origin"]) for i in by_type["textarea"])
    assert texts == [(0.0, ["segment 1"], "prediction"), (2.0, ["hello again"], "prediction-changed")]
