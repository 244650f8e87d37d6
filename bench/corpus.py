"""Seeded labelled corpora for the built-in model's benchmark and tests: no package here ships a
labelled text corpus without downloading it, so they are generated, with their difficulty stated.

`topics`: short documents of four topics, each topic of SUBTOPICS subtopics with words of their
own, the k-th subtopic 1/k as common as the first. Each document has a clarity drawn uniformly
from [CLARITY_LOW, CLARITY_HIGH]: that share of its words comes from its subtopic, STRAY of the rest
from another topic's, the remainder from shared filler. A model that has not met a rare subtopic
is unsure of its documents, which is where asking for what it is least sure of gains on asking at
random.

`entities`: sentences with people and places in several scripts, after emoji and accents, with
the gold spans as code-point offsets of the very string."""

from __future__ import annotations

import random

TOPICS = ("Sport", "Science", "Cooking", "Travel")
CLARITY_LOW, CLARITY_HIGH = 0.15, 0.5
SUBTOPICS, SUBTOPIC_WORDS = 15, 8
STRAY = 0.15  # of the words not the document's own, the share from another topic
LENGTH = 12
_SYLLABLES = ("ka", "lo", "mi", "re", "tu", "sa", "ne", "po", "vi", "da", "ru", "fe", "zo", "ni", "ba", "te")


def _words(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    out = []
    while len(out) < count:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3)))
        if word not in taken:
            taken.add(word)
            out.append(word)
    return out


def topics(count: int, seed: int = 1,
           clarity: tuple[float, float] = (CLARITY_LOW, CLARITY_HIGH)) -> list[tuple[str, str]]:
    """(text, topic) pairs; `clarity` the range each document's clarity is drawn from."""
    rng = random.Random(seed)
    vocab_rng = random.Random(12345)  # one vocabulary for every seed: the same language, other documents
    taken: set[str] = set()
    # each topic speaks of SUBTOPICS things, each with words of its own, the k-th 1/k as often
    vocab = {topic: [_words(vocab_rng, SUBTOPIC_WORDS, taken) for _ in range(SUBTOPICS)] for topic in TOPICS}
    weights = [1 / (k + 1) for k in range(SUBTOPICS)]
    filler = _words(vocab_rng, 300, taken)
    out = []
    for _ in range(count):
        topic = rng.choice(TOPICS)
        words_of = rng.choices(vocab[topic], weights)[0]
        other = rng.choice(vocab[rng.choice([t for t in TOPICS if t != topic])])
        share = rng.uniform(*clarity)
        words = []
        for _ in range(LENGTH):
            draw = rng.random()
            if draw < share:
                words.append(rng.choice(words_of))
            elif draw < share + (1 - share) * STRAY:
                words.append(rng.choice(other))
            else:
                words.append(rng.choice(filler))
        out.append((" ".join(words).capitalize() + ".", topic))
    return out


PEOPLE = ("José", "Zoë", "Ngozi", "Bjørn", "Siobhán", "Dmitri", "Ayşe", "François", "Mãe", "Łukasz")
PLACES = ("Zürich", "São Paulo", "Köln", "Reykjavík", "Kraków", "Île-de-France", "Malmö", "Ōsaka", "Tromsø", "Lagos")
OPENERS = ("😀", "👍🏽", "🇨🇭", "👩‍🔬", "✨", "", "¡Hola!", "«Note»")
VERBS = ("flew to", "moved to", "wrote from", "visited", "came back from", "lives near")
TAILS = ("last week.", "again 🎉.", "with friends.", "in May.", "— finally!", "for work 💼.")


def entities(count: int, seed: int = 1) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """(text, [(start, end, label)]) with PER and LOC spans; offsets count code points."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        person, place = rng.choice(PEOPLE), rng.choice(PLACES)
        head = f"{rng.choice(OPENERS)} ".lstrip() if rng.random() < 0.8 else ""
        text = f"{head}{person} {rng.choice(VERBS)} {place} {rng.choice(TAILS)}"
        p = text.index(person)
        q = text.index(place, p + len(person))
        out.append((text, [(p, p + len(person), "PER"), (q, q + len(place), "LOC")]))
    return out
