"""The pages in a real browser: log in, create, edit and delete a project, by mouse and by keyboard."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect


def log_in(page, email: str, password: str) -> None:
    page.goto("/projects")
    expect(page).to_have_url("/login?next=/projects")
    page.fill("#email", email)
    page.fill("#password", password)
    page.press("#password", "Enter")
    expect(page.locator(".who a")).to_have_text(email)


def test_project_lifecycle_in_the_browser(page, server):
    log_in(page, server.admin_email, server.admin_password)
    assert page.evaluate("htmx.version") == "2.0.11"
    title = "Browser " + uuid.uuid4().hex[:6]

    page.click("text=New project")
    page.fill("#title", "ab")  # too short: the server says so, the form keeps the input
    page.fill("#description", "Made in Chromium")
    page.locator("#title").evaluate("el => el.removeAttribute('minlength')")
    page.click("button.primary")
    expect(page.locator("#title-error")).to_have_text("A title has 3 to 50 characters.")
    expect(page.locator("#description")).to_have_value("Made in Chromium")

    page.fill("#title", title)
    page.fill("#label_config", '<View><Text name="text" value="$text"/></View>')
    page.click("button.primary")
    expect(page.locator("h1")).to_have_text(title)
    expect(page.locator(".flash")).to_contain_text("created")

    page.click("text=Edit")
    page.fill("#title", title + " v2")
    page.click("button.primary")
    expect(page.locator("h1")).to_have_text(title + " v2")

    page.click("a.button.danger")
    expect(page.locator("h1")).to_contain_text("Delete")
    page.fill("#confirm_title", "wrong title")
    page.click("button.danger")
    expect(page.locator(".form-error")).to_contain_text("Type the project's title")
    page.fill("#confirm_title", title + " v2")
    page.click("button.danger")
    expect(page).to_have_url("/projects")
    expect(page.locator(".flash")).to_contain_text("deleted")
    expect(page.locator(".project-card h2", has_text=title)).to_have_count(0)


def test_keyboard_only_login_and_navigation(page, server):
    page.goto("/login")
    expect(page.locator("#email")).to_be_focused()  # the email field has focus on arrival
    page.keyboard.type(server.admin_email)
    expect(page.locator("#email")).to_have_value(server.admin_email)
    page.keyboard.press("Tab")
    expect(page.locator("#password")).to_be_focused()
    page.keyboard.type(server.admin_password)
    expect(page.locator("#password")).to_have_value(server.admin_password)
    page.keyboard.press("Enter")
    expect(page.locator(".who .role")).to_have_text("admin")
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # the brand, then Projects
    page.keyboard.press("Tab")
    expect(page.locator("a[href='/settings']")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Settings")


def test_annotator_is_told_the_settings_page_is_not_theirs(page, server, make_user):
    user = make_user("annotator")
    log_in(page, user["email"], user["password"])
    expect(page.locator(".empty-state h2")).to_have_text("You have no projects yet")
    page.goto("/settings")
    expect(page.locator("h1")).to_have_text("You can't do that here")


def test_log_out(page, server):
    log_in(page, server.admin_email, server.admin_password)
    page.click("text=Log out")
    expect(page).to_have_url("/login")
    page.goto("/projects")
    expect(page).to_have_url("/login?next=/projects")


def test_config_editor_checks_and_previews_as_you_type(page, server):
    log_in(page, server.admin_email, server.admin_password)
    page.goto("/projects/new?starter=ner")
    expect(page.locator(".config-ok")).to_contain_text("The config is valid")
    expect(page.locator("#config-preview .lw-label")).to_have_count(4)
    expect(page.locator(".gutter")).to_contain_text("11")  # one number per line of the config

    editor = page.locator("#label_config")
    editor.fill('<View>\n  <Text name="text" value="$text"/>\n  <Choices name="c" toName="txt">\n'
                '    <Choice value="yes"/>\n  </Choices>\n</View>')
    expect(page.locator(".config-errors li")).to_contain_text('line 3 <Choices> toName: toName="txt" points at nothing')
    page.click(".line-ref")
    assert page.evaluate("document.activeElement.id") == "label_config"
    selected = page.evaluate("(t => t.value.slice(t.selectionStart, t.selectionEnd))(document.activeElement)")
    assert selected == '  <Choices name="c" toName="txt">'

    editor.fill('<View>\n  <Text name="text" value="$text"/>\n  <Choices name="c" toName="text">\n'
                '    <Choice value="yes"/>\n  </Choices>\n</View>')
    expect(page.locator(".config-ok")).to_contain_text("Tasks need: text")
    expect(page.locator("#config-preview input[type=radio]")).to_have_count(1)
