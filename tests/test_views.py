"""Saved views (the data manager's tabs): /api/dm/views through Label Studio's SDK in both
generations, who may change them, and the task list page's tabs and filter builder in a browser."""

from __future__ import annotations

from label_studio_sdk.data_manager import Column, Filters, Operator, Type

from tests.test_tasks_api import member

CONFIG = '<View><Text name="text" value="$text"/><Choices name="c" toName="text"><Choice value="a"/></Choices></View>'


def numbered(api, make_project, n=6):
    project = make_project(label_config=CONFIG)
    api.post(f"/api/projects/{project['id']}/import", json=[{"text": f"t{i}", "n": i} for i in range(n)])
    ids = [t["id"] for t in api.get(f"/api/tasks?project={project['id']}&include=id").json()["tasks"]]
    return project, ids


def test_views_through_both_sdks_and_who_may_change_them(server, api, legacy_sdk, sdk, make_project, make_user):
    project, ids = numbered(api, make_project)
    legacy = legacy_sdk.get_project(project["id"])
    big = Filters.create(Filters.AND, [Filters.item(Column.data("n"), Operator.GREATER_OR_EQUAL, Type.Number, 3)])
    made = legacy.create_view(big, ordering=["-" + Column.id], title="Big ones")
    assert made["project"] == project["id"] and made["data"]["title"] == "Big ones"
    assert made["data"]["type"] == "list" and made["data"]["target"] == "tasks" and made["data"]["hiddenColumns"] == {}
    assert [v["id"] for v in legacy.get_views()] == [made["id"]]
    assert legacy.get_tasks_ids(view_id=made["id"]) == ids[3:][::-1]  # the view's filters and ordering
    assert sorted(t.id for t in sdk.tasks.list(project=project["id"], view=made["id"])) == ids[3:]

    second = sdk.views.create(project=project["id"], data={"filters": {"conjunction": "or", "items": [
        {"filter": "filter:tasks:inner_id", "operator": "equal", "type": "Number", "value": 1}]}, "ordering": []})
    assert second.data["title"] == "Tasks" and second.order == made["order"] + 1
    assert [v.id for v in sdk.views.list(project=project["id"])] == [made["id"], second.id]
    renamed = sdk.views.update(str(second.id), data={"title": "First"})
    assert renamed.data["title"] == "First" and renamed.data["filters"]["conjunction"] == "or"  # PATCH merges
    assert sdk.views.get(str(second.id)).data["title"] == "First"
    sdk.views.update_order(project=project["id"], ids=[second.id, made["id"]])
    assert [v.id for v in sdk.views.list(project=project["id"])] == [second.id, made["id"]]
    assert api.put(f"/api/dm/views/{second.id}/", json={"data": {"title": "Whole"}}).json()["data"]["filters"] == {
        "conjunction": "and", "items": []}  # PUT replaces

    bad = api.post("/api/dm/views", json={"project": project["id"], "data": {"filters": {"items": [
        {"filter": "filter:tasks:id", "operator": "sideways", "type": "Number", "value": 1}]}}})
    assert bad.status_code == 400 and "data.filters.items[0].operator" in bad.text
    assert api.post("/api/dm/views", json={"project": project["id"], "data": {"title": "x" * 201}}).status_code == 400
    assert api.post("/api/dm/views", json={"project": project["id"], "data": {"blob": "x" * 70_000}}).status_code == 400

    annotator, as_annotator = member(server, api, project, "annotator", make_user)
    assert [v["id"] for v in as_annotator.get(f"/api/dm/views?project={project['id']}").json()] == [second.id, made["id"]]
    assert as_annotator.patch(f"/api/dm/views/{made['id']}", json={"data": {"title": "mine"}}).status_code == 403
    assert as_annotator.delete(f"/api/dm/views/reset?project={project['id']}").status_code == 403
    own = as_annotator.post("/api/dm/views", json={"project": project["id"], "data": {"title": "Mine"}}).json()
    assert own["user"] == annotator["id"]
    assert as_annotator.patch(f"/api/dm/views/{own['id']}/", json={"data": {"title": "Still mine"}}).status_code == 200
    outsider = server.client(token=server.query('SELECT key FROM lw_api_token WHERE "user" = $1',
                                                make_user("annotator")["id"])[0]["key"])
    assert outsider.get(f"/api/dm/views/{made['id']}").status_code == 404
    assert outsider.get(f"/api/dm/views?project={project['id']}").status_code == 404

    legacy.delete_view(own["id"])
    assert api.get(f"/api/dm/views/{own['id']}").status_code == 404
    sdk.views.delete_all(project=project["id"])
    assert legacy.get_views() == []
    assert api.get(f"/api/tasks?project={project['id']}&view={made['id']}").status_code == 404


def test_tabs_and_filter_builder_in_the_browser(page, server, api, make_project):
    from playwright.sync_api import expect

    project, ids = numbered(api, make_project)
    page.goto(f"/login?next=/projects/{project['id']}/tasks")
    page.fill("#email", server.admin_email)
    page.fill("#password", server.admin_password)
    page.keyboard.press("Enter")
    expect(page.locator("nav.view-tabs a[aria-current=page]")).to_have_text("All tasks")
    rows = page.locator("table.tasks tbody tr")
    expect(rows).to_have_count(6)
    page.select_option("#fc-1", "data.n|Number")
    page.select_option("#fo-1", "in")
    page.fill("#fv-1", "1..3")
    page.click("button[name=apply]")
    expect(rows).to_have_count(3)
    assert "fc=data.n" in page.url  # the filtered list is in the URL: a bookmark
    page.click("#add-filter-row")
    expect(page.locator("#fc-2")).to_be_focused()
    page.fill("#new-view-title", "Middle")
    page.click("form.save-view button[type=submit]")
    expect(page.locator("nav.view-tabs a[aria-current=page]")).to_have_text("Middle")
    expect(rows).to_have_count(3)
    view = api.get(f"/api/dm/views?project={project['id']}").json()[0]
    assert view["data"]["filters"]["items"] == [{"filter": "filter:tasks:data.n", "operator": "in", "type": "Number",
                                                 "value": {"min": 1, "max": 3}}]
    assert api.get(f"/api/tasks?project={project['id']}&view={view['id']}&include=id").json()["tasks"] == [
        {"id": i} for i in ids[1:4]]
    api.post("/api/dm/views", json={"project": project["id"], "data": {"title": "Other"}})
    page.fill("#view-title", "Middle ones")
    page.click("text=Rename")
    expect(page.locator("nav.view-tabs a[aria-current=page]")).to_have_text("Middle ones")
    page.click("text=Move right")
    expect(page.locator("nav.view-tabs li").nth(2)).to_have_text("Middle ones")
    page.click("nav.view-tabs >> text=All tasks")
    expect(rows).to_have_count(6)
    page.click("nav.view-tabs >> text=Middle ones")
    expect(rows).to_have_count(3)
    page.click("text=Delete view…")
    page.click("button:has-text('Delete the view')")
    expect(page.locator("nav.view-tabs li")).to_have_count(2)
    page.goto(f"/projects/{project['id']}/tasks?fc=inner_id&fo=sideways&fv=1")
    expect(page.locator("#filter-error")).to_contain_text("filters.items[0].operator")
