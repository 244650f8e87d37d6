"""CoNLL 2003 token for token as Label Studio's converter writes it: the converter itself
(label_studio_sdk.converter.Converter) is run here on our own JSON export of the same project, and
its file must equal the CoNLL file we serve, through both SDK generations."""

from __future__ import annotations

import json

import pytest

from tests.test_export import span

CONFIG = """<View>
  <Labels name="label" toName="text">
    <Label value="PER"/><Label value="ORG"/><Label value="LOC"/><Label value="MISC"/>
  </Labels>
  <Text name="text" value="$text"/>
</View>"""

# (text, [(entity text, label, nth occurrence)]): punctuation, entities ending in punctuation,
# spaces and newlines, unicode, hyphens, numbers with dots and commas, quotes, contractions
TRICKY = [
    ("I flew to London.", [("London", "LOC", 0)]),
    ("Acme Corp. hired Ada, then moved to St. Louis... Really?!", [("Acme Corp.", "ORG", 0), ("Ada", "PER", 0),
                                                                   ("St. Louis", "LOC", 0)]),
    ("Paris  is   big.\n\nBerlin\tis\ttoo.", [("Paris", "LOC", 0), ("Berlin", "LOC", 0)]),
    ("Zoë Ærø met Łukasz in Kraków, Poland; café au lait.", [("Zoë Ærø", "PER", 0), ("Kraków", "LOC", 0),
                                                              ("Poland", "LOC", 0)]),
    ("The Franco-Prussian war cost $3.88 (or 3,36 euros) -- says Dr. Who's \"History\".",
     [("Franco-Prussian", "MISC", 0), ("Who", "PER", 0), ("History", "MISC", 0)]),
    ("Version 2.1.2 of U.S.A.-based IBM's kit can't load: e.g. x@y.com #tag 50% & more", [("IBM", "ORG", 0)]),
    ("She said ''wow'' and left (see [Fig. 2]) {ok} <b>.", [("Fig. 2", "MISC", 0)]),
    ("NewYorkCity is one token but the span is mid-token.", []),  # spans added below, by offsets
    ("Nobody here.", []),
]


def task_of(text: str, entities: list[tuple[str, str, int]], extra: list[dict] | None = None) -> dict:
    result = []
    for n, (word, label, nth) in enumerate(entities):
        start = -1
        for _ in range(nth + 1):
            start = text.index(word, start + 1)
        item = span(text, word, label, f"s{n}")
        item["value"].update(start=start, end=start + len(word))
        result.append(item)
    return {"data": {"text": text}, "annotations": [{"result": result + (extra or [])}]}


def mid_token(text: str) -> list[dict]:
    # spans that start and end inside tokens: "York" within NewYorkCity, "an" within "token"
    york, oken = text.index("York"), text.index("oken")
    return [{"id": "m1", "from_name": "label", "to_name": "text", "type": "labels",
             "value": {"start": york, "end": york + 4, "text": "York", "labels": ["LOC"]}},
            {"id": "m2", "from_name": "label", "to_name": "text", "type": "labels",
             "value": {"start": oken, "end": oken + 2, "text": "ok", "labels": ["MISC"]}}]


@pytest.fixture
def conll_project(api, legacy_sdk):
    project = legacy_sdk.start_project(title="CoNLL check", label_config=CONFIG)
    tasks = [task_of(text, entities, mid_token(text) if text.startswith("NewYork") else None)
             for text, entities in TRICKY]
    tasks[-1].pop("annotations")  # a task with no annotation: one document, all O
    # a task with two annotations, the newer first in the file; and one whose only annotation was skipped
    two = task_of("Rome, Italy.", [("Rome", "LOC", 0)])
    two["annotations"].append({"result": [span("Rome, Italy.", "Italy", "LOC", "i")],
                               "created_at": "2030-01-01T00:00:00Z"})
    tasks += [two, {"data": {"text": "Skipped, London."}, "annotations": [{"result": [], "was_cancelled": True}]}]
    response = api.post(f"/api/projects/{project.id}/import", json=tasks)
    assert response.status_code == 201, response.text
    return project


def converter_output(tmp_path, export: list[dict]) -> str:
    from label_studio_sdk.converter import Converter

    source = tmp_path / "export.json"
    source.write_text(json.dumps(export))
    Converter(config=CONFIG, project_dir=None, download_resources=False).convert(
        str(source), str(tmp_path / "out"), "CONLL2003", is_dir=False)
    written = (tmp_path / "out" / "result.conll").read_text(encoding="utf8")
    # the one difference, on purpose: a blank line after -DOCSTART-, as CoNLL 2003 has it (spaCy needs it)
    assert written.startswith("-DOCSTART- -X- O\n") and not written.startswith("-DOCSTART- -X- O\n\n")
    return written.replace("-DOCSTART- -X- O\n", "-DOCSTART- -X- O\n\n", 1)


def test_conll_matches_label_studios_converter(api, sdk, conll_project, tmp_path):
    pid = conll_project.id
    export = api.get(f"/api/projects/{pid}/export?exportType=JSON&download_all_tasks=true").json()
    expected = converter_output(tmp_path, export)
    ours = api.get(f"/api/projects/{pid}/export?exportType=CONLL2003&download_all_tasks=true").text
    assert ours.splitlines() == expected.splitlines()
    assert ours == expected
    # the rule the issue names: a final period leaves the entity
    assert "London -X- _ B-LOC\n. -X- _ O\n" in ours
    assert "Acme -X- _ B-ORG\nCorp. -X- _ I-ORG\n, -X- _ O\n" not in ours  # "Corp." is mid-text: one token
    assert ours.index("Italy -X- _ B-LOC") < ours.index("Rome -X- _ B-LOC")  # the newer annotation first
    assert "Skipped" not in ours
    # both SDK generations get the same file
    legacy = conll_project.export_tasks(export_type="CONLL2003", download_all_tasks=True,
                                        export_location=str(tmp_path / "legacy.conll"))
    assert legacy.read_text(encoding="utf8") == expected
    current = b"".join(sdk.projects.exports.download_sync(pid, export_type="CONLL2003", download_all_tasks=True))
    assert current.decode() == expected


def test_tokens_match_the_treebank_rules():
    """Our tokeniser against NLTK's (the converter's), on more texts than a project needs."""
    from nltk.tokenize import TreebankWordTokenizer

    from app.data_export.tokens import token_spans

    texts = [t for t, _ in TRICKY] + [
        '"Quoted" start', "end with quote.\"", "He's gonna wanna go, cannot 'tis 'twas.", "a--b -- c",
        "(London.)", "x...", "I.B.M.", "3,000,000 and 1.5.", "'single' quotes' here", "''double'' ``tick``",
        "", "   ", "a\u00a0b\u2003c", "emoji 🙂 ok.", "Mr. O'Neil's dog's bone.", "Hello, world!?", "日本語の文。",
        "can't won't shan't ain't y'all", "<tag> [x] {y} (z)", "ends with comma,", "a:b, c: d", "price: $5, 10%."]
    tokenizer = TreebankWordTokenizer()
    for text in texts:
        assert token_spans(text) == list(tokenizer.span_tokenize(text)), text
