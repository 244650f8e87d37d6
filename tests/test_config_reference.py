"""The tag reference (components/reference.py) agrees with the validator, every starter validates,
and in the browser a new admin starts a project from the gallery, inserts a reference example at the
cursor and follows an editor error to the tag's entry."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from lxml import etree
from playwright.sync_api import expect

from components import REGISTRY, ConfigInvalid, parse_config
from components.base import Control, ObjectTag
from components.reference import entries, entry
from components.starters import GROUPS, starters  # noqa
from tests.test_browser import log_in

OBJECTS = [tag for tag, cls in REGISTRY.items() if issubclass(cls, ObjectTag) and tag == cls.tag]  # not aliases


def wrap(snippet: str) -> str:
    return f"<View>\n{snippet}\n</View>"


def test_every_registry_tag_has_an_entry_of_its_own():
    assert [e.tag for e in entries()] and {e.tag for e in entries()} == set(REGISTRY)
    for e in entries():
        assert "about" in REGISTRY[e.tag].__dict__, e.tag
        assert e.summary and e.example, e.tag
        assert e.kind in ("object", "control", "option", "layout"), e.tag


def test_attribute_types_are_the_validators_checks_and_every_one_is_described():
    for e in entries():
        cls = REGISTRY[e.tag]
        listed = {a.name: a for a in e.attributes}
        assert set(cls.checks) <= set(listed), (e.tag, set(cls.checks) - set(listed))
        assert set(cls.required) == {a.name for a in e.attributes if a.required}, e.tag
        for name, allowed in cls.checks.items():
            assert listed[name].description, (e.tag, name)
            if isinstance(allowed, tuple):
                assert all(f"`{word}`" in listed[name].type for word in allowed), (e.tag, name)
            else:
                assert listed[name].type != "text", (e.tag, name)


def pairing(control: str, obj: str) -> str:
    """The control's own example, pointed at a lone object of another tag."""
    element = next(etree.fromstring(wrap(entry(control).example)).iter(control))
    element.set("toName", "a,b" if control == "Pairwise" else "a")
    objects = "".join(f'<{obj} name="{n}" value="$d{n}"/>' for n in ("a", "b")[:2 if control == "Pairwise" else 1])
    return wrap(objects + etree.tostring(element, encoding="unicode"))


def accepted(xml: str) -> bool:
    try:
        parse_config(xml)
    except ConfigInvalid as exc:
        assert all("cannot label" in e.message for e in exc.errors), [str(e) for e in exc.errors]
        return False
    return True


def test_every_controls_pairs_are_what_the_validator_accepts():
    controls = [e for e in entries() if issubclass(REGISTRY[e.tag], Control) and e.section != "object"]  # not <Chat>
    assert len(controls) >= 14
    for e in controls:
        assert e.pairs_label == "Labels"
        assert [obj for obj in OBJECTS if accepted(pairing(e.tag, obj))] == list(e.pairs), e.tag
    for obj in OBJECTS:  # an object's "labelled by" is the same rule, turned round
        assert set(entry(obj).pairs) == {c.tag for c in controls if obj in c.pairs}, obj


def test_every_example_validates_and_every_result_fits_it():
    for e in entries():
        config = parse_config(wrap(e.example))  # raises, naming the problem, when it does not validate
        assert REGISTRY[e.tag].tag in {n.tag for n in config.nodes} and f"<{e.tag}" in e.example, e.tag  # an alias reads as its tag
        if e.result is None:
            continue
        results = [e.result]
        if e.result["type"] == "relation":  # a relation links two regions: give it its two
            region = json.loads(json.dumps(entry("Labels").result))
            config = parse_config(wrap(entry("Labels").example + e.example))
            results = [{**region, "id": e.result["from_id"]}, {**region, "id": e.result["to_id"]}, e.result]
        errors, warnings = config.check_results(results, config.sample_task()["data"])
        assert (errors, warnings) == ([], []), e.tag


def test_every_starter_validates_and_has_a_group():
    found = starters()
    assert len(found) >= 15
    for s in found:
        config = parse_config(s.xml)
        assert s.group in GROUPS, s.slug
        assert config.render(config.sample_task()["data"], readonly=True), s.slug
    used = {n.tag for s in found for n in parse_config(s.xml).nodes}
    # KeyPointLabels and BrushLabels are there; AudioPlus is read as Audio
    assert set(REGISTRY) - used <= {"Style", "KeyPoint", "Brush", "AudioPlus"}, set(REGISTRY) - used


# -- in the browser ---------------------------------------------------------------------------------

def caret_after(page, text: str) -> None:
    page.locator("#label_config").evaluate(
        "(el, text) => { el.focus(); const at = el.value.indexOf(text) + text.length;"
        " el.setSelectionRange(at, at); }", text)


def test_new_admin_starts_from_the_gallery_inserts_an_example_and_saves(page, server, make_user):
    admin = make_user("admin")
    log_in(page, admin["email"], admin["password"])
    page.click("text=New project")
    gallery = page.locator("#starters")
    expect(gallery.locator("h3", has_text="Text")).to_be_visible()
    card = gallery.locator(".starter", has=page.locator("h4", has_text="Text classification"))
    expect(card.locator(".starter-preview .lw-form")).to_have_count(1)  # its live preview, read-only
    expect(card.locator(".starter-preview input").first).to_be_disabled()
    card.get_by_role("link", name="Use this template").click()
    expect(page).to_have_url(re.compile(r"starter=text-classification"))
    expect(page.locator("#label_config")).to_have_value(re.compile('<Choice value="Sports"/>'))
    expect(page.locator("#config-preview .lw-choices")).to_have_count(1)

    page.get_by_role("link", name="tag reference").click()  # the editor's label points at the panel beside it
    expect(page.locator("#reference h2")).to_have_text("Tag reference")
    page.fill("#reference-filter", "rating")
    rating = page.locator("#tag-rating")
    expect(rating).to_be_visible()
    expect(page.locator("#tag-labels")).to_be_hidden()
    rating.locator("summary").click()
    expect(rating).to_contain_text("Labels: <Text>")
    caret_after(page, 'value="$text"/>')
    rating.get_by_role("button", name="Insert").click()
    value = page.locator("#label_config").input_value()
    assert value.index('value="$text"/>') < value.index('<Rating name="stars"') < value.index("<Choices")
    expect(page.locator("#config-preview .lw-rating")).to_have_count(1)  # the preview followed the insert

    title = "Gallery " + uuid.uuid4().hex[:6]
    page.fill("#title", title)
    page.click("button.primary")
    expect(page.locator("h1")).to_have_text(title)
    expect(page.locator("#config-preview .lw-rating")).to_have_count(1)


def test_an_editor_error_links_to_the_tags_entry(page, server):
    log_in(page, server.admin_email, server.admin_password)
    page.goto("/projects/new")
    page.fill("#label_config", '<View>\n<Text name="t" value="$t"/>\n<Rating name="r" toName="t" maxRating="lots"/>\n</View>')
    link = page.locator(".config-errors a.tag-ref")
    expect(link).to_have_text("<Rating>")
    link.click()
    expect(page.locator("#tag-rating")).to_have_attribute("open", "")
    expect(page.locator("#tag-rating summary")).to_be_focused()
    expect(page.locator("#tag-rating")).to_contain_text("maxRating")


@pytest.fixture
def settings_page(page, server, make_project):
    log_in(page, server.admin_email, server.admin_password)
    project = make_project(label_config=wrap(entry("Choices").example))
    page.goto(f"/projects/{project['id']}/edit")
    return page


def test_the_settings_page_has_the_reference_too(settings_page):
    expect(settings_page.locator("#reference details.tag-entry")).to_have_count(len(entries()))
    expect(settings_page.locator("#starters")).to_have_count(0)
