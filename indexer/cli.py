"""The `mediaindex` command: parses arguments, calls the Library, prints. Heavy imports happen late.

Exit codes: 0 all good, 1 some files failed (all others indexed), 2 usage error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Sequence

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"mediaindex: {message} (see `{self.prog} --help`)", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--store", help="store folder or http://HOST:PORT of a Chroma server [MEDIAINDEX_STORE]")
    common.add_argument("--json", action="store_true", help="print machine-readable JSON")
    models = argparse.ArgumentParser(add_help=False)
    models.add_argument("--workers", help="worker processes (default: number of cores) [MEDIAINDEX_WORKERS]")
    models.add_argument("--asr-engine", choices=["whisper", "faster-whisper"], help="speech engine [MEDIAINDEX_ASR_ENGINE]")
    models.add_argument("--asr-model", help="speech model name or local path [MEDIAINDEX_ASR_MODEL]")
    models.add_argument("--language", help="fix the spoken language, e.g. en [MEDIAINDEX_LANGUAGE]")
    models.add_argument("--detector-model", help="object detector ONNX file [MEDIAINDEX_DETECTOR_MODEL]")
    models.add_argument("--keyframe-interval", dest="keyframe_interval_s", metavar="SECONDS",
                        help="a keyframe at least this often in long scenes (default 10) [MEDIAINDEX_KEYFRAME_INTERVAL_S]")
    models.add_argument("--spacy-model", help="spaCy model name or path [MEDIAINDEX_SPACY_MODEL]")
    models.add_argument("--text-model", help="sentence-embedding model name or folder [MEDIAINDEX_TEXT_MODEL]")
    text_model = argparse.ArgumentParser(add_help=False)  # queries embed text, they never transcribe
    text_model.add_argument("--text-model", help="sentence-embedding model name or folder [MEDIAINDEX_TEXT_MODEL]")
    limit = argparse.ArgumentParser(add_help=False)
    limit.add_argument("-n", "--limit", type=int, default=10, help="how many results (default 10)")
    limit.add_argument("--kind", choices=["audio", "video", "text"], help="only items of this kind (text: catalog items)")
    limit.add_argument("--mood", help="only items of this mood (happy, energetic, tense, sad, calm)")
    limit.add_argument("--tempo", metavar="LOW-HIGH", help="only music in this tempo range, e.g. 100-130 (BPM)")
    limit.add_argument("--key", help="only music in this key, e.g. 'A minor', Am, F#")
    limit.add_argument("--has-object", metavar="NAME", help="only videos showing this COCO object, e.g. dog")
    limit.add_argument("--language", help="only items whose speech is in this language, e.g. en")
    limit.add_argument("--has-speech", action="store_true", default=None, help="only items with speech")

    parser = _Parser(prog="mediaindex", description="Index media folders by content and find more like this.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    p = sub.add_parser("index", parents=[common, models], help="analyse folders or files into the store")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="run the analysis on this Dask scheduler's workers [MEDIAINDEX_SCHEDULER]")
    p.add_argument("--no-progress", action="store_true", help="no progress bar or lines")
    p = sub.add_parser("show", parents=[common], help="print everything known about one item")
    p.add_argument("item", metavar="ITEM", help="a file path or an item id (or a unique prefix)")
    p = sub.add_parser("similar", parents=[common, text_model, limit], help="items most like ITEM, with reasons")
    p.add_argument("item", metavar="ITEM")
    p.add_argument("--weights", help="space weights, e.g. audio=0.5,visual=0.3,text=0.2,words=0.3")
    p = sub.add_parser("search", parents=[common, text_model, limit], help="items described by TEXT")
    p.add_argument("text", metavar="TEXT")
    p = sub.add_parser("recommend", parents=[common, text_model, limit], help="cold-start recommendations")
    p.add_argument("--like", action="append", default=[], metavar="ITEM", help="an item you like (repeatable)")
    p.add_argument("--dislike", action="append", default=[], metavar="ITEM", help="an item you dislike (repeatable)")
    p.add_argument("--text", help="what you want, in words")
    p.add_argument("--user", help="a user whose feedback (see `feedback`) makes the profile")
    p.add_argument("--context", choices=["workout", "focus", "relax", "party"],
                   help="a preset of tempo, energy and mood constraints")
    p.add_argument("--diversity", type=float, default=None, help="0..1, trade relevance for variety (default 0.3)")
    p.add_argument("--novelty", type=float, default=0.0, help="0..1, favour recently added items (default 0)")
    p.add_argument("--popularity", type=float, default=None,
                   help="0..1, share of the score given to how much people reviewed an item (default 0.1)")
    p.add_argument("--weights", help="space weights, e.g. audio=0.5,visual=0.3,text=0.2,words=0.3")
    p = sub.add_parser("feedback", parents=[common], help="record what a user did with an item")
    p.add_argument("user", metavar="USER", nargs="?")
    p.add_argument("item", metavar="ITEM", nargs="?")
    p.add_argument("event", metavar="EVENT", nargs="?", help="like, dislike, skip, play or play=SECONDS")
    p.add_argument("--import", dest="import_path", metavar="FILE.csv", help="load user,item,event[,value] rows")
    p = sub.add_parser("audience", parents=[common], help="users an item (even a new one) fits best")
    p.add_argument("item", metavar="ITEM")
    p.add_argument("-n", "--limit", type=int, default=10, help="how many users (default 10)")
    p = sub.add_parser("import-catalog", parents=[common, models], help="add text-only items from id,title,text[,tags]")
    p.add_argument("path", metavar="FILE.csv")
    p.add_argument("--no-progress", action="store_true", help="no progress bar or lines")
    sub.add_parser("stats", parents=[common], help="counts of items, vectors and failures")
    p = sub.add_parser("remove", parents=[common], help="drop one item from the index")
    p.add_argument("item", metavar="ITEM")
    p = sub.add_parser("serve", parents=[common, text_model], help="the web page and JSON API over HTTP")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765)")
    p.add_argument("--token", help="secret every request must carry; required off loopback [MEDIAINDEX_TOKEN]")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; user errors print one line, never a traceback."""
    for stream in (sys.stdout, sys.stderr):  # file names need not be valid UTF-8; printing them must not fail
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    args = build_parser().parse_args(argv)
    from analyzers.errors import MediaindexError

    try:
        code = _dispatch(args)
    except MediaindexError as e:
        print(f"mediaindex: {e}", file=sys.stderr)
        code = EXIT_USAGE
    except OSError as e:  # a store folder or file the system refuses us: one line, not a traceback
        print(f"mediaindex: {e.strerror or e}: {e.filename or ''}".rstrip(": "), file=sys.stderr)
        code = EXIT_USAGE
    except KeyboardInterrupt:
        print("mediaindex: interrupted", file=sys.stderr)
        code = EXIT_INTERRUPTED
    except BrokenPipeError:
        code = EXIT_OK
    sys.exit(code)


def _config(args: argparse.Namespace):
    """The frozen Config from these flags, the environment and defaults."""
    from indexer.config import Config

    names = ("store", "workers", "scheduler", "asr_engine", "asr_model", "language", "detector_model",
             "keyframe_interval_s", "spacy_model", "text_model")
    return Config.build({n: getattr(args, n, None) for n in names})


def _dispatch(args: argparse.Namespace) -> int:
    """Call the Library method for the command and print its answer."""
    from indexer.library import Library
    from indexer.query import parse_weights

    library = Library(_config(args))
    if args.command == "serve":
        import os

        from indexer.server import serve

        return serve(library, args.host, args.port, args.token or os.environ.get("MEDIAINDEX_TOKEN") or None)
    if args.command == "index":
        report = library.index(args.paths, progress=not args.no_progress)
        _print_index(report, args.json)
        if report.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_SOME_FAILED if report.failed else EXIT_OK
    if args.command == "show":
        record = library.show(args.item)
        _emit(args.json, record.to_json(), _format_record(record.to_json()))
    elif args.command == "similar":
        answer = library.similar(args.item, args.limit, weights=parse_weights(args.weights), filters=_filters(args))
        _print_answer(answer, args.json)
    elif args.command == "search":
        _print_answer(library.search(args.text, args.limit, filters=_filters(args)), args.json)
    elif args.command == "recommend":
        from indexer.query import DEFAULT_DIVERSITY, DEFAULT_POPULARITY

        diversity = DEFAULT_DIVERSITY if args.diversity is None else args.diversity
        popularity = DEFAULT_POPULARITY if args.popularity is None else args.popularity
        answer = library.recommend(args.like, args.dislike, args.text, args.limit, user=args.user,
                                   context=args.context, filters=_filters(args), weights=parse_weights(args.weights),
                                   diversity=diversity, novelty=args.novelty, popularity=popularity)
        _print_answer(answer, args.json)
    elif args.command == "feedback":
        return _feedback(library, args)
    elif args.command == "audience":
        fits = library.audience(args.item, args.limit)
        _emit(args.json, {"users": fits}, "\n".join(f"{f['score']:.3f}  {f['user']}  — {f['reason']}" for f in fits))
    elif args.command == "import-catalog":
        report = library.import_catalog(args.path, progress=not args.no_progress)
        _emit(args.json, {"imported": report.imported}, f"imported {report.imported} catalog items")
    elif args.command == "stats":
        stats = library.stats()
        _emit(args.json, stats, "\n".join(f"{k}: {v}" for k, v in stats.items()))
    elif args.command == "remove":
        record = library.remove(args.item)
        _emit(args.json, {"removed": record.id, "path": record.path}, f"removed {record.id} {record.path}")
    return EXIT_OK


def _filters(args: argparse.Namespace):
    """The query filters from --kind, --mood, --tempo, --key, --has-object, --language, --has-speech."""
    from indexer.query import make_filters

    return make_filters(args.kind, args.mood, args.tempo, args.key, args.has_object, args.language, args.has_speech)


def _feedback(library, args: argparse.Namespace) -> int:
    """`feedback USER ITEM EVENT`, or `feedback --import FILE.csv`."""
    from indexer.errors import UsageError

    if args.import_path:
        if args.user or args.item or args.event:
            raise UsageError("feedback --import FILE.csv takes no USER ITEM EVENT")
        count = library.import_feedback(args.import_path)
        _emit(args.json, {"imported": count}, f"imported {count} feedback events")
        return EXIT_OK
    if not (args.user and args.item and args.event):
        raise UsageError("feedback needs USER ITEM EVENT (like, dislike, skip, play or play=SECONDS), or --import FILE.csv")
    library.feedback(args.user, args.item, args.event)
    _emit(args.json, {"user": args.user, "item": args.item, "event": args.event},
          f"recorded: {args.user} {args.event} {args.item}")
    return EXIT_OK


def _emit(as_json: bool, data: Any, text: str) -> None:
    """Print JSON or the human text."""
    print(json.dumps(data, indent=2, ensure_ascii=False) if as_json else text)


def _print_index(report, as_json: bool) -> None:
    """The index report: JSON on stdout, or a summary with each failure on its own line."""
    if as_json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
        return
    if not (report.items or report.failed or report.removed or report.interrupted):
        print("no audio or video files found there", file=sys.stderr)
    state = "interrupted; run again to resume" if report.interrupted else "done"
    print(f"{state}: {report.indexed} indexed, {report.unchanged} unchanged, {report.moved} moved, "
          f"{report.removed} removed, {len(report.failed)} failed, in {report.elapsed_s:.1f} s")
    for item in report.partial:
        print(f"  partial  {item['path']}: {item['warning']}")
    for failure in report.failed:
        print(f"  failed   {failure.path} [{failure.analyzer}]: {failure.error}")


def _print_answer(answer, as_json: bool) -> None:
    """Results as JSON, or one line each: score, kind, path, reason."""
    if as_json:
        print(json.dumps(answer.to_json(), indent=2, ensure_ascii=False))
        return
    if not answer.results:
        print("no results")
    for hit in answer.results:
        print(f"{hit.score:.3f}  {hit.kind:<5}  {hit.path or hit.title}  — {hit.reason}")
    for hit in answer.duplicates:
        print(f"duplicate  {hit.path}  — {hit.reason}")


def _format_record(record: dict[str, Any]) -> str:
    """A readable view of one record: header lines, then each analyzer's fields."""
    lines = [f"{k}: {record[k]}" for k in ("id", "path", "kind", "duration_s")]
    for key, value in record.items():
        if isinstance(value, dict):
            lines.append(f"{key}:")
            for field_name, field_value in value.items():
                text = str(field_value)
                lines.append(f"  {field_name}: {text if len(text) < 100 else text[:97] + '...'}")
    for failure in record.get("failures", []):
        lines.append(f"failed [{failure['analyzer']}]: {failure['error']}")
    for warning in record.get("warnings", []):
        lines.append(f"warning: {warning}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
