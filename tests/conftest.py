"""Shared fixtures: a small synthesized library, a fresh store and a Library over it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from indexer.config import Config
from indexer.library import Library
from tests import synth


def make_library_folder(root: Path) -> dict[str, Path]:
    """Three short audio files with known content, one in a sub-folder with a spaced, non-ASCII name."""
    root.mkdir(parents=True, exist_ok=True)
    return {
        "fast": synth.click_track(root / "fast clicks.wav", tempo_bpm=150, duration_s=4.0),
        "slow": synth.chord_progression(root / "sub dir" / "élégie lente.wav", key="A", mode="minor",
                                        tempo_bpm=70, duration_s=6.0),
        "major": synth.chord_progression(root / "major.wav", key="C", mode="major", tempo_bpm=120, duration_s=6.0),
    }


@pytest.fixture
def media_dir(tmp_path: Path) -> Path:
    """A folder of synthesized audio."""
    folder = tmp_path / "media"
    make_library_folder(folder)
    return folder


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """A config with its own store and one in-process worker."""
    return Config.build({"store": str(tmp_path / "store"), "workers": 1}, env={})


@pytest.fixture
def library(config: Config) -> Library:
    """A Library over a fresh store."""
    return Library(config)


def need_tool(program: str) -> None:
    """Skip the calling test, with the reason, when an external program is absent."""
    if shutil.which(program) is None:
        pytest.skip(f"{program} is not installed (apt-get install {program})")


SHARED_MODELS = Path(__file__).resolve().parents[2] / "shared" / "models"


def detector_model() -> str:
    """The YOLOX-Nano detector in ../shared/models, or a skip saying it is absent (a fresh clone)."""
    path = SHARED_MODELS / "yolox_nano.onnx"
    if not path.is_file():
        pytest.skip(f"object detector not found at {path} (see README: Models)")
    return str(path)
