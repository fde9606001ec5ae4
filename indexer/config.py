"""One frozen Config: command-line flags first, then MEDIAINDEX_* environment variables, then defaults."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlparse

from analyzers.base import AnalyzerConfig
from indexer.errors import UsageError

# Config field -> environment variable. Analyzer fields live in AnalyzerConfig.
ENV_VARS = {
    "store": "MEDIAINDEX_STORE",
    "workers": "MEDIAINDEX_WORKERS",
    "scheduler": "MEDIAINDEX_SCHEDULER",
    "asr_engine": "MEDIAINDEX_ASR_ENGINE",
    "asr_model": "MEDIAINDEX_ASR_MODEL",
    "language": "MEDIAINDEX_LANGUAGE",
    "detector_model": "MEDIAINDEX_DETECTOR_MODEL",
    "spacy_model": "MEDIAINDEX_SPACY_MODEL",
    "text_model": "MEDIAINDEX_TEXT_MODEL",
    "keyframe_interval_s": "MEDIAINDEX_KEYFRAME_INTERVAL_S",
}


def default_store_path() -> str:
    """The per-user store folder: $XDG_DATA_HOME/mediaindex/store, else ~/.local/share/mediaindex/store."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "mediaindex" / "store")


def local_dir(store: str) -> str:
    """Where this machine keeps a store's files that are not Chroma's (thumbnails, feedback): the
    store's folder, or for a Chroma server a folder per server beside the default store."""
    if "://" not in store:
        return store
    server = "".join(c if c.isalnum() else "_" for c in store.split("://", 1)[1]).strip("_")
    return str(Path(default_store_path()).parent / "servers" / server)


def thumbnail_dir(store: str) -> str:
    """Video thumbnails: `thumbnails/` in the store's local folder."""
    return str(Path(local_dir(store)) / "thumbnails")


@dataclass(frozen=True)
class Config:
    """Everything a run needs: where the store is, how many workers, and the analyzers' models."""

    store: str = field(default_factory=default_store_path)
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    analyzers: AnalyzerConfig = field(default_factory=AnalyzerConfig)
    scheduler: str | None = None  # a Dask scheduler (tcp://HOST:PORT) runs the analysis instead of local workers

    @classmethod
    def build(cls, flags: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> "Config":
        """Merge flags (None means not given) over environment variables over defaults, and validate."""
        flags = flags or {}
        env = os.environ if env is None else env
        analyzer_fields = {f.name: f.type for f in dataclasses.fields(AnalyzerConfig)}
        chosen: dict[str, Any] = {}
        for name, var in ENV_VARS.items():
            value = flags.get(name)
            if value is None and env.get(var):
                value = env[var]
            if value is not None:
                chosen[name] = value
        workers = _positive_int(chosen.pop("workers", None), "workers")
        scheduler = chosen.pop("scheduler", None)
        if "keyframe_interval_s" in chosen:
            chosen["keyframe_interval_s"] = _positive_float(chosen["keyframe_interval_s"], "keyframe interval")
        store = chosen.pop("store", None)
        store = (str(store) if "://" in str(store) else str(Path(store).expanduser())) if store else default_store_path()
        chosen["thumbnail_dir"] = thumbnail_dir(store)
        analyzer_config = AnalyzerConfig(**{k: v for k, v in chosen.items() if k in analyzer_fields})
        kwargs: dict[str, Any] = {"analyzers": analyzer_config, "store": store}
        if scheduler:
            kwargs["scheduler"] = scheduler_address(str(scheduler))
        if workers is not None:
            kwargs["workers"] = workers
        return cls(**kwargs)


def scheduler_address(value: str) -> str:
    """Validate a Dask scheduler address and give it a scheme: `HOST:PORT` means `tcp://HOST:PORT`."""
    address = value.strip().rstrip("/")
    if "://" not in address:
        address = "tcp://" + address
    url = urlparse(address)
    try:
        port = url.port
    except ValueError:
        port = None
    if url.scheme not in ("tcp", "tls") or not url.hostname or port is None or url.path:
        raise UsageError(f"scheduler must be tcp://HOST:PORT (a Dask scheduler), got {value!r}")
    return address


def _positive_int(value: Any, what: str) -> int | None:
    """Parse a positive integer option, or raise a UsageError naming it."""
    if value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise UsageError(f"{what} must be a whole number, got {value!r}") from None
    if number < 1:
        raise UsageError(f"{what} must be at least 1, got {number}")
    return number


def _positive_float(value: Any, what: str) -> float:
    """Parse a positive number option, or raise a UsageError naming it."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{what} must be a number, got {value!r}") from None
    if not number > 0:
        raise UsageError(f"{what} must be above 0, got {number}")
    return number
