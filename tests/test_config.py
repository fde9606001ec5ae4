"""Configuration: flags beat MEDIAINDEX_* variables, which beat defaults; bad values are usage errors."""

from __future__ import annotations

import pytest

from indexer.config import Config, default_store_path
from indexer.errors import UsageError


def test_flags_then_environment_then_defaults():
    env = {"MEDIAINDEX_STORE": "/env/store", "MEDIAINDEX_WORKERS": "3", "MEDIAINDEX_TEXT_MODEL": "/env/model",
           "MEDIAINDEX_ASR_ENGINE": "whisper"}
    config = Config.build({"store": "/flag/store", "asr_engine": None}, env=env)
    assert config.store == "/flag/store"  # flag wins
    assert config.workers == 3 and config.analyzers.text_model == "/env/model"  # environment next
    assert config.analyzers.asr_engine == "whisper"  # a flag left unset does not hide the variable
    assert config.analyzers.spacy_model == "en_core_web_sm"  # default last
    assert Config.build({}, env={}).store == default_store_path()


def test_every_model_has_a_flag_and_a_variable():
    env = {"MEDIAINDEX_ASR_MODEL": "base", "MEDIAINDEX_DETECTOR_MODEL": "/m/yolox.onnx",
           "MEDIAINDEX_SPACY_MODEL": "en_core_web_md", "MEDIAINDEX_LANGUAGE": "de"}
    analyzers = Config.build({}, env=env).analyzers
    assert (analyzers.asr_model, analyzers.detector_model, analyzers.spacy_model, analyzers.language) == (
        "base", "/m/yolox.onnx", "en_core_web_md", "de")


def test_server_store_is_kept_as_a_url():
    assert Config.build({"store": "http://127.0.0.1:8000"}, env={}).store == "http://127.0.0.1:8000"


@pytest.mark.parametrize("flags", [{"workers": "many"}, {"workers": 0}, {"keyframe_interval_s": "-1"}])
def test_bad_values_are_usage_errors(flags):
    with pytest.raises(UsageError):
        Config.build(flags, env={})
