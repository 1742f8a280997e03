"""Damaged or hostile model configs fail with one line naming the problem (model-info, predict)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from segstudio.cli.main import main

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cli_helpers import checksums, error_line, photo, tiny_model  # noqa: E402


def tamper(folder: Path, change) -> None:
    config = json.loads((folder / "config.json").read_text())
    change(config)
    (folder / "config.json").write_text(json.dumps(config))  # NaN is written as the literal NaN


def set_seg(key, value):
    return lambda c: c["segformer"].__setitem__(key, value)


CASES = {
    "zero heads": (set_seg("num_heads", [0, 2, 3, 4]), "num_heads 0"),
    "absurd width": (set_seg("hidden_sizes", [16, 32, 48, 10**9]), "hidden_sizes 1000000000"),
    "negative depth": (set_seg("depths", [1, -1, 1, 1]), "depths -1"),
    "heads do not divide": (set_seg("num_heads", [1, 2, 5, 4]), "not divisible"),
    "fractional size": (set_seg("decoder_hidden_size", 32.5), "whole numbers"),
    "text size": (set_seg("decoder_hidden_size", "big"), "whole numbers"),
    "huge decoder": (set_seg("decoder_hidden_size", 10**12), "decoder_hidden_size"),
    "class names vs weights": (lambda c: c["class_names"].append("bird"), "class names 4"),
    "num_labels vs weights": (lambda c: (c["class_names"].append("bird"),
                                         c["segformer"].__setitem__("num_labels", 4)), "classifier weights 3"),
    "zero std": (lambda c: c.__setitem__("std", [0.2, 0.0, 0.2]), "std"),
    "negative std": (lambda c: c.__setitem__("std", [0.2, -0.1, 0.2]), "std"),
    "NaN std": (lambda c: c.__setitem__("std", [float("nan"), 0.2, 0.2]), "std"),
    "NaN mean": (lambda c: c.__setitem__("mean", [0.4, float("nan"), 0.4]), "mean"),
    "short mean": (lambda c: c.__setitem__("mean", [0.4]), "mean"),
    "absurd image size": (lambda c: c.__setitem__("image_size", -5), "image_size"),
    "astronomic image size": (lambda c: c.__setitem__("image_size", 1e300), "image_size"),
    "image size as text": (lambda c: c.__setitem__("image_size", "512"), "image_size"),
    "image size as bool": (lambda c: c.__setitem__("image_size", True), "image_size"),
    "class names as text": (lambda c: c.__setitem__("class_names", "abc"), "class_names"),
    "class names as numbers": (lambda c: c.__setitem__("class_names", [0, 1, 2]), "class_names"),
    "colour out of range": (lambda c: c["colours"].__setitem__(1, [1000, 0, 0]), "colours"),
    "colour as text": (lambda c: c["colours"].__setitem__(1, "#ff0000"), "colours"),
    "mean as text": (lambda c: c.__setitem__("mean", "imagenet"), "mean"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_config_is_one_line(tmp_path, capsys, case):
    change, expected = CASES[case]
    folder = tiny_model(tmp_path / "model")
    tamper(folder, change)
    photo(tmp_path / "images" / "a.jpg")
    before = checksums(tmp_path)
    assert main(["model-info", str(folder)]) == 1
    line = error_line(capsys.readouterr().err)
    assert expected in line and "config" in line
    assert main(["predict", str(folder), str(tmp_path / "images"), str(tmp_path / "out"), "--device", "cpu"]) == 1
    assert expected in error_line(capsys.readouterr().err)
    assert checksums(tmp_path) == before and not (tmp_path / "out").exists()


def test_public_config_with_absurd_sizes_is_one_line(tmp_path, capsys):
    folder = tiny_model(tmp_path / "model")
    config = json.loads((folder / "config.json").read_text())["segformer"]
    hf = {"model_type": "segformer", "hidden_sizes": config["hidden_sizes"], "depths": config["depths"],
          "num_attention_heads": [0, 0, 0, 0], "sr_ratios": config["sr_ratios"],
          "decoder_hidden_size": config["decoder_hidden_size"]}
    (folder / "config.json").write_text(json.dumps(hf))
    assert main(["model-info", str(folder)]) == 1
    assert "num_heads 0" in error_line(capsys.readouterr().err)


HF_CASES = {
    "id2label keys not numbers": ("id2label", {"a": "cat"}),
    "id2label a list": ("id2label", ["cat"]),
    "mlp_ratios a number": ("mlp_ratios", 4),
    "architectures a number": ("architectures", 5),
}


@pytest.mark.parametrize("case", sorted(HF_CASES))
def test_public_config_of_the_wrong_types_is_one_line(tmp_path, capsys, case):
    """A Hugging Face folder (config.json + model.safetensors) whose config has values of the wrong
    JSON type: one line naming the config, never a traceback."""
    folder = tiny_model(tmp_path / "model")
    config = json.loads((folder / "config.json").read_text())["segformer"]
    hf = {"model_type": "segformer", "hidden_sizes": config["hidden_sizes"], "depths": config["depths"],
          "num_attention_heads": config["num_heads"], "sr_ratios": config["sr_ratios"],
          "decoder_hidden_size": config["decoder_hidden_size"]}
    key, value = HF_CASES[case]
    hf[key] = value
    (folder / "config.json").write_text(json.dumps(hf))
    before = checksums(tmp_path)
    assert main(["model-info", str(folder)]) == 1
    assert "config.json" in error_line(capsys.readouterr().err)
    assert checksums(tmp_path) == before
