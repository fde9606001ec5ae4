"""Benchmark of the reviews analyzer: sentiment accuracy on labelled review sentences, speed, example tags.

Usage: python benchmarks/text.py [--data PATH] [--workers 2] [--group 5] [--examples 10] [--json]

Reads the 500 labelled review sentences of ../shared/data/reviews/reviews.csv (relative to the repo;
columns id,text,label,source; 250 positive, 250 negative; Rotten Tomatoes snippets, IMDb and Amazon
sentences; see the README there). The data is read where it is, never copied into the repo.

Every row goes through `ReviewsAnalyzer.analyze_reviews([review])`, the path an item with one review
takes in the indexer (spaCy parse, tags, entities, mood words, sentiment). Prints:

* sentiment accuracy (positive when the sentiment is above 0) overall and per source, for the
  analyzer's method and for each of its two parts alone (VADER, zero-shot embedding);
* reviews per second for the whole analysis, model loading excluded, with --workers single-thread
  processes side by side (as the indexer runs: one worker per core), for items of one review each
  (the worst case: nothing to batch) and of --group reviews each, and the load average, since
  other work on the machine lowers the figures;
* example reviews with their label, sentiment and top tags, for a person to judge.

Nothing is tuned on these labels except what the analyzer's docstring says. Targets: accuracy >= 0.75,
>= 200 reviews per second on 2 cores.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import bench_main  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "reviews" / "reviews.csv"
TARGETS = {"accuracy": 0.75, "reviews_per_s": 200.0}
COLUMNS = {"id", "text", "label", "source"}


class MissingData(Exception):
    """The labelled reviews or a model the analyzer needs is not on this machine."""


def load_rows(path: Path) -> list[dict]:
    """The labelled rows (split on \\n only: the IMDb sentences hold U+0085 characters)."""
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if not COLUMNS <= set(reader.fieldnames or ()):
            raise MissingData(f"{path}: expected columns {sorted(COLUMNS)}, found {reader.fieldnames}")
        rows = list(reader)
    for row in rows:
        row["label"] = int(row["label"])
        row["source"] = row["source"].split(" ")[0].split("/")[-1]  # rt-polarity-v1.0, imdb, amazon
    return rows


def check_tools(args) -> None:
    """Raise MissingData when the data file or the spaCy model is absent."""
    if not args.data.is_file():
        raise MissingData(f"labelled reviews not found at {args.data} (pass --data PATH)")
    from analyzers.errors import ModelUnavailable
    from analyzers.reviews import load_spacy_model

    try:
        load_spacy_model("en_core_web_sm")
    except ModelUnavailable as e:
        raise MissingData(str(e)) from e


def analyse_share(texts: list[str], group_sizes: tuple[int, ...], barrier, queue) -> None:
    """Worker process (one thread, as the indexer's workers run): load, wait for the others, analyse.

    Each text is first analysed as the only review of an item (its sentiment and tags are kept),
    then, for each larger group size, in items of that many reviews (only the time is kept).
    """
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"
    import torch

    from analyzers.reviews import Review, ReviewsAnalyzer

    torch.set_num_threads(1)
    analyzer = ReviewsAnalyzer()
    analyzer.load()
    analyzer.analyze_reviews([Review("A warm-up review.")])
    results, timings = None, {}
    for size in group_sizes:
        items = [[Review(t) for t in texts[i:i + size]] for i in range(0, len(texts), size)]
        barrier.wait()
        t0, cpu0 = time.perf_counter(), time.process_time()
        analysed = [analyzer.analyze_reviews(item) for item in items]
        timings[size] = (time.perf_counter() - t0, time.process_time() - cpu0)
        if results is None:
            results = [(r.sentiment, [t["tag"] for t in r.tags[:5]]) for r in analysed]
    queue.put((texts, results, timings))


def run_workers(texts: list[str], workers: int, group_sizes: tuple[int, ...]) -> tuple[dict[str, tuple], dict]:
    """Analyse the texts split over `workers` processes: {text: (sentiment, tags)}, {size: (wall s, CPU s)}."""
    context = multiprocessing.get_context("forkserver")
    barrier, queue = context.Barrier(workers), context.Queue()
    shares = [texts[i::workers] for i in range(workers)]
    processes = [context.Process(target=analyse_share, args=(s, group_sizes, barrier, queue)) for s in shares]
    for p in processes:
        p.start()
    outputs = [queue.get() for _ in processes]
    for p in processes:
        p.join()
    by_text = {t: r for share, results, _ in outputs for t, r in zip(share, results)}
    timings = {size: (max(o[2][size][0] for o in outputs), sum(o[2][size][1] for o in outputs))
               for size in group_sizes}
    return by_text, timings


def accuracy(rows: list[dict], scores: list[float]) -> dict[str, float]:
    """Share of rows whose score's sign matches the label, overall and per source."""
    hits = [(s > 0) == bool(r["label"]) for r, s in zip(rows, scores)]
    result = {"overall": sum(hits) / len(hits)}
    for source in sorted({r["source"] for r in rows}):
        mine = [h for h, r in zip(hits, rows) if r["source"] == source]
        result[source] = sum(mine) / len(mine)
    return result


def component_accuracies(rows: list[dict]) -> dict[str, dict[str, float]]:
    """Accuracy of each part of the sentiment method alone, from one in-process scorer."""
    from analyzers.reviews import SentimentScorer, load_sentence_encoder

    scorer = SentimentScorer(load_sentence_encoder("all-MiniLM-L6-v2"))
    texts = [r["text"] for r in rows]
    return {"vader alone": accuracy(rows, scorer.vader_scores(texts)),
            "zero-shot embedding alone": accuracy(rows, scorer.zero_shot_scores(texts))}


def run(args, log) -> dict:
    """Analyse every row, then score sentiment and speed."""
    rows = load_rows(args.data)
    texts = list(dict.fromkeys(r["text"] for r in rows))
    log(f"{len(rows)} labelled reviews from {args.data}; analysing with {args.workers} worker(s)")
    load_before = os.getloadavg()[0]
    by_text, timings = run_workers(texts, args.workers, (1, args.group))
    load_after = os.getloadavg()[0]
    sentiments = [by_text[r["text"]][0] for r in rows]
    report = {
        "data": str(args.data), "rows": len(rows), "workers": args.workers,
        "accuracy": {"analyzer (vader + zero-shot)": accuracy(rows, sentiments), **component_accuracies(rows)},
        "speed": {f"{size} review(s) per item": {"reviews_per_s": len(texts) / wall_s,
                                                 "cpu_ms_per_review": 1000 * cpu_s / len(texts)}
                  for size, (wall_s, cpu_s) in timings.items()},
        "load_average": [load_before, load_after], "targets": TARGETS,
        "examples": [{"text": r["text"], "label": r["label"], "source": r["source"],
                      "sentiment": by_text[r["text"]][0], "tags": by_text[r["text"]][1]}
                     for r in rows[:: max(1, len(rows) // max(1, args.examples))][: args.examples]],
    }
    return report


def print_report(report: dict) -> None:
    """The figures for a person."""
    print(f"\n{report['rows']} reviews from {report['data']}")
    print("\nsentiment accuracy (positive when sentiment > 0):")
    for method, figures in report["accuracy"].items():
        per_source = "  ".join(f"{k} {v:.3f}" for k, v in figures.items() if k != "overall")
        print(f"  {method:30s} {figures['overall']:.3f}   ({per_source})")
    print(f"\nspeed with {report['workers']} worker process(es) of one thread each, model load excluded "
          f"(load average {report['load_average'][0]:.2f} before, {report['load_average'][1]:.2f} after: "
          "other work on the machine lowers these):")
    for mode, figures in report["speed"].items():
        print(f"  {mode:26s} {figures['reviews_per_s']:6.0f} reviews/s   "
              f"{figures['cpu_ms_per_review']:5.1f} ms CPU per review")
    met = report["accuracy"]["analyzer (vader + zero-shot)"]["overall"] >= TARGETS["accuracy"]
    fast = {mode: f["reviews_per_s"] >= TARGETS["reviews_per_s"] for mode, f in report["speed"].items()}
    print(f"targets: accuracy >= {TARGETS['accuracy']} {'met' if met else 'NOT met'}; "
          f">= {TARGETS['reviews_per_s']:.0f} reviews/s: "
          + ", ".join(f"{mode} {'met' if ok else 'NOT met'}" for mode, ok in fast.items()))
    print("\nexamples:")
    for e in report["examples"]:
        print(f"  [{e['source']}, label {e['label']}, sentiment {e['sentiment']:+.2f}] {e['text'][:110]}")
        print(f"      tags: {', '.join(e['tags']) or '(none)'}")


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the labelled reviews.csv")
    parser.add_argument("--workers", type=int, default=2, help="analysis processes side by side (one per core)")
    parser.add_argument("--group", type=int, default=5, help="also time items of this many reviews each")
    parser.add_argument("--examples", type=int, default=10, help="example reviews to print with their tags")
    parser.add_argument("--json", action="store_true", help="print one JSON object of all figures instead")
    args = parser.parse_args(argv)
    if args.workers < 1 or args.examples < 0 or args.group < 1:
        parser.error("--workers and --group must be at least 1, --examples at least 0")
    return args


def main(argv=None) -> int:
    """Run the benchmark; exit 2 when the data or the spaCy model is missing."""
    args = parse_args(argv)
    return bench_main("benchmarks/text.py", args, lambda: check_tools(args), MissingData, run, print_report)


if __name__ == "__main__":
    sys.exit(main())
