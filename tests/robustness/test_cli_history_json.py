"""history.json is standard JSON (no NaN/-Infinity literals), and old files with them still read."""

from __future__ import annotations

import json
import math

from segstudio.model.training.history import read_history, write_history


def strict_loads(text: str):
    def refuse(name):
        raise ValueError(f"non-standard JSON literal {name}")
    return json.loads(text, parse_constant=refuse)


def test_written_history_is_standard_json(tmp_path):
    epochs = [{"epoch": 1, "train_loss": math.inf, "val_miou": math.nan, "val_iou": [0.5, math.nan]}]
    write_history(tmp_path, epochs, {"best_miou": -math.inf, "class_names": ["a", "b"]})
    data = strict_loads((tmp_path / "history.json").read_text())
    assert data["best_miou"] is None and data["epochs"][0]["val_iou"] == [0.5, None]
    assert data["epochs"][0]["train_loss"] is None and data["epochs"][0]["val_miou"] is None
    assert read_history(tmp_path) == data


def test_old_history_with_literals_reads(tmp_path):
    (tmp_path / "history.json").write_text('{"epochs": [{"epoch": 1, "val_miou": NaN}], "best_miou": -Infinity}')
    data = read_history(tmp_path)
    assert data == {"epochs": [{"epoch": 1, "val_miou": None}], "best_miou": None}


def test_stopped_run_before_validation_writes_standard_json(tmp_path):
    """The real trainer: stopped at once, best mIoU still -inf."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "model"))
    from cli_helpers import tiny_model
    from train_synth import make_project

    from segstudio.core.project import Project
    from segstudio.model.training.train import TrainConfig, train

    image_dir, save_dir = make_project(tmp_path, count=3, size=64)
    init = tiny_model(tmp_path / "init", names=("background", "disc", "square", "triangle"))
    result = train(Project(image_dir, save_dir), TrainConfig(init=str(init), steps=4, size=64, batch=2,
                                                             device="cpu", name="m"), should_stop=lambda: True)
    assert result.status == "stopped"
    data = strict_loads((save_dir / "models" / "m" / "history.json").read_text())
    assert data["best_miou"] is None
