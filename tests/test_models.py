from __future__ import annotations

from pathlib import Path

import pytest

from redactor.errors import ModelMissing
from redactor.models import MODELS, model_path


def test_missing_model_names_the_fetch_command(tmp_path: Path) -> None:
    with pytest.raises(ModelMissing) as e:
        model_path("centerface", tmp_path)
    assert "python -m redactor.models fetch" in str(e.value)


def test_altered_model_is_refused(tmp_path: Path) -> None:
    (tmp_path / "centerface.onnx").write_bytes(b"not the model")
    with pytest.raises(ModelMissing) as e:
        model_path("centerface", tmp_path)
    assert "sha256" in str(e.value) and MODELS["centerface"].sha256 in str(e.value)


def test_cached_models_verify() -> None:
    for name in MODELS:
        assert model_path(name).is_file()
