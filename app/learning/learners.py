"""The built-in model's learners: what is fitted for each control, how well it does in
cross-validation, and what it predicts. Nothing here touches the database.

- `<Choices>`: TF-IDF over words and character n-grams (so a script without spaces has features
  too), then a logistic regression whose probabilities are calibrated (sigmoid, by
  cross-validation) once each choice has a few examples. Several choices: one such model per choice.
- `<Labels>`: a linear-chain CRF (CRFsuite) over tokens with their code-point offsets, tagged
  B-/I-/O. A predicted span starts at its first token's first code point and ends after its last
  token's, on the very string the annotator saw.

scikit-learn, SciPy and CRFsuite are imported inside the functions that fit or predict: only the
worker process that trains (or `labelwell model serve`) ever loads them, never the web process."""

from __future__ import annotations

import os
import random
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from app.learning.targets import Target, targets, text_of
from app.ml.quality import Counts
from components.base import new_id
from components.variables import resolve

MIN_EXAMPLES = 8  # fewer, and cross-validated numbers would mean nothing
MIN_PER_CHOICE = 2  # a choice needs this many examples before it can be told apart
CALIBRATE_FROM = 3  # examples of each choice before probabilities are calibrated by cross-validation
FOLDS = 5
SEED = 7
THRESHOLD = 0.5  # several choices: each one is picked when its probability reaches this
# a token: a run of letters, digits and combining marks (so "é" written as e + U+0301 stays one
# word), or any other single visible character (punctuation, each code point of an emoji)
TOKEN = re.compile(r"[\w\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+|[^\w\s]")
CRF_PARAMS = {"c1": 0.05, "c2": 0.05, "max_iterations": 120, "feature.possible_transitions": True}


@dataclass
class Fitted:
    """One control's fitted model (pickled into the version with the others)."""

    target: Target
    kind: str  # "single", "multiple" or "crf"
    estimator: Any = None  # scikit-learn: a pipeline (single) or a one-vs-rest pipeline (multiple)
    classes: list[str] = field(default_factory=list)
    crf: bytes = b""  # the CRFsuite model file


# -- training sets -------------------------------------------------------------------------------

def answers_of(target: Target, result: list[dict], text: str) -> list | None:
    """What an annotation says for this control: the chosen labels, or the spans as (start, end,
    label). None when it says nothing to learn from (no choice made; spans on another text)."""
    mine = [r for r in result or [] if isinstance(r, dict) and r.get("from_name") == target.control
            and isinstance(r.get("value"), dict)]
    if target.kind == "choices":
        chosen = sorted({c for r in mine for c in r["value"].get("choices") or [] if c in target.labels})
        if not chosen or (not target.multiple and len(chosen) > 1):
            return None
        return chosen
    spans = []
    for r in mine:
        start, end = r["value"].get("start"), r["value"].get("end")
        if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text):
            spans += [(start, end, label) for label in r["value"].get("labels") or [] if label in target.labels]
    return sorted(set(spans))


def not_ready(target: Target, answers: list[list]) -> str | None:
    """Why this control cannot be trained yet, in words for the Model page; None when it can."""
    if len(answers) < MIN_EXAMPLES:
        return f"{target.control}: {len(answers)} annotated task(s) so far; it needs at least {MIN_EXAMPLES}."
    return _unlearnable(target, answers)


def _unlearnable(target: Target, answers: list[list]) -> str | None:
    if target.kind == "spans":
        return None if any(answers) else f"{target.control}: no annotated task has a span yet."
    counts = Counter(label for chosen in answers for label in chosen)
    if target.multiple:
        if _yes_and_no(target, answers):
            return None
        return (f"{target.control}: no choice has been both picked and left out {MIN_PER_CHOICE}+ times yet "
                f"(picked: {', '.join(f'{label} ({counts[label]})' for label in target.labels if counts[label]) or 'none'}"
                f", of {len(answers)}).")
    usable = [label for label in target.labels if counts[label] >= MIN_PER_CHOICE]
    if len(usable) >= 2:
        return None
    only = ", ".join(f"{label} ({counts[label]})" for label in target.labels if counts[label]) or "none"
    return f"{target.control}: it needs at least two choices with {MIN_PER_CHOICE}+ examples each; so far: {only}."


def _yes_and_no(target: Target, answers: list[list]) -> list[str]:
    """Of several choices, those with enough examples both ways to be told apart."""
    counts = Counter(label for chosen in answers for label in chosen)
    return [label for label in target.labels
            if counts[label] >= MIN_PER_CHOICE and len(answers) - counts[label] >= MIN_PER_CHOICE]


def sample(keys: list[Any], strata: list[str], cap: int, seed: int = SEED) -> list[int]:
    """Indexes of at most `cap` examples, each stratum (a choice) keeping its share, at least one."""
    if len(keys) <= cap:
        return list(range(len(keys)))
    groups: dict[str, list[int]] = {}
    for index, stratum in enumerate(strata):
        groups.setdefault(stratum, []).append(index)
    rng = random.Random(seed)
    chosen: list[int] = []
    for members in groups.values():
        rng.shuffle(members)
        chosen += members[:max(1, round(cap * len(members) / len(keys)))]
    return sorted(chosen[:cap])


# -- choices -------------------------------------------------------------------------------------

def _features() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    return FeatureUnion([
        ("words", TfidfVectorizer(token_pattern=r"(?u)\w+", ngram_range=(1, 2), sublinear_tf=True, min_df=1)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=1,
                                  max_features=200_000)),
    ])


def _single(counts: Counter) -> Any:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    linear = LogisticRegression(C=10.0, max_iter=1000)
    folds = min(3, min(counts.values()))
    if folds >= CALIBRATE_FROM:
        return make_pipeline(_features(), CalibratedClassifierCV(linear, method="sigmoid", cv=folds))
    return make_pipeline(_features(), linear)  # too few to calibrate: the regression's own probabilities


def _multiple() -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline

    return make_pipeline(_features(), OneVsRestClassifier(LogisticRegression(C=10.0, max_iter=1000,
                                                                             solver="liblinear")))


def _fit_choices(target: Target, texts: list[str], answers: list[list[str]]) -> Fitted:
    import warnings

    if target.multiple:
        import numpy

        classes = _yes_and_no(target, answers)  # a choice picked always (or never) is not learnt
        matrix = numpy.array([[int(label in a) for label in classes] for a in answers]).reshape(len(answers), -1)
        estimator = _multiple()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a choice picked every time is learnt as "always"
            estimator.fit(texts, matrix)
        return Fitted(target, "multiple", estimator, classes)
    counts = Counter(a[0] for a in answers)
    keep = [i for i, a in enumerate(answers) if counts[a[0]] >= MIN_PER_CHOICE]
    labels = [answers[i][0] for i in keep]
    estimator = _single(Counter(labels))
    estimator.fit([texts[i] for i in keep], labels)
    return Fitted(target, "single", estimator, [str(c) for c in estimator.classes_])


def _predict_choices(model: Fitted, texts: list[str]) -> list[tuple[list[str], float, list[float]]]:
    """(chosen, confidence, each chosen one's probability) per text. The confidence is the margin:
    the chosen choice's probability less the runner-up's (with several choices, the narrowest of
    the per-choice yes-or-no margins). Ordering the queue by it asks first about the tasks between
    two answers, which learns faster than by the top probability alone (bench/learning_loop.py)."""
    probabilities = model.estimator.predict_proba(texts)
    out = []
    for row in probabilities:
        row = [float(p) for p in row]
        if model.kind == "single":
            ranked = sorted(range(len(row)), key=lambda i: -row[i])
            second = row[ranked[1]] if len(ranked) > 1 else 0.0
            out.append(([model.classes[ranked[0]]], row[ranked[0]] - second, [row[ranked[0]]]))
        else:
            chosen = [(label, p) for label, p in zip(model.classes, row) if p >= THRESHOLD]
            margin = min(abs(2 * p - 1) for p in row) if row else 1.0
            out.append(([c for c, _ in chosen], margin, [p for _, p in chosen]))
    return out


# -- spans ---------------------------------------------------------------------------------------

def tokens(text: str) -> list[tuple[int, int]]:
    """Tokens as (start, end) code-point offsets into `text`."""
    return [m.span() for m in TOKEN.finditer(text)]


def _shape(word: str) -> str:
    return re.sub(r"(.)\1+", r"\1", re.sub(r"[^\W\d_]", lambda m: "X" if m.group().isupper() else "x",
                                           re.sub(r"\d", "d", word)))


def _token_features(text: str, spans: list[tuple[int, int]]) -> list[list[str]]:
    words = [text[s:e] for s, e in spans]
    out = []
    for i, word in enumerate(words):
        low = word.lower()
        feats = ["bias", f"w={low}", f"p3={low[:3]}", f"s3={low[-3:]}", f"s2={low[-2:]}", f"shape={_shape(word)}",
                 f"title={word.istitle()}", f"upper={word.isupper()}", f"digit={word.isdigit()}",
                 f"alpha={word.isalpha()}", f"gap={spans[i][0] > 0 and text[spans[i][0] - 1].isspace()}"]
        for offset in (-2, -1, 1, 2):
            j = i + offset
            if 0 <= j < len(words):
                feats += [f"{offset}w={words[j].lower()}", f"{offset}title={words[j].istitle()}",
                          f"{offset}shape={_shape(words[j])}"]
            else:
                feats.append(f"{offset}edge")
        out.append(feats)
    return out


def _bio(spans: list[tuple[int, int]], gold: list[tuple[int, int, str]]) -> list[str]:
    """B-/I-/O per token; a token overlapping an annotated span takes its label."""
    tags = ["O"] * len(spans)
    for start, end, label in sorted(gold):
        inside = [i for i, (s, e) in enumerate(spans) if s < end and e > start and tags[i] == "O"]
        for n, i in enumerate(inside):
            tags[i] = ("B-" if n == 0 else "I-") + label
    return tags


def _fit_spans(target: Target, texts: list[str], answers: list[list[tuple[int, int, str]]]) -> Fitted:
    import pycrfsuite

    trainer = pycrfsuite.Trainer(verbose=False)
    for text, gold in zip(texts, answers):
        spans = tokens(text)
        if spans:
            trainer.append(_token_features(text, spans), _bio(spans, gold))
    trainer.set_params(CRF_PARAMS)
    handle, path = tempfile.mkstemp(suffix=".crfsuite")
    os.close(handle)
    try:
        trainer.train(path)
        with open(path, "rb") as file:
            return Fitted(target, "crf", crf=file.read())
    finally:
        os.unlink(path)


def _predict_spans(model: Fitted, texts: list[str]) -> list[tuple[list[tuple[int, int, str, float]], float]]:
    """(spans with their scores, confidence of the whole tagging) per text."""
    import pycrfsuite

    tagger = pycrfsuite.Tagger()
    tagger.open_inmemory(model.crf)
    out = []
    try:
        for text in texts:
            spans = tokens(text)
            if not spans:
                out.append(([], 1.0))
                continue
            tagger.set(_token_features(text, spans))
            tags = tagger.tag()
            confidence = float(tagger.probability(tags))
            found, current = [], None
            for i, tag in enumerate(tags):
                label = tag[2:]
                if tag.startswith("I-") and current is not None and current[2] == label:
                    current[1] = i
                    continue
                if current is not None:
                    found.append(current)
                current = [i, i, label] if tag != "O" else None
            if current is not None:
                found.append(current)
            regions = [(spans[a][0], spans[b][1], label,
                        sum(tagger.marginal(tags[i], i) for i in range(a, b + 1)) / (b - a + 1))
                       for a, b, label in found if label in model.target.labels]
            out.append((regions, confidence))
    finally:
        tagger.close()
    return out


# -- one control, whichever kind -------------------------------------------------------------------

def fit(target: Target, texts: list[str], answers: list[list]) -> Fitted:
    if target.kind == "spans":
        return _fit_spans(target, texts, answers)
    return _fit_choices(target, texts, answers)


def predict(model: Fitted, texts: list[str]) -> list[tuple[list[dict], float]]:
    """Result items (Label Studio's shape) and a confidence in [0, 1] per text."""
    target = model.target
    out = []
    if model.kind == "crf":
        for text, (spans, confidence) in zip(texts, _predict_spans(model, texts)):
            items = [{"id": new_id(), "from_name": target.control, "to_name": target.to_name, "type": "labels",
                      "origin": "prediction", "score": round(score, 4),
                      "value": {"start": s, "end": e, "text": text[s:e], "labels": [label]}}
                     for s, e, label, score in spans]
            out.append((items, confidence))
        return out
    for chosen, confidence, probabilities in _predict_choices(model, texts):
        # the item's score is the choice's probability (the least likely one's, of several)
        items = [{"id": new_id(), "from_name": target.control, "to_name": target.to_name, "type": "choices",
                  "origin": "prediction", "score": round(min(probabilities), 4),
                  "value": {"choices": chosen}}] if chosen else []
        out.append((items, confidence))
    return out


def _counts(pairs: list[tuple[list, list]]) -> tuple[dict[str, Counts], int]:
    per_label: dict[str, Counts] = {}
    exact = 0
    for predicted, gold in pairs:
        exact += sorted(predicted) == sorted(gold)
        p, g = Counter(predicted), Counter(gold)
        for key in p.keys() | g.keys():
            label = key[2] if isinstance(key, tuple) else key
            tp = min(p[key], g[key])
            per_label[label] = per_label.get(label, Counts()) + Counts(tp, p[key] - tp, g[key] - tp)
    return per_label, exact


def cross_validate(target: Target, texts: list[str], answers: list[list]) -> dict[str, Any]:
    """Precision, recall and F1 per label over `FOLDS`-fold cross-validation (stratified for one
    choice), and the share of examples predicted exactly as annotated."""
    from sklearn.model_selection import KFold, StratifiedKFold

    if target.kind == "choices" and not target.multiple:
        counts = Counter(a[0] for a in answers)
        keep = [i for i, a in enumerate(answers) if counts[a[0]] >= MIN_PER_CHOICE]
        texts, answers = [texts[i] for i in keep], [answers[i] for i in keep]
        folds = min(FOLDS, min(Counter(a[0] for a in answers).values()))
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
        splits = splitter.split(texts, [a[0] for a in answers])
    else:
        folds = min(FOLDS, len(texts))
        splits = KFold(n_splits=folds, shuffle=True, random_state=SEED).split(texts)
    pairs: list[tuple[list, list]] = []
    for train, test in splits:
        fold_answers = [answers[i] for i in train]
        if _unlearnable(target, fold_answers):
            continue  # a fold that lacks a choice altogether teaches nothing about it
        model = fit(target, [texts[i] for i in train], fold_answers)
        for i, (items, _) in zip(test, predict(model, [texts[i] for i in test])):
            pairs.append((_answer_of_items(target, items), answers[i]))
    per_label, exact = _counts(pairs)
    total = sum(per_label.values(), Counts())
    return {"folds": folds, "compared": len(pairs), "exact": exact / len(pairs) if pairs else None,
            "labels": {label: {"precision": c.precision, "recall": c.recall, "f1": c.f1, "support": c.tp + c.fn}
                       for label, c in sorted(per_label.items())},
            "micro": {"precision": total.precision, "recall": total.recall, "f1": total.f1}}


def _answer_of_items(target: Target, items: list[dict]) -> list:
    if target.kind == "choices":
        return sorted(c for item in items for c in item["value"]["choices"])
    return sorted((i["value"]["start"], i["value"]["end"], i["value"]["labels"][0]) for i in items)


# -- a version: every control it learnt ------------------------------------------------------------

def predict_tasks(models: list[Fitted], config: Any, datas: list[dict]) -> list[tuple[list[dict], float] | str]:
    """A prediction per task data: (result, score), the score being the least sure control's; or
    why the task could not be read. Only what the current config still has is predicted: a
    control since removed is skipped, and a label since removed is dropped."""
    live = {(t.control, t.kind): t for t in targets(config)[0]}
    usable = [(m, live[(m.target.control, m.target.kind)]) for m in models if (m.target.control, m.target.kind) in live]
    texts: dict[int, list[str]] = {}
    out: list[Any] = [([], 1.0) for _ in datas]
    for index, data in enumerate(datas):
        try:
            texts[index] = [text_checked(current, config, data) for _, current in usable]
        except ValueError as exc:
            out[index] = str(exc)
    readable = sorted(texts)
    for column, (model, current) in enumerate(usable if readable else []):
        for index, (items, confidence) in zip(readable, predict(model, [texts[i][column] for i in readable])):
            result, score = out[index]
            kept = [item for item in items if all(label in current.labels for label in _labels_of(item))]
            out[index] = (result + kept, min(score, confidence))
    return out


def _labels_of(item: dict) -> list[str]:
    return item["value"].get("choices") or item["value"].get("labels") or []


def text_checked(target: Target, config: Any, data: dict) -> str:
    """The task's text for this control, or ValueError naming what is missing."""
    written = config.by_name[target.to_name].get("value")
    if target.object_tag == "Paragraphs" and not isinstance(resolve(written, data), list):
        raise ValueError(f"its data at {written} is not a list of paragraphs")  # else it would read as ""
    try:
        text = text_of(target, config, data)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ValueError(f"its data for {written} cannot be read as text ({type(exc).__name__})") from None
    if not isinstance(text, str) or (text == written and written.startswith("$")):
        raise ValueError(f"its data has no text at {written}")  # a variable not in the data stays as written
    return text
