"""Progress for long runs: a bar with counts and ETA on a terminal, plain lines when piped."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Counts files done out of a total; draws with tqdm on a TTY, else prints a line every 10% or 5 seconds."""

    PLAIN_EVERY_S = 5.0

    def __init__(self, total: int, label: str = "indexing", stream: TextIO | None = None, enabled: bool = True,
                 unit: str = "file"):
        self.total, self.label, self.done, self.unit = total, label, 0, unit
        self.stream = stream or sys.stderr
        self.enabled = enabled and total > 0
        self.started = self._last_line = time.monotonic()
        self._bar = None
        if self.enabled and self.stream.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=label, unit=unit, file=self.stream, dynamic_ncols=True)

    def advance(self, note: str = "") -> None:
        """Count one file done; `note` (the file name) shows beside the bar."""
        self.done += 1
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.set_postfix_str(note[-40:], refresh=False)
            self._bar.update(1)
            return
        now = time.monotonic()
        tenth = max(self.total // 10, 1)
        if now - self._last_line >= self.PLAIN_EVERY_S or self.done % tenth == 0 or self.done == self.total:
            self._last_line = now
            elapsed = now - self.started
            eta = elapsed / self.done * (self.total - self.done)
            print(f"{self.label}: {self.done}/{self.total} {self.unit}s ({100 * self.done // self.total}%), "
                  f"elapsed {elapsed:.0f} s, eta {eta:.0f} s", file=self.stream, flush=True)

    def close(self) -> None:
        """Finish the bar."""
        if self._bar is not None:
            self._bar.close()
