"""Reading the CSV files users hand us (catalogs, histories): UTF-8, a header, required columns."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterator

from indexer.errors import UsageError


def csv_rows(path: str | Path, required: set[str], shape: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for each data row; a missing file, missing column or non-UTF-8 text is a
    one-line UsageError (`shape` names the expected columns, e.g. "id,title,text[,tags]")."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            missing = required - set(reader.fieldnames or ())
            if missing:
                raise UsageError(f"{path}: missing column(s) {', '.join(sorted(missing))} (need {shape})")
            for line, row in enumerate(reader, start=2):
                yield line, {k: (v or "").strip() for k, v in row.items() if k is not None}
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror or e}") from e
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text") from None
