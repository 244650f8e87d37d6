"""The settings area in Chromium, as an admin uses it: invite someone, they join by the link, the
admin ends their sessions, turns a setting on, and reads what happened in the audit log."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests.test_browser import log_in


def test_invite_join_sign_out_and_audit_in_the_browser(page, chromium, server):
    log_in(page, server.admin_email, server.admin_password)
    page.click(".topbar nav >> text=Settings")
    expect(page.locator(".settings-nav a.active")).to_have_text("Users")
    email = f"browser-invitee-{uuid.uuid4().hex[:6]}@example.com"
    page.fill("#nu-email", email)
    page.fill("#nu-first", "Bea")
    page.select_option("#nu-role", "reviewer")
    page.click("#new-user button.primary")
    expect(page.locator("h1")).to_have_text(email)  # the new user's page
    message = page.locator(".flash").inner_text()
    link = re.search(r"https?://\S+/invite/[A-Za-z0-9_-]+", message).group(0)

    # the invitee, in a browser of their own
    invitee = chromium.new_context(base_url=server.base_url).new_page()
    try:
        invitee.goto(link)
        invitee.fill("#password", "joined-by-link")
        invitee.fill("#password2", "joined-by-link")
        invitee.click("button.primary")
        expect(invitee.locator(".who a")).to_have_text("Bea")
        expect(invitee.locator(".who .role")).to_have_text("reviewer")

        page.reload()  # their session is listed now
        expect(page.locator("#sessions tbody tr")).to_have_count(1)
        page.click("#sessions button")
        expect(page.locator(".flash")).to_contain_text("signed out everywhere (1 session ended)")
        invitee.goto("/projects")
        expect(invitee).to_have_url(re.compile(r"/login\?next=/projects$"))
    finally:
        invitee.context.close()

    page.click(".settings-nav >> text=Instance")
    page.check("input[name=allow_signup]")
    page.click("#instance-settings button.primary")
    expect(page.locator(".flash")).to_contain_text("Saved; in effect now: People can sign up")
    try:
        page.click(".settings-nav >> text=Audit log")
        page.select_option("#f-action", "settings.update")
        page.click("#audit button[type=submit]")
        # the newest entry matches before the filter is applied too: wait for the filtered page
        expect(page).to_have_url(re.compile(r"action=settings\.update"))
        expect(page.locator("table.audit tbody tr").first).to_contain_text("People can sign up: False → True")
        page.select_option("#f-action", "user.create")
        page.click("#audit button[type=submit]")
        expect(page).to_have_url(re.compile(r"action=user\.create"))
        expect(page.locator("table.audit tbody tr").first).to_contain_text(f"Added {email} as reviewer by invitation")
        with page.expect_download() as download:
            page.click("text=Export CSV")
        assert email in open(download.value.path(), encoding="utf-8").read()
    finally:
        page.click(".settings-nav >> text=Instance")
        page.uncheck("input[name=allow_signup]")
        page.click("#instance-settings button.primary")
        expect(page.locator(".flash")).to_contain_text("Saved")
