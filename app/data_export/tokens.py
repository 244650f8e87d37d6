"""CoNLL 2003 tokens and IOB tags, as Label Studio's converter makes them: the Penn Treebank word
rules (NLTK's TreebankWordTokenizer, which the converter calls) and the converter's own way of
giving each token the tag of the span it touches. Written here from those rules, so that a model
trained on our export sees the tokens it would have seen on Label Studio's.

The rules, in order (each a substitution that pads a piece with spaces; the text is then split on
whitespace and each token found again in the text, left to right, for its offsets):
- a leading `"` and a `"` or `''` after a space or an opening bracket open a quote;
- `:` and `,` split off unless a digit follows (so `3,36` stays whole); `...` splits off;
  `; @ # $ % &` split off; `?` and `!` split off; a `'` before a space splits off;
- a period splits off only at the very end of the text (before any closing brackets or quotes):
  `London.` mid-text stays one token, `London.` ending the text becomes `London` `.`;
- brackets `[](){}<>` split off, and `--`;
- closing quotes and the endings `'s 'm 'd ' 'll 're 've n't` split off when a space follows;
- the contractions `cannot d'ye gimme gonna gotta lemme more'n wanna 'tis 'twas` split in two.
"""

from __future__ import annotations

import re
from typing import Any

Rule = tuple["re.Pattern[str]", str]

OPENING_QUOTES: list[Rule] = [
    (re.compile(r"^\""), r"``"),
    (re.compile(r"(``)"), r" \1 "),
    (re.compile(r"([ \(\[{<])(\"|\'{2})"), r"\1 `` "),
]
PUNCTUATION: list[Rule] = [
    (re.compile(r"([:,])([^\d])"), r" \1 \2"),
    (re.compile(r"([:,])$"), r" \1 "),
    (re.compile(r"\.\.\."), r" ... "),
    (re.compile(r"[;@#$%&]"), r" \g<0> "),
    (re.compile(r'([^\.])(\.)([\]\)}>"\']*)\s*$'), r"\1 \2\3 "),  # the period ending the text
    (re.compile(r"[?!]"), r" \g<0> "),
    (re.compile(r"([^'])' "), r"\1 ' "),
    (re.compile(r"[\]\[\(\)\{\}\<\>]"), r" \g<0> "),
    (re.compile(r"--"), r" -- "),
]
CLOSING: list[Rule] = [
    (re.compile(r"''"), " '' "),
    (re.compile(r'"'), " '' "),
    (re.compile(r"([^' ])('[sS]|'[mM]|'[dD]|') "), r"\1 \2 "),
    (re.compile(r"([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) "), r"\1 \2 "),
]
CONTRACTIONS = [re.compile(p) for p in (
    r"(?i)\b(can)(not)\b", r"(?i)\b(d)('ye)\b", r"(?i)\b(gim)(me)\b", r"(?i)\b(gon)(na)\b",
    r"(?i)\b(got)(ta)\b", r"(?i)\b(lem)(me)\b", r"(?i)\b(more)('n)\b", r"(?i)\b(wan)(na)(?=\s)",
    r"(?i) ('t)(is)\b", r"(?i) ('t)(was)\b")]
QUOTES = re.compile(r"``|'{2}|\"")


def words(text: str) -> list[str]:
    for pattern, replacement in OPENING_QUOTES + PUNCTUATION:
        text = pattern.sub(replacement, text)
    text = f" {text} "
    for pattern, replacement in CLOSING:
        text = pattern.sub(replacement, text)
    for pattern in CONTRACTIONS:
        text = pattern.sub(r" \1 \2 ", text)
    return text.split()


def token_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each token in the text."""
    tokens = words(text)
    if '"' in text or "''" in text:  # quotes became `` and '': put back the ones the text has
        found = iter(m.group() for m in QUOTES.finditer(text))
        tokens = [next(found) if token in ('"', "``", "''") else token for token in tokens]
    spans, point = [], 0
    for token in tokens:
        start = text.index(token, point)
        point = start + len(token)
        spans.append((start, point))
    return spans


def tokens_and_tags(text: str, spans: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(token, tag) pairs. Spans (`start`, `end`, `labels`) are taken in order of start; a token
    that overlaps the current span takes its first label, B- on the first such token and I- after;
    a span is left once a token starts past its end."""
    tokens = [(text[start:end], start) for start, end in token_spans(text)]
    if not spans or not all(s.get("start") is not None and s.get("end") is not None for s in spans):
        return [(token, "O") for token, _ in tokens]
    waiting = sorted(spans, key=lambda s: s["start"])
    span = waiting.pop(0)
    first, last, prefix = span["start"], span["end"] - 1, "B-"
    out = []
    for token, start in tokens:
        end = start + len(token) - 1
        if start > last:
            while waiting:
                span = waiting.pop(0)
                first, last, prefix = span["start"], span["end"] - 1, "B-"
                if start <= last:
                    break
        if end < first or not span.get("labels"):
            out.append((token, "O"))
        elif first <= end and last >= start:
            out.append((token, prefix + span["labels"][0]))
            prefix = "I-"
        else:
            out.append((token, "O"))
    return out
