"""What the command line says (issue 29, item 11): no "finished: finished 20 steps", no
"1 validation images", a missing folder named as missing, and train --help's defaults read from
the tables that hold them (the learning rates from the recipe)."""

from __future__ import annotations

import sys
from pathlib import Path

from segstudio.cli.main import main
from segstudio.core.words import count, not_a_folder
from segstudio.model.training import recipe
from segstudio.model.training.options import format_rate
from segstudio.model.training.types import TrainConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "model"))
from train_synth import make_project  # noqa: E402


def test_counts_agree_with_their_number():
    assert [count(n, "validation image") for n in (0, 1, 2)] == [
        "0 validation images", "1 validation image", "2 validation images"]
    assert count(1, "step") == "1 step" and count(3, "class", "classes") == "3 classes"
    notes = recipe.choose(TrainConfig(init="b0", size=64), [(64, 64)] * 10, val_count=1).notes
    assert any(note.startswith("only 1 validation image:") for note in notes), notes


def test_a_missing_folder_is_said_to_be_missing(tmp_path, capsys):
    assert not_a_folder(tmp_path / "nosuch") == f"folder {tmp_path / 'nosuch'} does not exist"
    (tmp_path / "file").write_text("x")
    assert not_a_folder(tmp_path / "file").startswith("not a folder")
    assert main(["export", "coco", str(tmp_path / "nosuch"), str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nosuch does not exist" in err and "no mask" not in err


def test_train_help_takes_the_learning_rates_from_the_recipe(capsys):
    try:
        main(["train", "--help"])
    except SystemExit:
        pass
    text = " ".join(capsys.readouterr().out.split())
    assert f"{format_rate(recipe.PRETRAINED_LR)} pretrained, {format_rate(recipe.SCRATCH_LR)} from scratch" in text
    assert format_rate(6e-5) == "6e-5" and format_rate(1e-3) == "1e-3" and format_rate(2.5e-4) == "2.5e-4"
    assert "(default 512)" in text and "(default 8)" in text  # the options table's


def test_the_last_line_of_a_run_says_how_it_ended_once(tmp_path, capsys):
    image_dir, save_dir = make_project(tmp_path, count=3)
    assert main(["train", str(save_dir), "--images", str(image_dir), "--model", "b0", "--steps", "1",
                 "--size", "64", "--batch", "2", "--workers", "0"]) == 0
    err = capsys.readouterr().err
    assert "finished: finished" not in err and "\nfinished 1 step; val mIoU" in err
