"""How fast the config engine is on big inputs: parse, render, collect and check.

A 100 KB text with 1,000 spans, and a config with 200 labels, rendered and checked. Compared, in
the same run, with the floor for the same work: joining the text's pieces with html.escape (what
any renderer must at least do) and json.loads of the result.

    .venv/bin/python bench/render.py [--repeat 20]
"""

from __future__ import annotations

import argparse
import html
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from components import parse_config  # noqa: E402
from tests.components.helpers import form_of  # noqa: E402

WORDS = "the of and to in is was for on that with as by at from Zoë ACME 東京 naïve café 🚀".split()


def make_text(size: int, rng: random.Random) -> str:
    out, length = [], 0
    while length < size:
        word = rng.choice(WORDS)
        out.append(word)
        length += len(word) + 1
    return " ".join(out)


def timed(fn, repeat: int) -> float:
    """Median milliseconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--spans", type=int, default=1000)
    args = parser.parse_args()
    rng = random.Random(7)

    labels = "".join(f'<Label value="L{i}"/>' for i in range(200))
    xml = f'<View><Labels name="label" toName="text">{labels}</Labels><Text name="text" value="$text"/></View>'
    text = make_text(100_000, rng)
    starts = sorted(rng.sample(range(0, len(text) - 20), args.spans))
    results = [{"id": f"r{i}", "from_name": "label", "to_name": "text", "type": "labels",
                "value": {"start": s, "end": s + 10, "text": text[s:s + 10], "labels": [f"L{i % 200}"]}}
               for i, s in enumerate(starts)]
    config = parse_config(xml)
    data = {"text": text}
    page = str(config.render(data, results))
    form = form_of(page)

    rows = [
        ("parse + validate (200 labels)", timed(lambda: parse_config(xml), args.repeat)),
        ("render 100 KB text, no spans", timed(lambda: config.render(data), args.repeat)),
        ("render a short text with the 200-label palette", timed(lambda: config.render({"text": "Zoë"}), args.repeat)),
        (f"render 100 KB text, {args.spans} spans", timed(lambda: config.render(data, results), args.repeat)),
        (f"collect {args.spans} regions from the form", timed(lambda: config.collect(data, form), args.repeat)),
        (f"check {args.spans} results", timed(lambda: config.check_results(results, data), args.repeat)),
    ]
    pieces = [text[i:i + 100] for i in range(0, len(text), 100)]
    payload = json.dumps(results)
    floor_render = timed(lambda: "".join(f"<span>{html.escape(p)}</span>" for p in pieces), args.repeat)
    floor_json = timed(lambda: json.loads(payload), args.repeat)
    print(f"text {len(text):,} characters, page {len(page):,} bytes, median of {args.repeat} runs")
    print(f"{'floor: escape the text in pieces':44s} {floor_render:8.2f} ms")
    print(f"{'floor: json.loads the result':44s} {floor_json:8.2f} ms")
    for name, ms in rows:
        print(f"{name:44s} {ms:8.2f} ms")


if __name__ == "__main__":
    main()
