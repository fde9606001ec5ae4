"""Feedback: what each user liked, disliked, skipped and played, kept durably in SQLite beside the store.

A user's profile is built from their events: each event has a weight (EVENT_WEIGHTS; a play
weighs by how much of the item was heard), an item's weights add up and are clipped to -1..1, and
items with a positive total pull the profile while those with a negative one push it away
(`query.profile_of` finds candidates, `query.knn_similarity` scores them). Events are read at every
call, so a new one shows on the very next.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from indexer.csvfile import csv_rows
from indexer.errors import UsageError

EVENTS = ("like", "dislike", "skip", "play")
EVENT_WEIGHTS = {"like": 1.0, "dislike": -1.0, "skip": -0.5}
PLAY_WEIGHT = 0.7  # a complete play; a partial one weighs by the share heard
PLAY_COMPLETE_SHARE = 0.8  # a play of this share of the item or more counts as complete
PLAY_UNKNOWN_LENGTH_S = 60.0  # with no known duration, a play this long counts as complete


@dataclass(frozen=True)
class Event:
    """One thing a user did with an item: like, dislike, skip, or play (with seconds heard)."""

    user: str
    item_id: str
    event: str
    value: float | None = None
    at: float = 0.0


def parse_event(text: str) -> tuple[str, float | None]:
    """`like`, `dislike`, `skip`, `play` or `play=SECONDS` into (event, seconds or None)."""
    name, _, value = text.strip().lower().partition("=")
    if name not in EVENTS or (value and name != "play"):
        raise UsageError(f"event must be like, dislike, skip, play or play=SECONDS, got {text!r}")
    if not value:
        return name, None
    try:
        seconds = float(value)
    except ValueError:
        raise UsageError(f"play=SECONDS needs a number of seconds, got {value!r}") from None
    if not 0 <= seconds < float("inf"):
        raise UsageError(f"play=SECONDS needs 0 or more seconds, got {value!r}")
    return name, seconds


def event_weight(event: Event, duration_s: float | None) -> float:
    """How much one event pulls (+) or pushes (-) the user's profile towards the item."""
    if event.event != "play":
        return EVENT_WEIGHTS[event.event]
    if event.value is None:
        return PLAY_WEIGHT
    share = event.value / duration_s if duration_s else event.value / PLAY_UNKNOWN_LENGTH_S
    return PLAY_WEIGHT * min(1.0, share / PLAY_COMPLETE_SHARE)


class FeedbackLog:
    """The events of every user, in one SQLite file (written in transactions, so a kill loses nothing)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(self.path))
        with self.db:
            self.db.execute("CREATE TABLE IF NOT EXISTS events (user TEXT NOT NULL, item TEXT NOT NULL, "
                            "event TEXT NOT NULL, value REAL, at REAL NOT NULL)")
            self.db.execute("CREATE INDEX IF NOT EXISTS events_user ON events (user)")

    def add(self, events: Iterable[Event]) -> int:
        """Record events; returns how many."""
        rows = [(e.user, e.item_id, e.event, e.value, e.at or time.time()) for e in events]
        with self.db:
            self.db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)", rows)
        return len(rows)

    def events(self, user: str) -> list[Event]:
        """One user's events, oldest first."""
        rows = self.db.execute("SELECT user, item, event, value, at FROM events WHERE user = ? ORDER BY at, rowid",
                               (user,))
        return [Event(*row) for row in rows]

    def users(self) -> list[str]:
        """Every user with at least one event."""
        return [row[0] for row in self.db.execute("SELECT DISTINCT user FROM events ORDER BY user")]

    def close(self) -> None:
        """Close the database."""
        self.db.close()


def item_weights(events: Iterable[Event], durations: dict[str, float | None]) -> dict[str, float]:
    """Each item's summed event weight, clipped to -1..1 (a like then a skip nets out)."""
    weights: dict[str, float] = {}
    for event in events:
        weights[event.item_id] = weights.get(event.item_id, 0.0) + event_weight(event, durations.get(event.item_id))
    return {item: max(-1.0, min(1.0, w)) for item, w in weights.items() if w}


def read_history_csv(path: str | Path) -> list[tuple[str, str, str, float | None, int]]:
    """Rows (user, item, event, value, line) of a `user,item,event[,value]` CSV; a bad row is a UsageError."""
    rows = []
    for line, row in csv_rows(path, {"user", "item", "event"}, "user,item,event[,value]"):
        if not row["user"] or not row["item"]:
            raise UsageError(f"{path}:{line}: empty user or item")
        try:
            event, seconds = parse_event(row["event"] + (f"={row['value']}" if row.get("value") else ""))
        except UsageError as e:
            raise UsageError(f"{path}:{line}: {e}") from None
        rows.append((row["user"], row["item"], event, seconds, line))
    return rows
