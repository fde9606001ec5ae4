"""Benchmark of cold-start recommendation on MovieLens: new movies ranked for known users from text alone.

Usage: python benchmarks/coldstart.py [--data DIR] [--seed N | --seeds 0,1,2] [--cold-fraction 0.2] [--json]

Reads ../shared/data/movielens-small/ (relative to the repo; movies.csv, ratings.csv, tags.csv of
GroupLens' ml-latest-small, research use only, see README.txt there). The data is read where it is,
never copied into the repo.

Protocol (issue 7, point 7):

* A random --cold-fraction of the movies (seeded) is cold: all their ratings are hidden.
* Every movie is described by text only: its title, its genres and every tag any user gave it in
  tags.csv. The movies enter through the product's own path: a catalog CSV (`id,title,text,tags`:
  text "Genres: ...", tags = the user tags) written to a temp folder and loaded with
  `Library.import_catalog` (the reviews analyzer reads the text, the description analyzer embeds
  tags, title and text with all-MiniLM-L6-v2; the words channel reads the same description). Each
  distinct user tag counts as a short review in the movie's attention, recommend's popularity
  share (`--popularity`, default the product's; 0 ranks on content alone): how much people wrote
  about a movie, which a new movie has before anyone rates it. A cold movie's tags may be its
  scorer's own, so every figure is also given for the users who wrote no tags (the clean measure).
* History: each rating >= 4 of a warm movie is a `like`. Ratings < 4 are left out (the issue's
  profile is "ratings >= 4 on warm movies", and the baselines see no more than that);
  `--dislikes` also enters ratings <= 2 as `dislike`, for comparison. The history is a
  `user,item,event` CSV loaded with `Library.import_feedback`.
* Ours: for each user, `Library.recommend(user=USER, among=cold ids, limit=len(cold), diversity=0.0)`,
  the call `mediaindex recommend --user` makes, with diversity 0 because the metric scores a ranking
  by relevance (the product's default of 0.3 re-orders for variety).
* Scored per user against their ratings >= 4 of cold movies: Recall@10 (cold positives in the top 10
  / all cold positives), NDCG@10 (binary gains, ideal = min(10, positives) hits at the top) and AUC
  (the chance a cold positive ranks above a cold movie that is not one; ties count half), then
  averaged over users. Users with no cold positive, or no warm positive to build a profile from,
  are skipped and counted.
* Baselines on the same split: random; genre preference (score = sum over the movie's genres of
  the share of the user's warm positives with that genre); TF-IDF content (our own TF-IDF over the
  same item text: title, genres, tags; cosine between the item and the mean of the user's
  warm-positive vectors).

The catalog store is built once per code version of what writes it (a few minutes: spaCy and
MiniLM per movie) and copied per (seed, cold fraction) before the history goes in; both are cached
under ~/.cache/mediaindex-bench/coldstart/, so reruns only rank. Nothing is tuned on these ratings.

Target: ours above TF-IDF on Recall@10, NDCG@10 and AUC, for all users and for non-taggers, averaged
over seeds 0-2 (the issue measured TF-IDF at NDCG@10 ~0.076, AUC ~0.733; LightFM 0.161, 0.813).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import math
import random
import re
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import bench_main  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "movielens-small"
CACHE = Path.home() / ".cache" / "mediaindex-bench" / "coldstart"
LIKED = 4.0  # a rating at or above this is a positive (a `like` when the movie is warm)
DISLIKED = 2.0  # with --dislikes, a warm rating at or below this is a `dislike`
K = 10
METHODS = ("ours", "random", "genre", "tfidf")
METRICS = ("recall@10", "ndcg@10", "auc")
TARGET_OVER = "tfidf"
BENCH_VERSION = "2"  # bump when the catalog or history this script writes changes
# code whose changes alter what the stores hold (the query code is not among them: it only reads)
STORE_CODE = ("indexer/catalog.py", "indexer/feedback.py", "analyzers/description.py",
              "analyzers/reviews.py", "analyzers/moods.py", "store/records.py")


class MissingData(Exception):
    """The MovieLens files or a model the text analyzers need is not on this machine."""


@dataclass
class Movies:
    """What the benchmark reads: movie titles and genres, ratings, tags and who wrote tags."""

    titles: dict[str, str]
    genres: dict[str, list[str]]
    tags: dict[str, list[str]]
    ratings: list[tuple[str, str, float]]
    taggers: set[str]


def read_csv(path: Path) -> list[dict]:
    """Rows of one MovieLens CSV."""
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def load_movielens(folder: Path) -> Movies:
    """movies.csv, ratings.csv and tags.csv (each movie's tags in first-seen order, case-folded once)."""
    titles, genres = {}, {}
    for row in read_csv(folder / "movies.csv"):
        titles[row["movieId"]] = row["title"]
        genres[row["movieId"]] = [g for g in row["genres"].split("|") if g and g != "(no genres listed)"]
    tags: dict[str, list[str]] = defaultdict(list)
    taggers = set()
    for row in read_csv(folder / "tags.csv"):
        taggers.add(row["userId"])
        tag = row["tag"].strip()
        if tag and tag.lower() not in {t.lower() for t in tags[row["movieId"]]}:
            tags[row["movieId"]].append(tag)
    ratings = [(r["userId"], r["movieId"], float(r["rating"])) for r in read_csv(folder / "ratings.csv")]
    return Movies(titles, genres, dict(tags), ratings, taggers)


def item_text(movies: Movies, movie: str) -> tuple[str, str]:
    """(text, tags) of a movie's catalog row: the text names its genres, the tags column lists the
    tags users gave it."""
    genres = movies.genres.get(movie, [])
    return (f"Genres: {', '.join(genres)}" if genres else ""), ", ".join(movies.tags.get(movie, []))


def cold_movies(movies: Movies, seed: int, fraction: float) -> set[str]:
    """The seeded random share of all movies whose ratings are hidden."""
    ids = sorted(movies.titles, key=int)
    return set(random.Random(seed).sample(ids, round(fraction * len(ids))))


# ---- the product path: catalog and history import, recommend --------------------------------------


def code_version(files: tuple[str, ...]) -> str:
    """A short hash of the given source files and BENCH_VERSION."""
    h = hashlib.blake2b(BENCH_VERSION.encode(), digest_size=6)
    for name in files:
        h.update((ROOT / name).read_bytes())
    return h.hexdigest()


def library_at(store: Path):
    """A Library over a store folder (the environment's model settings apply, as for the CLI)."""
    from indexer.config import Config
    from indexer.library import Library

    return Library(Config.build({"store": str(store), "workers": 1}))


def catalog_store(movies: Movies, log) -> Path:
    """The store with every movie imported as a catalog item, built once per code version."""
    path = CACHE / f"catalog-{code_version(STORE_CODE)}"
    if path.exists():
        log(f"catalog store: cached at {path}")
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix="building-", dir=CACHE))
    with tempfile.TemporaryDirectory() as tmp:
        catalog = Path(tmp) / "catalog.csv"
        with open(catalog, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["id", "title", "text", "tags"])
            for movie in sorted(movies.titles, key=int):
                writer.writerow([movie, movies.titles[movie], *item_text(movies, movie)])
        log(f"importing {len(movies.titles)} movies as catalog items into {building} "
            "(spaCy + MiniLM per movie; a few minutes)")
        started = time.monotonic()
        report = library_at(building / "store").import_catalog(catalog, progress=True)
        log(f"catalog import: {report.imported} items, {len(report.failed)} failed, "
            f"{time.monotonic() - started:.0f} s")
    building.rename(path)
    return path


def feedback_store(movies: Movies, cold: set[str], seed: int, fraction: float, dislikes: bool, log) -> Path:
    """A copy of the catalog store with the warm history imported as feedback, cached per split."""
    base = catalog_store(movies, log)
    name = f"seed{seed}-cold{fraction:g}{'-dislikes' if dislikes else ''}-{code_version(STORE_CODE)}"
    path = CACHE / name
    if path.exists():
        log(f"history store: cached at {path}")
        return path
    building = Path(tempfile.mkdtemp(prefix="building-", dir=CACHE))
    shutil.rmtree(building)
    shutil.copytree(base, building)
    with tempfile.TemporaryDirectory() as tmp:
        history = Path(tmp) / "history.csv"
        with open(history, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["user", "item", "event"])
            for user, movie, rating in movies.ratings:
                if movie in cold:
                    continue
                if rating >= LIKED:
                    writer.writerow([user, movie, "like"])
                elif dislikes and rating <= DISLIKED:
                    writer.writerow([user, movie, "dislike"])
        started = time.monotonic()
        count = library_at(building / "store").import_feedback(history)
        log(f"history import: {count} events, {time.monotonic() - started:.1f} s")
    building.rename(path)
    return path


def ours(store: Path, users: list[str], cold: list[str], popularity: float | None, log) -> dict[str, dict[str, float]]:
    """Each user's scores of the cold movies from `Library.recommend(user=..., among=...)`: the rank
    order as descending scores (n - rank), so ties in the product's score keep its order."""
    from indexer.catalog import catalog_item_id

    library = library_at(store / "store")
    to_movie = {catalog_item_id(m): m for m in cold}
    among = sorted(to_movie)
    scores = {}
    started = last = time.monotonic()
    for n, user in enumerate(users, 1):
        options = {} if popularity is None else {"popularity": popularity}
        answer = library.recommend(user=user, among=among, limit=len(among), diversity=0.0, **options)
        scores[user] = {to_movie[h.id]: float(len(among) - rank) for rank, h in enumerate(answer.results)}
        if time.monotonic() - last > 15 or n == len(users):
            last = time.monotonic()
            log(f"  ours: {n}/{len(users)} users, {last - started:.0f} s")
    return scores


# ---- baselines ------------------------------------------------------------------------------------


def random_scores(users: list[str], cold: list[str], seed: int) -> dict[str, dict[str, float]]:
    """Uniform random scores (seeded)."""
    rng = np.random.default_rng(seed)
    return {u: dict(zip(cold, rng.random(len(cold)))) for u in users}


def genre_scores(movies: Movies, users: list[str], cold: list[str], liked: dict[str, list[str]]
                 ) -> dict[str, dict[str, float]]:
    """Sum over a movie's genres of the share of the user's warm positives with that genre."""
    out = {}
    for u in users:
        counts = Counter(g for m in liked[u] for g in movies.genres.get(m, []))
        out[u] = {m: sum(counts[g] for g in movies.genres.get(m, [])) / len(liked[u]) for m in cold}
    return out


def tokens(text: str) -> list[str]:
    """Lower-case words and numbers."""
    return re.findall(r"[a-z0-9]+", text.lower())


def tfidf_scores(movies: Movies, users: list[str], cold: list[str], liked: dict[str, list[str]]
                 ) -> dict[str, dict[str, float]]:
    """Cosine between each cold movie's TF-IDF vector (title, genres, tags; smooth idf, L2 norm)
    and the mean of the user's warm-positive vectors."""
    ids = sorted(movies.titles, key=int)
    docs = [tokens(" ".join((movies.titles[m], *item_text(movies, m)))) for m in ids]
    vocab = {w: i for i, w in enumerate(sorted({w for d in docs for w in d}))}
    df = Counter(w for d in docs for w in set(d))
    idf = np.zeros(len(vocab), dtype=np.float32)
    for w, i in vocab.items():
        idf[i] = math.log((1 + len(docs)) / (1 + df[w])) + 1
    from scipy.sparse import csr_matrix

    rows, cols, vals = [], [], []
    for r, d in enumerate(docs):
        for w, c in Counter(d).items():
            rows.append(r)
            cols.append(vocab[w])
            vals.append(c * idf[vocab[w]])
    matrix = csr_matrix((vals, (rows, cols)), shape=(len(docs), len(vocab)), dtype=np.float32)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1))).ravel()
    norms[norms == 0] = 1
    matrix = csr_matrix(matrix.multiply(1 / norms[:, None]))
    row = {m: i for i, m in enumerate(ids)}
    cold_matrix = matrix[[row[m] for m in cold]]
    out = {}
    for u in users:
        profile = np.asarray(matrix[[row[m] for m in liked[u]]].mean(axis=0)).ravel()
        norm = np.linalg.norm(profile)
        sims = cold_matrix @ (profile / norm if norm else profile)
        out[u] = dict(zip(cold, np.asarray(sims).ravel()))
    return out


# ---- metrics --------------------------------------------------------------------------------------


def user_metrics(scores: dict[str, float], positives: set[str], cold: list[str]) -> dict[str, float]:
    """Recall@10, NDCG@10 and AUC of one user's scores of the cold movies."""
    values = np.array([scores.get(m, -np.inf) for m in cold], dtype=np.float64)
    is_pos = np.array([m in positives for m in cold])
    order = np.lexsort((np.arange(len(cold)), -values))  # stable: ties keep the cold list's order
    top = is_pos[order[:K]]
    n_pos = int(is_pos.sum())
    dcg = float(sum(1 / math.log2(r + 2) for r in np.flatnonzero(top)))
    idcg = sum(1 / math.log2(r + 2) for r in range(min(K, n_pos)))
    # AUC by average ranks (ties count half)
    from scipy.stats import rankdata

    ranks = rankdata(values)
    n_neg = len(cold) - n_pos
    auc = (ranks[is_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg) if n_neg else 1.0
    return {"recall@10": float(top.sum()) / n_pos, "ndcg@10": dcg / idcg, "auc": float(auc)}


def mean_metrics(per_user: list[dict[str, float]]) -> dict[str, float]:
    """The mean of each metric over users."""
    return {k: float(np.mean([m[k] for m in per_user])) if per_user else float("nan") for k in METRICS}


# ---- one run -------------------------------------------------------------------------------------


def run_seed(movies: Movies, seed: int, fraction: float, dislikes: bool, popularity: float | None, log) -> dict:
    """Split, import, rank and score one seed: {"all": {...}, "non_taggers": {...}, "skipped": {...}}."""
    cold_set = cold_movies(movies, seed, fraction)
    cold = sorted(cold_set, key=int)
    liked: dict[str, list[str]] = defaultdict(list)
    positives: dict[str, set[str]] = defaultdict(set)
    raters = set()
    for user, movie, rating in movies.ratings:
        raters.add(user)
        if rating >= LIKED:
            (positives[user].add(movie) if movie in cold_set else liked[user].append(movie))
    no_cold = sorted(u for u in raters if not positives[u])
    no_warm = sorted(u for u in raters if positives[u] and not liked[u])
    users = sorted((u for u in raters if positives[u] and liked[u]), key=int)
    log(f"seed {seed}: {len(cold)} cold movies of {len(movies.titles)}; {len(users)} users scored, "
        f"{len(no_cold)} skipped without a cold positive, {len(no_warm)} without a warm positive")
    store = feedback_store(movies, cold_set, seed, fraction, dislikes, log)
    started = time.monotonic()
    scores = {"ours": ours(store, users, cold, popularity, log)}
    ours_s = time.monotonic() - started
    scores["random"] = random_scores(users, cold, seed)
    scores["genre"] = genre_scores(movies, users, cold, liked)
    scores["tfidf"] = tfidf_scores(movies, users, cold, liked)
    per_user = {method: {u: user_metrics(scores[method][u], positives[u], cold) for u in users}
                for method in METHODS}
    result = {}
    for group, members in (("all", users), ("non_taggers", [u for u in users if u not in movies.taggers])):
        result[group] = {"users": len(members),
                         **{method: mean_metrics([per_user[method][u] for u in members]) for method in METHODS}}
    result["skipped"] = {"no_cold_positive": len(no_cold), "no_warm_positive": len(no_warm)}
    result["ours_rank_s"] = round(ours_s, 1)
    return result


def mean_over_seeds(results: list[dict]) -> dict:
    """The per-metric mean over seeds (user counts averaged too)."""
    out = {}
    for group in ("all", "non_taggers"):
        out[group] = {"users": float(np.mean([r[group]["users"] for r in results]))}
        for method in METHODS:
            out[group][method] = {k: float(np.mean([r[group][method][k] for r in results])) for k in METRICS}
    return out


def target_met(result: dict) -> bool:
    """Ours above TF-IDF on every metric, for all users and for non-taggers."""
    return all(result[g]["ours"][k] > result[g][TARGET_OVER][k] for g in ("all", "non_taggers") for k in METRICS)


def run(args, log) -> dict:
    """Every seed, then the mean."""
    started = time.monotonic()
    movies = load_movielens(args.data)
    log(f"{len(movies.titles)} movies, {len(movies.ratings)} ratings, {sum(map(len, movies.tags.values()))} "
        f"distinct movie tags by {len(movies.taggers)} users, from {args.data}")
    per_seed = {}
    for seed in args.seeds:
        per_seed[seed] = run_seed(movies, seed, args.cold_fraction, args.dislikes, args.popularity, log)
        if not args.json:
            print_result(f"seed {seed}", per_seed[seed])
    report = per_seed[args.seeds[0]] if len(args.seeds) == 1 else {
        **mean_over_seeds(list(per_seed.values())), "seeds": {str(s): r for s, r in per_seed.items()}}
    report["target_met"] = target_met(report)
    report["elapsed_s"] = round(time.monotonic() - started, 1)
    report["settings"] = {"seeds": args.seeds, "cold_fraction": args.cold_fraction, "dislikes": args.dislikes,
                          "diversity": 0.0, "popularity": args.popularity, "data": str(args.data)}
    return report


def print_result(title: str, result: dict) -> None:
    """One table per user group."""
    print(f"\n{title}")
    for group in ("all", "non_taggers"):
        print(f"  {group.replace('_', '-')} ({result[group]['users']:g} users)   "
              + "  ".join(f"{k:>9s}" for k in METRICS))
        for method in METHODS:
            print(f"    {method:22s}" + "  ".join(f"{result[group][method][k]:9.4f}" for k in METRICS))


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the movielens-small folder")
    parser.add_argument("--seed", type=int, default=0, help="the seed of the cold/warm split")
    parser.add_argument("--seeds", help="several seeds, comma-separated (e.g. 0,1,2): per seed and the mean")
    parser.add_argument("--cold-fraction", type=float, default=0.2, help="share of movies made cold")
    parser.add_argument("--dislikes", action="store_true", help="also enter warm ratings <= 2 as dislikes")
    parser.add_argument("--popularity", type=float, help="recommend's popularity share (default: the product's; "
                        "0 ranks on content alone)")
    parser.add_argument("--json", action="store_true", help="print one JSON object of all figures instead")
    args = parser.parse_args(argv)
    try:
        args.seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else [args.seed]
    except ValueError:
        parser.error(f"--seeds must be whole numbers separated by commas, got {args.seeds!r}")
    if not 0 < args.cold_fraction < 1:
        parser.error("--cold-fraction must be between 0 and 1")
    return args


def check_tools(args) -> None:
    """Raise MissingData when the MovieLens files are absent."""
    for name in ("movies.csv", "ratings.csv", "tags.csv"):
        if not (args.data / name).is_file():
            raise MissingData(f"{name} not found in {args.data} (pass --data DIR)")


def main(argv=None) -> int:
    """Run the benchmark; exit 2 when the data is missing."""
    args = parse_args(argv)
    def print_report(report: dict) -> None:
        if len(args.seeds) > 1:
            print_result(f"mean over seeds {','.join(map(str, args.seeds))}", report)
        print(f"\ntarget (ours above {TARGET_OVER} on {', '.join(METRICS)}, all users and non-taggers): "
              f"{'met' if report['target_met'] else 'NOT met'}; {report['elapsed_s']:.0f} s")

    return bench_main("benchmarks/coldstart.py", args, lambda: check_tools(args), MissingData, run, print_report)


if __name__ == "__main__":
    sys.exit(main())
