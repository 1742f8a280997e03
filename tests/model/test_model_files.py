"""The torch-free rule for a model's files, shared by the loader and the window's model list."""

from __future__ import annotations

import pytest

from segstudio.core.errors import CheckpointError
from segstudio.model.weights.model_files import locate, weights_file


def test_folder_prefers_safetensors_then_bin_then_its_only_weights_file(tmp_path) -> None:
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "mit_b0.pth").write_bytes(b"x")
    assert locate(tmp_path) == (tmp_path / "mit_b0.pth", tmp_path / "config.json")
    (tmp_path / "pytorch_model.bin").write_bytes(b"x")
    assert weights_file(tmp_path) == tmp_path / "pytorch_model.bin"
    (tmp_path / "model.safetensors").write_bytes(b"x")
    assert weights_file(tmp_path) == tmp_path / "model.safetensors"


def test_no_or_several_weights_files(tmp_path) -> None:
    assert weights_file(tmp_path) is None
    assert weights_file(tmp_path / "missing") is None
    (tmp_path / "a.pth").write_bytes(b"x")
    (tmp_path / "b.pt").write_bytes(b"x")
    with pytest.raises(CheckpointError, match="found a.pth, b.pt"):
        locate(tmp_path)
    assert weights_file(tmp_path) is None
