"""Turns analysis results into Chroma records (flat metadata, a JSON document, vectors) and back."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field
from typing import Any

from analyzers import RESULT_TYPES, Result


@dataclass(frozen=True)
class Failure:
    """One thing that went wrong: the file, the analyzer (or "decode"/"scan") and why."""

    path: str
    analyzer: str
    error: str


def display_path(path: str) -> str:
    """A path as valid UTF-8 text (undecodable bytes shown as \\xNN), for metadata and printing."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


@dataclass(frozen=True)
class FileEntry:
    """Where an item's content was last seen, so an unchanged file is skipped without hashing."""

    path: str
    size: int
    mtime_ns: int
    item_id: str
    sidecar_sig: str = ""

    def to_metadata(self) -> dict[str, Any]:
        """Chroma metadata; a path that is not valid UTF-8 is kept exactly in `path_bytes` (base64)."""
        meta: dict[str, Any] = {**self.__dict__, "path": display_path(self.path)}
        if meta["path"] != self.path:
            meta["path_bytes"] = base64.b64encode(os.fsencode(self.path)).decode("ascii")
        return meta

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> "FileEntry":
        """Rebuild an entry, with its exact path, from `to_metadata` output."""
        fields = {k: v for k, v in meta.items() if k != "path_bytes"}
        if "path_bytes" in meta:
            fields["path"] = os.fsdecode(base64.b64decode(meta["path_bytes"]))
        return cls(**fields)


@dataclass
class ItemRecord:
    """Everything known about one item (one content id): its file, kind and each analyzer's result."""

    id: str
    kind: str
    path: str | None
    duration_s: float | None = None
    added_at: float = 0.0
    results: dict[str, Result] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    catalog_id: str | None = None  # a text-only item's id in the catalog it was imported from

    def vectors(self) -> dict[str, list[float]]:
        """The item's vector in each space its analyses fill (space name -> vector)."""
        out = {}
        for name, result in self.results.items():
            space = _space_of(name)
            if space and getattr(result, "vector", None):
                out[space] = list(result.vector)
        return out

    def to_json(self) -> dict[str, Any]:
        """The record `show --json` prints: id, path, kind, duration_s and one object per analyzer."""
        out: dict[str, Any] = {
            "id": self.id, "path": self.path, "kind": self.kind, "duration_s": self.duration_s,
            "added_at": self.added_at, "partial": bool(self.warnings), "warnings": list(self.warnings),
        }
        if self.catalog_id is not None:
            out["catalog_id"] = self.catalog_id
        for name, result in sorted(self.results.items()):
            data = result.to_dict()
            data.pop("vector", None)
            out[name] = data
        out["failures"] = [f.__dict__ for f in self.failures]
        return out

    def to_metadata(self) -> dict[str, Any]:
        """Flat, filterable metadata: `kind`, `path`, `audio.tempo_bpm`, `v.audio` (analyzer version)..."""
        meta: dict[str, Any] = {"kind": self.kind, "added_at": self.added_at, "partial": bool(self.warnings),
                                "failed": len(self.failures)}
        if self.path:
            meta["path"] = display_path(self.path)
        if self.catalog_id is not None:
            meta["catalog_id"] = self.catalog_id
        if self.duration_s is not None:
            meta["duration_s"] = float(self.duration_s)
        for name, version in self.versions.items():
            meta[f"v.{name}"] = version
        for name, result in self.results.items():
            for key, value in result.to_dict().items():
                if key != "vector" and _is_metadata_value(value):
                    meta[f"{name}.{key}"] = list(value) if isinstance(value, (list, tuple)) else value
        return meta

    def to_document(self) -> str:
        """The full record as JSON, vectors included, so the item can be rebuilt without re-analysis."""
        return json.dumps({
            "id": self.id, "kind": self.kind, "path": self.path, "duration_s": self.duration_s,
            "added_at": self.added_at, "versions": self.versions, "warnings": self.warnings,
            "catalog_id": self.catalog_id,
            "failures": [f.__dict__ for f in self.failures],
            "results": {name: r.to_dict() for name, r in self.results.items()},
        })

    @classmethod
    def from_document(cls, document: str) -> "ItemRecord":
        """Rebuild a record from `to_document`; results of analyzers no longer known, or of another shape
        (written by an older version), are dropped with their version, so the next run redoes them."""
        data = json.loads(document)
        results, dropped = {}, set()
        for name, result in data.get("results", {}).items():
            try:
                results[name] = RESULT_TYPES[name].from_dict(result)
            except (KeyError, TypeError):  # an analyzer gone or renamed, or a result of another shape
                dropped.add(name)
        return cls(
            id=data["id"], kind=data["kind"], path=data.get("path"), duration_s=data.get("duration_s"),
            added_at=data.get("added_at", 0.0), results=results,
            versions={k: v for k, v in data.get("versions", {}).items() if k in RESULT_TYPES and k not in dropped},
            failures=[Failure(**f) for f in data.get("failures", [])], warnings=data.get("warnings", []),
            catalog_id=data.get("catalog_id"),
        )


def _space_of(analyzer_name: str) -> str | None:
    """The vector space an analyzer's results go to, from the analyzer class."""
    from analyzers import ALL_ANALYZERS

    return next((a.space for a in ALL_ANALYZERS if a.name == analyzer_name), None)


METADATA_TEXT_CHARS = 4000  # longer strings (transcripts) stay in the document only


def _is_metadata_value(value: Any) -> bool:
    """Chroma metadata holds scalars, short strings and non-empty lists of strings; number lists are left out."""
    if isinstance(value, str):
        return len(value) <= METADATA_TEXT_CHARS
    if isinstance(value, (bool, int, float)):
        return True
    if isinstance(value, (list, tuple)) and value:
        return all(isinstance(v, str) for v in value)
    return False
