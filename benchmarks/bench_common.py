"""What every benchmark script's main() does the same way: check its tools, log, run, report a crash."""

from __future__ import annotations

import json
import sys
import traceback
from typing import Any, Callable


def run_checked(script: str, check_tools: Callable[[], None], missing_tool: type[Exception],
                run: Callable[[Any, Callable[[str], None]], Any], args: Any) -> tuple[int, Any]:
    """(exit code, result of run): 2 when a benchmark-only tool is missing, 1 when run raised, else 0.

    Progress goes to stdout, or to stderr under --json so stdout holds only the JSON object.
    """
    try:
        check_tools()
    except missing_tool as e:
        print(f"{script}: {e}", file=sys.stderr)
        return 2, None
    stream = sys.stderr if args.json else sys.stdout
    try:
        return 0, run(args, lambda msg: print(msg, file=stream, flush=True))
    except Exception:  # a benchmark that crashes says where, then exits 1
        traceback.print_exc()
        return 1, None


def bench_main(script: str, args: Any, check_tools: Callable[[], None], missing_tool: type[Exception],
               run: Callable[[Any, Callable[[str], None]], Any], print_report: Callable[[Any], None]) -> int:
    """The whole of a benchmark's main(): run it checked, then print its report as JSON (--json) or text."""
    code, report = run_checked(script, check_tools, missing_tool, run, args)
    if code:
        return code
    if args.json:
        print(json.dumps(report))
    else:
        print_report(report)
    return 0
