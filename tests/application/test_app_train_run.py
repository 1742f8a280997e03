"""A window's training run without Qt: its rules (no worker processes, stop, every failure a result,
the snapshot removed) on a real snapshot of a real project."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import pytest

from segstudio.application.training.train_run import TrainRun
from segstudio.application.training.train_snapshot import take_snapshot
from segstudio.core.masks import write_mask
from segstudio.core.project import Project
from segstudio.model.training.types import TrainConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "model"))
from train_synth import make_project, tiny_config  # noqa: E402


def _sums(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.png"))}


@pytest.fixture
def synth(tmp_path):
    return make_project(tmp_path / "synth", count=6, size=64, seed=2)


def _config(**extra) -> TrainConfig:
    fields = dict(model_config=tiny_config(), size=64, batch=2, steps=100000, lr=2e-3, num_workers=2,
                  progress_interval_s=0.0, name="run")
    return TrainConfig(**{**fields, **extra})


def test_a_stop_ends_the_run_keeps_a_model_and_removes_the_snapshot(synth) -> None:
    image_dir, save_dir = synth
    before = _sums(save_dir)
    snapshot = take_snapshot(Project(image_dir, save_dir))
    run = TrainRun(snapshot, _config())
    assert run.config.num_workers == 0  # never worker processes inside the GUI
    reports = []

    def on_progress(report) -> None:
        reports.append(report)
        if len(reports) == 2:
            run.request_stop()

    result = run.execute(on_progress)
    assert result.status == "stopped", result.message
    assert run.stop_requested and len(reports) == 2 and reports[-1].step == 2
    assert (save_dir / "models" / "run" / "model.safetensors").is_file()
    assert not snapshot.folder.exists()
    assert _sums(save_dir) == before  # the user's masks untouched


@pytest.mark.parametrize("hostile, words", [
    ("one_class", "only 'background'"),
    ("device", "device"),
    ("settings", "training size"),
])
def test_every_failure_is_a_result_and_the_snapshot_still_goes(synth, hostile, words) -> None:
    image_dir, save_dir = synth
    extra = {}
    if hostile == "one_class":
        for path in save_dir.glob("img_*.png"):
            write_mask(path, np.zeros((64, 64), np.uint8))
    elif hostile == "device":
        extra["device"] = "quantum"
    else:
        extra["size"] = 100
    snapshot = take_snapshot(Project(image_dir, save_dir))
    result = TrainRun(snapshot, _config(**extra)).execute()
    assert result.status == "failed" and words in result.message
    assert not snapshot.folder.exists()

