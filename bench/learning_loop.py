"""Does the learning loop pay? The built-in model's own learners (app/learning/learners.py, what the
worker fits) replayed on a labelled corpus as if annotators labelled it in queue order: after
every --step labels it retrains and records, on the held-out rest,

(a) quality: macro F1 of the choice it predicts;
(b) pre-labels accepted unchanged: the share of held-out tasks whose pre-label is exactly the answer;

once with the queue in uncertainty order (the least sure prediction first, as the project's
"Uncertainty sampling" hands out) and once in random order, from the same first --step labels.

The corpus is bench/corpus.py's `topics`, generated and seeded (no package ships a labelled text
corpus without downloading it): four topics, each of 15 subtopics with words of their own and the
k-th subtopic 1/k as common, so rare subtopics are seen late in random order; each document's
clarity (the share of its words from its subtopic) is drawn from [0.15, 0.5], the rest filler and
a stray topic's words. A model trained on all 3,000 scores macro F1 0.84: that is the corpus's
difficulty. A second, clean corpus (clarity [0.4, 0.8]) answers "are most pre-labels accepted at
500 labels?".

Then, with --queue-tasks (default 1,000,000; 0 skips it), the queue at scale: a server is started,
that many tasks are imported with a scored prediction each, and `GET /api/projects/{id}/next` (each
followed by a submit) is timed with uncertainty sampling against sequential sampling on the same
project and against a Litestar hello-world round trip in the same run.

Goals printed against the figures: uncertainty order reaches random order's final quality with at
most two-thirds of the labels; on the clean corpus, at 500 labels most pre-labels are accepted.

    .venv/bin/python bench/learning_loop.py                                     # 3,000 + 1,000 held out
    .venv/bin/python bench/learning_loop.py --pool 300 --test 100 --step 25 --budget 100 --queue-tasks 2000  # smoke
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.learning import learners  # noqa: E402
from app.learning.targets import Target  # noqa: E402
from app.ml.quality import chart_svg  # noqa: E402
from bench.corpus import CLARITY_HIGH, CLARITY_LOW, SUBTOPICS, TOPICS, topics  # noqa: E402
from bench.engines import on_engines  # noqa: E402
from bench.http_roundtrip import start_hello, timed  # noqa: E402
from tests.helpers import launch  # noqa: E402

CONFIG = ('<View><Text name="text" value="$text"/><Choices name="topic" toName="text">'
          + "".join(f'<Choice value="{t}"/>' for t in TOPICS) + "</Choices></View>")
TOKEN = "bench-learning-token"
TARGET = Target("choices", "topic", "text", "Text", TOPICS)
CLEAN = (0.4, 0.8)


def macro_f1(predicted: list[str], gold: list[str]) -> float:
    scores = []
    for label in TOPICS:
        tp = sum(p == g == label for p, g in zip(predicted, gold))
        fp = sum(p == label != g for p, g in zip(predicted, gold))
        fn = sum(g == label != p for p, g in zip(predicted, gold))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


def evaluate(model: learners.Fitted, test: list[tuple[str, str]]) -> tuple[float, float]:
    answers = learners.predict(model, [t for t, _ in test])
    predicted = [items[0]["value"]["choices"][0] if items else "" for items, _ in answers]
    gold = [g for _, g in test]
    return macro_f1(predicted, gold), sum(p == g for p, g in zip(predicted, gold)) / len(gold)


def replay(pool: list[tuple[str, str]], test: list[tuple[str, str]], step: int, budget: int, order: str,
           seed: int) -> list[dict]:
    """The curve of one queue order: a point per retraining."""
    rng = random.Random(seed)
    remaining = list(range(len(pool)))
    rng.shuffle(remaining)
    labelled = remaining[:step]  # the same first labels for both orders (the same seed)
    remaining = remaining[step:]
    points = []
    while True:
        model = learners.fit(TARGET, [pool[i][0] for i in labelled], [[pool[i][1]] for i in labelled])
        quality, accepted = evaluate(model, test)
        points.append({"labels": len(labelled), "quality": quality, "accepted": accepted})
        if len(labelled) >= budget or not remaining:
            return points
        if order == "uncertainty":
            confidence = [c for _, c in learners.predict(model, [pool[i][0] for i in remaining])]
            ranked = sorted(range(len(remaining)), key=lambda k: (confidence[k], remaining[k]))
            picked = {remaining[k] for k in ranked[:step]}
        else:
            picked = set(remaining[:step])
        labelled += sorted(picked)
        remaining = [i for i in remaining if i not in picked]


def labels_to_reach(points: list[dict], quality: float) -> int | None:
    return next((p["labels"] for p in points if p["quality"] >= quality), None)


def _next_p50(api: httpx.Client, project: int, n: int) -> float:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        task = api.get(f"/api/projects/{project}/next")
        samples.append(time.perf_counter() - start)
        assert task.status_code == 200, task.text[:200]
        api.post(f"/api/tasks/{task.json()['id']}/annotations", json={"result": [
            {"from_name": "topic", "to_name": "text", "type": "choices", "value": {"choices": [TOPICS[0]]}}]})
    return statistics.median(samples)


def queue_at_scale(engine: str, database_url: str, tasks: int, folder: Path, hello_url: str) -> None:
    """Next-task latency with uncertainty sampling over `tasks` scored predictions, as ratios."""
    srv = launch(folder / f"data-{engine}", database_url, {"LABELWELL_USERNAME": "bench@example.com",
                                                            "LABELWELL_PASSWORD": "bench-password",
                                                            "LABELWELL_USER_TOKEN": TOKEN})
    try:
        with srv.client(token=TOKEN, timeout=1800) as api:
            project = api.post("/api/projects", json={"title": "Queue", "label_config": CONFIG,
                                                       "model_version": "builtin-1"}).json()["id"]
            rng = random.Random(3)
            path = folder / "scored.jsonl"
            with open(path, "w") as fh:
                for i in range(tasks):
                    fh.write(json.dumps({"data": {"text": f"document {i}"}, "predictions": [
                        {"model_version": "builtin-1", "score": round(rng.random(), 6), "result": [
                            {"from_name": "topic", "to_name": "text", "type": "choices",
                             "value": {"choices": [rng.choice(TOPICS)]}}]}]}) + "\n")
            started = time.perf_counter()
            with open(path, "rb") as fh:
                answer = api.post(f"/api/projects/{project}/import?filename=scored.jsonl", content=fh,
                                  headers={"Content-Type": "application/octet-stream"})
            assert answer.status_code == 201, answer.text[:300]
            imported = time.perf_counter() - started
            path.unlink()
            with httpx.Client(base_url=hello_url) as client:
                hello = timed(client, "GET", "/", 200) / 1000
            sequential = _next_p50(api, project, 30)
            api.patch(f"/api/projects/{project}", json={"sampling": "Uncertainty sampling"})
            uncertain = _next_p50(api, project, 30)
        print(f"[{engine}] queue over {tasks:,} scored predictions (imported in {imported:.1f} s): next p50 "
              f"uncertainty {uncertain * 1000:.2f} ms, sequential {sequential * 1000:.2f} ms "
              f"({uncertain / sequential:.2f}x), hello floor {hello * 1000:.2f} ms ({uncertain / hello:.1f}x the floor)")
    finally:
        srv.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pool", type=int, default=3000, help="documents annotators may label")
    parser.add_argument("--test", type=int, default=1000, help="held-out documents the model is scored on")
    parser.add_argument("--step", type=int, default=50, help="labels between retrainings")
    parser.add_argument("--budget", type=int, default=1000, help="labels in all")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--queue-tasks", type=int, default=1_000_000, help="tasks for the queue at scale (0: skip)")
    parser.add_argument("--engine", default="sqlite", choices=("sqlite", "postgres", "both"))
    parser.add_argument("--svg", type=Path, default=None, help="write the chart here (default: print where none)")
    args = parser.parse_args()

    corpus = topics(args.pool + args.test, seed=args.seed)
    pool, test = corpus[:args.pool], corpus[args.pool:]
    started = time.monotonic()
    curves = {order: replay(pool, test, args.step, args.budget, order, args.seed) for order in ("uncertainty", "random")}
    ceiling = evaluate(learners.fit(TARGET, [t for t, _ in pool], [[g] for _, g in pool]), test)[0]
    print(f"corpus: {len(TOPICS)} topics of {SUBTOPICS} subtopics each, clarity {CLARITY_LOW}-{CLARITY_HIGH}; "
          f"{args.pool:,} to label, {args.test:,} held out; "
          f"a model trained on all {args.pool:,} scores macro F1 {ceiling:.3f} (the corpus's difficulty)")
    print(f"{'labels':>7} | {'uncertainty F1':>14} | {'accepted':>8} | {'random F1':>9} | {'accepted':>8}")
    for u, r in zip(*curves.values()):
        print(f"{u['labels']:>7} | {u['quality']:>14.3f} | {u['accepted']:>8.1%} | {r['quality']:>9.3f} | "
              f"{r['accepted']:>8.1%}")
    final = curves["random"][-1]
    needed = labels_to_reach(curves["uncertainty"], final["quality"])
    share = needed / final["labels"] if needed else None
    print(f"uncertainty order reaches random order's final F1 ({final['quality']:.3f} at {final['labels']:,} labels) "
          + (f"at {needed:,} labels: {share:.0%} of the labels (goal: at most 67%)" if needed else "not within the budget")
          + (" — met" if share is not None and share <= 2 / 3 else " — NOT met"))

    clean = topics(args.pool + args.test, seed=args.seed + 1, clarity=CLEAN)
    at = min(500, args.budget)
    model = learners.fit(TARGET, [t for t, _ in clean[:at]], [[g] for _, g in clean[:at]])
    accepted = evaluate(model, clean[args.pool:])[1]
    print(f"clean corpus (clarity 0.4-0.8), {at} labels in random order: {accepted:.1%} of pre-labels accepted "
          f"unchanged (goal: most, over 50%)" + (" — met" if accepted > 0.5 else " — NOT met"))
    print(f"replayed in {time.monotonic() - started:.1f} s")

    points = [{"version": f"{u['labels']} labels", "x": u["labels"], "uncertainty": u["quality"],
               "random": r["quality"]} for u, r in zip(*curves.values())]
    svg = chart_svg(points, (("uncertainty", "Uncertainty", "#0072B2"), ("random", "Random", "#E69F00")),
                    "Macro F1 on held-out documents against labels, by queue order", "learning-loop")
    if args.svg:
        args.svg.write_text(svg)
        print(f"chart: {args.svg}")
    if args.queue_tasks:
        hello, hello_url = start_hello()
        try:
            with tempfile.TemporaryDirectory() as folder:
                on_engines(args.engine, Path(folder),
                           lambda engine, url: queue_at_scale(engine, url, args.queue_tasks, Path(folder), hello_url))
        finally:
            hello.terminate()
            hello.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
