"""Every file a model, a run or the Models dock reads is a regular file of a bounded size: a pipe
planted in a received project does not block, a sparse giant is not read, and values of the wrong
JSON type do not reach the window. One line each from the commands."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from segstudio.cli.main import main

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from cli_helpers import error_line, photo, tiny_model  # noqa: E402
from core_hostile import call_with_timeout  # noqa: E402
from state_helpers import checksums  # noqa: E402


def sparse(path: Path, size: int) -> Path:
    """A file of ``size`` bytes that costs no disk (all zeros)."""
    with open(path, "wb") as handle:
        handle.truncate(size)
    return path


def run_cli(argv: list[str], fifo: Path | None = None) -> int:
    kind, status = call_with_timeout(lambda: main(argv), fifo=fifo)
    assert kind == "ok", status
    return status


def test_a_weights_file_that_is_a_pipe_does_not_block(tmp_path, capsys):
    os.mkfifo(tmp_path / "model.pth")
    assert run_cli(["model-info", str(tmp_path / "model.pth")], tmp_path / "model.pth") == 1
    assert "pipe" in error_line(capsys.readouterr().err)


def test_a_weights_file_that_is_a_device_is_one_line(tmp_path, capsys):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.safetensors").symlink_to("/dev/zero")
    assert run_cli(["model-info", str(folder)]) == 1
    assert "device" in error_line(capsys.readouterr().err)


def test_a_giant_config_is_not_read(tmp_path, capsys):
    folder = tiny_model(tmp_path / "model")
    sparse(folder / "config.json", 64 * 1024 * 1024)
    assert run_cli(["model-info", str(folder)]) == 1
    assert "larger than" in error_line(capsys.readouterr().err)


def test_import_from_a_pipe_does_not_block(tmp_path, capsys, monkeypatch):
    sys.path.insert(0, str(HERE.parent / "model"))
    import hub_server

    hub_server.point_hub_at(monkeypatch, tmp_path / "hf-home", offline=True)
    try:
        os.mkfifo(tmp_path / "weights.safetensors")
        argv = ["fetch-model", "someone/tiny", "--from", str(tmp_path / "weights.safetensors")]
        assert run_cli(argv, tmp_path / "weights.safetensors") == 1
        assert "pipe" in error_line(capsys.readouterr().err)
        assert not (tmp_path / "hf-home" / "hub" / "models--someone--tiny").exists()
    finally:
        hub_server.restore_hub(monkeypatch)


def test_a_sam_config_that_is_a_pipe_does_not_block(tmp_path):
    from segstudio.core.errors import CheckpointError
    from segstudio.model.sam.loader import load_model

    os.mkfifo(tmp_path / "config.json")
    kind, error = call_with_timeout(lambda: load_model(tmp_path), fifo=tmp_path / "config.json")
    assert kind == "error" and isinstance(error, CheckpointError) and "pipe" in str(error)


@pytest.mark.parametrize("name", ["config.json", "history.json"])
def test_the_models_dock_lists_a_model_whose_files_are_pipes(tmp_path, name):
    from segstudio.application.training.model_registry import list_models

    folder = tiny_model(tmp_path / "models" / "m")
    (folder / name).unlink(missing_ok=True)
    os.mkfifo(folder / name)
    kind, records = call_with_timeout(lambda: list_models(tmp_path), fifo=folder / name)
    assert kind == "ok" and [r.name for r in records] == ["m"]


def test_cached_prediction_scores_that_are_a_pipe_do_not_block(tmp_path):
    from segstudio.application.review.model_runner import ModelRunner
    from segstudio.application.review.prediction_cache import cache_folder

    model = tiny_model(tmp_path / "save" / "models" / "m")
    image = photo(tmp_path / "images" / "a.jpg")
    folder = cache_folder(tmp_path / "save", model)
    folder.mkdir(parents=True)
    os.mkfifo(folder / "scores.json")
    kind, result = call_with_timeout(lambda: ModelRunner().predict(tmp_path / "save", model, image),
                                     fifo=folder / "scores.json")
    assert kind == "ok" and result.labels.shape == (40, 48)


def test_a_giant_image_list_is_one_line(tmp_path, capsys):
    sys.path.insert(0, str(HERE.parent / "model"))
    from train_synth import make_project

    image_dir, save_dir = make_project(tmp_path, count=3, size=64)
    lists = save_dir / "ImageSets" / "Segmentation"
    lists.mkdir(parents=True)
    (lists / "val.txt").write_text("img_000\n")
    sparse(lists / "train.txt", 256 * 1024 * 1024)
    init = tiny_model(tmp_path / "init", names=("background", "disc", "square", "triangle"))
    before = checksums(save_dir, image_dir)
    assert main(["train", str(save_dir), "--images", str(image_dir), "--model", str(init), "--size", "64",
                 "--steps", "1", "--workers", "0", "--device", "cpu"]) == 1  # main thread: it sets SIGINT
    line = error_line(capsys.readouterr().err)
    assert "train.txt" in line and "larger than" in line
    assert checksums(save_dir, image_dir) == before


def test_a_hostile_history_reaches_the_window_as_plain_values(tmp_path):
    from segstudio.application.review.review_metrics import last_validation
    from segstudio.application.training.model_registry import record_for
    from segstudio.model.training.history import read_history

    folder = tiny_model(tmp_path / "m")
    (folder / "history.json").write_text(json.dumps({
        "epochs": [{"epoch": 1e308, "train_loss": 1e308, "val_miou": True, "val_pixel_accuracy": "high",
                    "val_iou": "abc", "step": -3}, "not an epoch", 7],
        "best_miou": 1e308, "class_names": "abc", "step": 1.5, "total_steps": 10**30,
    }))
    history = read_history(folder)
    assert history == {"epochs": [{"train_loss": None, "val_miou": None, "val_pixel_accuracy": None,
                                   "val_iou": []}], "best_miou": None}
    assert np.isnan(record_for(folder).best_miou)
    assert record_for(folder).class_names == ["background", "cat", "dog"]  # config.json's, not "a", "b", "c"
    assert last_validation(history, ["background", "cat", "dog"]) is not None


def test_an_active_model_that_is_a_pipe_is_refused_by_the_windows_runner(tmp_path):
    """A received project's project.json may name any path as its active model."""
    from segstudio.application.review.model_runner import ModelRunner
    from segstudio.core.errors import CheckpointError

    image = photo(tmp_path / "images" / "a.jpg")
    os.mkfifo(tmp_path / "model.safetensors")
    kind, error = call_with_timeout(lambda: ModelRunner().predict(tmp_path / "save", tmp_path / "model.safetensors",
                                                                  image), fifo=tmp_path / "model.safetensors")
    assert kind == "error" and isinstance(error, CheckpointError) and "pipe" in str(error)
