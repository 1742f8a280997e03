"""``segstudio-cli export-onnx`` never writes over the model's files or an existing output."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from segstudio.cli.main import main

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cli_helpers import checksums, error_line, tiny_model  # noqa: E402


@pytest.fixture
def model(tmp_path):
    folder = tiny_model(tmp_path / "model")
    (folder / "history.json").write_text('{"epochs": []}')
    return folder


@pytest.mark.parametrize("target", ["model.safetensors", "config.json", "history.json"])
def test_never_over_the_models_own_files(model, capsys, target):
    before = checksums(model)
    for extra in ([], ["--overwrite"]):
        assert main(["export-onnx", str(model), str(model / target), "--no-verify", *extra]) == 1
        assert "file of the model" in error_line(capsys.readouterr().err)
    assert main(["export-onnx", str(model / "model.safetensors"), str(model / "model.safetensors"),
                 "--overwrite"]) == 1
    assert "file of the model" in error_line(capsys.readouterr().err)
    assert checksums(model) == before


def test_existing_output_needs_overwrite(model, tmp_path, capsys):
    out = tmp_path / "mine.onnx"
    out.write_bytes(b"an earlier export")
    before = checksums(model, out)
    assert main(["export-onnx", str(model), str(out), "--no-verify"]) == 1
    assert "--overwrite" in error_line(capsys.readouterr().err)
    assert checksums(model, out) == before
    assert main(["export-onnx", str(model), str(out), "--no-verify", "--overwrite"]) == 0
    assert out.read_bytes() != b"an earlier export"
    assert checksums(model) == {k: v for k, v in before.items() if k != str(out)}


@pytest.mark.parametrize("opset", ["0", "-3", "99"])
def test_bogus_opset_is_one_line(model, tmp_path, capsys, opset):
    assert main(["export-onnx", str(model), str(tmp_path / "o.onnx"), "--opset", opset]) == 1
    assert "opset" in error_line(capsys.readouterr().err)
    assert not (tmp_path / "o.onnx").exists()


def test_mismatch_is_typed_and_writes_nothing(model, tmp_path):
    pytest.importorskip("onnxruntime")
    from segstudio.core.errors import ExportError
    from segstudio.model.onnx_export import export_onnx
    from segstudio.model.weights.checkpoints import load_model
    net, _ = load_model(model)
    with pytest.raises(ExportError, match="differs"):
        export_onnx(net, tmp_path / "x.onnx", atol=-1.0, sample_size=(64, 64))
    assert not (tmp_path / "x.onnx").exists()
