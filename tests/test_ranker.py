"""<List>/<Ranker>/<Bucket> over HTTP and through Label Studio's SDK: configs checked with line and
attribute, results as Label Studio writes them (and its bare-array form) stored and exported,
wrong ids and buckets refused naming the field, HTML in items made harmless, and agreement between
two annotators' rankings (Kendall's τ, checked against scipy)."""

from __future__ import annotations

import pytest
from scipy.stats import kendalltau

from components import ConfigError, parse_config
from tests.helpers import browser

ITEMS = [{"id": "mdn", "title": "Arrow functions", "body": "A compact function."},
         {"id": "wiki", "title": "Arrow (computer science)", "body": "A type class."},
         {"id": "blog", "title": "10 tips", "body": "<script>alert(1)</script>Write better functions."},
         {"id": 7, "title": "A picture", "html": "<img src='/static/favicon.svg' alt='icon' onerror='alert(1)'>"}]
BUCKETS = """<View>
  <List name="results" value="$items" title="Search results"/>
  <Ranker name="rank" toName="results">
    <Bucket name="best" title="Best results"/>
    <Bucket name="ads" title="Paid results"/>
  </Ranker>
</View>"""
ORDER = '<View><List name="results" value="$items"/><Ranker name="rank" toName="results"/></View>'


def ranked(value) -> list[dict]:
    return [{"id": "r1", "from_name": "rank", "to_name": "results", "type": "ranker", "value": {"ranker": value}}]


@pytest.mark.parametrize(("xml", "line", "attribute", "words"), [
    ('<View>\n<List name="l" value="$items"/>\n<Ranker name="r" toName="l">\n<Bucket title="x"/></Ranker></View>',
     4, "name", "needs a name"),
    ('<View>\n<List name="l" value="$items"/>\n<Ranker name="r" toName="l">\n<Bucket name="a"/>\n<Bucket name="a"/></Ranker></View>',
     5, "name", "Two buckets"),
    ('<View>\n<List name="l" value="$items"/>\n<Ranker name="r" toName="l">\n<Choice value="a"/></Ranker></View>',
     4, None, "cannot be inside <Ranker>"),
    ('<View>\n<Text name="t" value="$t"/>\n<Ranker name="r" toName="t"/></View>', 3, "toName", "<List>"),
    ('<View>\n<List name="l" value="$items"/>\n<Ranker name="r" toName="l">\n<Bucket name="_"/></Ranker></View>',
     4, "name", "no bucket"),
])
def test_bad_ranker_configs_are_refused_naming_line_and_attribute(xml, line, attribute, words):
    with pytest.raises(ConfigError) as caught:
        parse_config(xml)
    found = [e for e in caught.value.errors if e.line == line]
    assert found and words in found[0].message and found[0].attribute == attribute, caught.value.errors


def test_rankings_stored_and_exported_as_label_studio_writes_them(server, api, make_project, sdk):
    project = make_project(label_config=BUCKETS)
    assert api.post(f"/api/projects/{project['id']}/import", json=[{"items": ITEMS}] * 2).status_code == 201
    task, other = sorted(api.get(f"/api/tasks?project={project['id']}").json()["tasks"], key=lambda t: t["inner_id"])
    # Label Studio's own example, and its bare-array form (the unplaced rest) through the SDK
    first = api.post(f"/api/tasks/{task['id']}/annotations", json={"result": ranked({"best": ["mdn"], "ads": ["blog"]})})
    assert first.status_code == 201, first.text
    second = sdk.annotations.create(id=other["id"], result=ranked(["wiki", "7"]))
    assert second.result[0]["value"] == {"ranker": ["wiki", "7"]}

    for value, words in ((["mdn", "nope"], "'nope', which is not in the list"), ({"best": ["mdn"], "ads": ["mdn"]}, "twice"),
                         ({"top": ["mdn"]}, "key 'top'"), ({"best": "mdn"}, "value.ranker.best must be a list"), ("mdn", "must map")):
        refused = api.post(f"/api/tasks/{task['id']}/annotations", json={"result": ranked(value)})
        assert refused.status_code == 400 and words in refused.text, (value, refused.text)

    exported = api.get(f"/api/projects/{project['id']}/export?exportType=JSON").json()
    values = [t["annotations"][0]["result"][0]["value"] for t in sorted(exported, key=lambda t: t["id"])]
    assert values == [{"ranker": {"best": ["mdn"], "ads": ["blog"]}}, {"ranker": ["wiki", "7"]}]

    # the task page shows both rankings; item text is text, the picture's markup is sanitised
    shown = browser(server).get(f"/projects/{project['id']}/tasks/{task['id']}")
    assert shown.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;Write better functions." in shown.text
    assert "onerror" not in shown.text and 'alt="icon"' in shown.text


def test_agreement_of_two_rankings_is_kendalls_tau(server, api, make_project, make_user):
    items = [{"id": str(i), "title": f"Item {i}"} for i in range(6)]
    project = make_project(label_config=ORDER, maximum_annotations=2)
    assert api.post(f"/api/projects/{project['id']}/import", json=[{"items": items}]).status_code == 201
    task = api.get(f"/api/tasks?project={project['id']}").json()["tasks"][0]
    orders = (["0", "1", "2", "3", "4", "5"], ["1", "0", "2", "5", "3", "4"])
    for order in orders:
        user = make_user("annotator")
        api.post(f"/api/projects/{project['id']}/members", json={"user": user["id"]})
        key = server.query('SELECT key FROM lw_api_token WHERE "user" = $1', user["id"])[0]["key"]
        with server.client(token=key) as client:
            answer = client.post(f"/api/tasks/{task['id']}/annotations", json={"result": ranked({"rank": order})})
            assert answer.status_code == 201, answer.text
    tau = kendalltau([orders[0].index(i) for i in orders[0]], [orders[1].index(i) for i in orders[0]]).statistic
    found = api.get(f"/api/projects/{project['id']}/agreement").json()["controls"]["rank"]
    assert found["score"] == pytest.approx((1 + tau) / 2) and "Kendall" in found["metric"]
    assert api.get(f"/api/tasks/{task['id']}").json()["agreement"] == pytest.approx((1 + tau) / 2)
