"""Each user's workspace keys: changed on the account page, used by the labelling workspace."""

from __future__ import annotations

import contextlib
import json

from tests.helpers import browser, html, submit, text_of

CONFIG = ('<View><Text name="t" value="$text"/>'
          '<Choices name="c" toName="t"><Choice value="a"/></Choices></View>')
DEFAULTS = {"submit": "ctrl+enter", "skip": "ctrl+space", "undo": "ctrl+z", "redo": "ctrl+shift+z"}


def stored(server, user_id: int) -> dict:
    """The user's hotkeys column as the database holds it (SQLite and asyncpg give JSON as text)."""
    value = server.query("SELECT hotkeys FROM lw_user WHERE id = $1", user_id)[0]["hotkeys"]
    return json.loads(value) if isinstance(value, str) else value


def inputs(response) -> dict[str, str]:
    """name -> value of the text inputs of the workspace-keys form."""
    return {el.get("name"): el.get("value") for el in html(response).cssselect("#hotkeys input[type=text]")}


def workspace_keymap(server, api, client, user_id: int) -> dict[str, str]:
    project = api.post("/api/projects", json={"title": "Keys", "label_config": CONFIG})
    assert project.status_code == 201, project.text
    pid = project.json()["id"]
    assert api.post(f"/api/projects/{pid}/import", json=[{"text": "x"}]).status_code in (200, 201)
    assert api.post(f"/api/projects/{pid}/members", json={"user": user_id}).status_code == 201
    page = client.get(f"/projects/{pid}/label", follow_redirects=True)
    assert page.status_code == 200, page.text[:300]
    workspaces = html(page).cssselect(".lw-workspace")
    assert workspaces, "the label page is not the workspace"
    return json.loads(workspaces[0].get("data-keymap"))


def test_the_account_page_lists_every_action_with_its_default(server, make_user):
    user = make_user()
    with contextlib.closing(browser(server, user["email"], user["password"])) as client:
        page = client.get("/account")
        assert page.status_code == 200
        assert text_of(page, "#hotkeys h2") == ["Workspace keys"]
        fields = html(page).cssselect("#hotkeys input[type=text]")
        assert {f.get("name"): f.get("value") for f in fields}.items() >= DEFAULTS.items()
        assert all(f.get("placeholder") == f.get("value") for f in fields)
        labels = text_of(page, "#hotkeys label")
        assert "Submit (or update) the annotation" in labels and "Undo the last change" in labels
        buttons = text_of(page, "#hotkeys button")
        assert buttons == ["Save keys", "Back to defaults"]


def test_remapped_keys_reach_the_workspace_and_reset_restores_defaults(server, api, make_user):
    user, other = make_user(), make_user()
    with contextlib.closing(browser(server, user["email"], user["password"])) as client, \
            contextlib.closing(browser(server, other["email"], other["password"])) as other_client:
        saved = submit(client, "/account", "/account/hotkeys", {"submit": "Ctrl + S", "undo": "alt+u"})
        assert saved.status_code in (302, 303)
        assert saved.headers["location"] == "/account#hotkeys"
        assert stored(server, user["id"]) == {"submit": "ctrl+s", "undo": "alt+u"}  # only what differs

        page = client.get("/account")
        values = inputs(page)
        assert values["submit"] == "ctrl+s" and values["undo"] == "alt+u" and values["skip"] == "ctrl+space"
        assert text_of(page, ".flash-success") == ["Workspace keys saved."]

        keymap = workspace_keymap(server, api, client, user["id"])
        assert keymap["submit"] == "ctrl+s" and keymap["undo"] == "alt+u" and keymap["skip"] == "ctrl+space"

        # another user's keys are untouched, in the database, on the account page and in the workspace
        assert stored(server, other["id"]) == {}
        assert inputs(other_client.get("/account"))["submit"] == "ctrl+enter"
        other_keymap = workspace_keymap(server, api, other_client, other["id"])
        assert other_keymap.items() >= DEFAULTS.items()

        reset = submit(client, "/account", "/account/hotkeys", {"reset": "1"})
        assert reset.status_code in (302, 303) and reset.headers["location"] == "/account#hotkeys"
        assert stored(server, user["id"]) == {}
        page = client.get("/account")
        assert text_of(page, ".flash-success") == ["Workspace keys are back to their defaults."]
        assert inputs(page).items() >= DEFAULTS.items()
        assert workspace_keymap(server, api, client, user["id"]).items() >= DEFAULTS.items()


def test_two_actions_on_one_key_are_refused(server, make_user):
    user = make_user()
    with contextlib.closing(browser(server, user["email"], user["password"])) as client:
        assert submit(client, "/account", "/account/hotkeys", {"redo": "alt+y"}).status_code in (302, 303)
        refused = submit(client, "/account", "/account/hotkeys", {"submit": "alt+u", "skip": "Alt + U"})
        assert refused.status_code == 400
        assert text_of(refused, "#skip-error") == ["alt+u is already the key for submit."]
        assert text_of(refused, "#submit-error") == []
        assert inputs(refused)["skip"] == "Alt + U"  # what was typed stays, to be fixed
        assert stored(server, user["id"]) == {"redo": "alt+y"}  # nothing of the refused form stored

        # a remapped key may not take another action's default either
        refused = submit(client, "/account", "/account/hotkeys", {"skip": "ctrl+enter"})
        assert refused.status_code == 400
        assert text_of(refused, "#skip-error") == ["ctrl+enter is already the key for submit."]
        assert stored(server, user["id"]) == {"redo": "alt+y"}


def test_a_nonsense_key_is_refused(server, make_user):
    user = make_user()
    with contextlib.closing(browser(server, user["email"], user["password"])) as client:
        refused = submit(client, "/account", "/account/hotkeys", {"undo": "banana", "submit": "ctrl+s"})
        assert refused.status_code == 400
        errors = text_of(refused, "#undo-error")
        assert len(errors) == 1 and "banana" in errors[0] and "not a key" in errors[0]
        assert html(refused).cssselect("#hotkey-undo")[0].get("aria-invalid") == "true"
        assert stored(server, user["id"]) == {}


def test_saving_the_keys_needs_the_csrf_token(server, make_user):
    user = make_user()
    with contextlib.closing(browser(server, user["email"], user["password"])) as client:
        assert client.post("/account/hotkeys", data={"submit": "ctrl+s"}).status_code == 403
        assert stored(server, user["id"]) == {}
