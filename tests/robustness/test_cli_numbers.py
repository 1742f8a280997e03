"""Every numeric option of every command refuses inf, nan, negatives and absurd sizes with one line
naming the option, before any file is read or written (argparse's ``float`` accepts them all)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from segstudio.cli.main import main

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "model"))
from cli_helpers import checksums, error_line, photo, tiny_model  # noqa: E402
from train_synth import make_project  # noqa: E402


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("numbers")
    image_dir, save_dir = make_project(root, count=2, size=32)
    model = tiny_model(root / "model", names=("background", "disc", "square", "triangle"))
    photo(root / "photos" / "a.jpg")
    return root, image_dir, save_dir, model


def argv(command: str, root: Path, image_dir: Path, save_dir: Path, model: Path, out: Path) -> list[str]:
    return {
        "export coco": ["export", "coco", str(save_dir), str(out), "--images", str(image_dir)],
        "export yolo": ["export", "yolo", str(save_dir), str(out), "--images", str(image_dir)],
        "export voc": ["export", "voc", str(save_dir), str(out), "--images", str(image_dir)],
        "train": ["train", str(save_dir), "--images", str(image_dir), "--model", str(model), "--device", "cpu",
                  "--workers", "0", "--steps", "1", "--size", "32"],
        "predict": ["predict", str(model), str(root / "photos"), str(out), "--device", "cpu"],
        "export-onnx": ["export-onnx", str(model), str(out / "m.onnx"), "--no-verify"],
    }[command]


NAMED = {"--lr": "learning rate", "--label-smoothing": "label smoothing", "--grad-clip": "clipping",
         "--workers": "workers", "--epochs": "epochs", "--batch": "batch", "--size": "size", "--seed": "seed",
         "--opset": "opset"}  # how the message names the option, when not by its flag
CASES = [
    ("export coco", ["--simplify", "inf"]), ("export coco", ["--simplify", "nan"]),
    ("export coco", ["--simplify", "1e308"]), ("export coco", ["--simplify", "-1"]),
    ("export yolo", ["--simplify", "inf"]), ("export yolo", ["--simplify", "1e308"]),
    ("export voc", ["--val", "nan"]), ("export voc", ["--val", "inf"]), ("export voc", ["--val", "-0.5"]),
    ("export voc", ["--val", "1"]),
    ("train", ["--lr", "inf"]), ("train", ["--lr", "1e308"]), ("train", ["--label-smoothing", "nan"]),
    ("train", ["--grad-clip", "inf"]), ("train", ["--seed", "-1"]), ("train", ["--seed", str(2**70)]),
    ("train", ["--size", "1e308"]), ("train", ["--epochs", "inf"]), ("train", ["--batch", "-4"]),
    ("train", ["--workers", "1000000"]),
    ("predict", ["--tile", "1e308"]), ("predict", ["--tile", "-32"]), ("predict", ["--scale", "inf"]),
    ("predict", ["--scale", "-512"]),
    ("export-onnx", ["--opset", "-1"]), ("export-onnx", ["--opset", "1000000000"]),
]


@pytest.mark.parametrize("command, option", CASES, ids=[f"{c} {' '.join(o)}" for c, o in CASES])
def test_an_absurd_number_is_one_line_naming_the_option(folders, tmp_path, capsys, command, option):
    root, image_dir, save_dir, model = folders
    before = checksums(root)
    assert main(argv(command, root, image_dir, save_dir, model, tmp_path / "out") + option) == 1
    line = error_line(capsys.readouterr().err)
    assert option[0] in line or NAMED.get(option[0], option[0]) in line
    assert checksums(root) == before and not (tmp_path / "out").exists()
    assert not (save_dir / "models").exists()
