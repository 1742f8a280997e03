"""A model whose weights (or scores) are NaN or infinite is refused with one line naming its file,
by the commands and by the window's runner, instead of predicting class 0 everywhere."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from safetensors.torch import load_file, save_file

from segstudio.cli.main import main

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from cli_helpers import checksums, error_line, photo, tiny_model  # noqa: E402


def poison(folder: Path, name: str, value: float, whole: bool = False) -> None:
    """Put ``value`` in one weight of tensor ``name`` (every weight when ``whole``)."""
    tensors = load_file(folder / "model.safetensors")
    tensor = tensors[name].clone()
    if whole:
        tensor.fill_(value)
    else:
        tensor.view(-1)[0] = value
    tensors[name] = tensor
    save_file(tensors, folder / "model.safetensors", metadata={"format": "segstudio-segformer"})


CASES = {
    "one NaN": ("segformer.encoder.patch_embeddings.0.proj.weight", float("nan"), False, "not finite"),
    "one infinity": ("decode_head.classifier.weight", float("inf"), False, "not finite"),
    "scores overflow": ("decode_head.classifier.weight", 3e38, True, "not finite"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_predict_and_model_info_refuse(tmp_path, capsys, case):
    name, value, whole, message = CASES[case]
    model = tiny_model(tmp_path / "model")
    poison(model, name, value, whole)
    photo(tmp_path / "images" / "a.jpg")
    before = checksums(tmp_path)
    assert main(["predict", str(model), str(tmp_path / "images"), str(tmp_path / "out"), "--device", "cpu"]) == 1
    line = error_line(capsys.readouterr().err)
    assert message in line and str(model) in line
    assert not list((tmp_path / "out").glob("*.png"))  # no mask of class 0 everywhere
    if whole:  # finite weights: described, but not usable for prediction
        assert main(["model-info", str(model)]) == 0
    else:
        assert main(["model-info", str(model)]) == 1
        assert "model.safetensors" in error_line(capsys.readouterr().err)
    assert {k: v for k, v in checksums(tmp_path).items() if "/out/" not in k} == before


def test_the_windows_runner_refuses_a_nan_model(tmp_path):
    from segstudio.application.review.model_runner import ModelRunner
    from segstudio.core.errors import CheckpointError

    model = tiny_model(tmp_path / "save" / "models" / "m")
    poison(model, "decode_head.linear_fuse.weight", float("nan"))
    image = photo(tmp_path / "images" / "a.jpg")
    with pytest.raises(CheckpointError, match="not finite"):
        ModelRunner().predict(tmp_path / "save", model, image)
    assert not (tmp_path / "save" / ".segstudio").exists()  # nothing cached


def test_a_finite_model_still_predicts(tmp_path, capsys):
    model = tiny_model(tmp_path / "model")
    photo(tmp_path / "images" / "a.jpg")
    assert main(["predict", str(model), str(tmp_path / "images"), str(tmp_path / "out"), "--device", "cpu"]) == 0
    assert (tmp_path / "out" / "a.png").is_file()
