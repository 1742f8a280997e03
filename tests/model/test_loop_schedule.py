"""The loop's fixed costs: validation and files on a schedule of steps, not per epoch; the memory
path and the streaming path; the batched augmentation keeps the per-sample recipe's distributions."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from segstudio.core.project import Project
from segstudio.model.data.augment import AugmentConfig, train_transform
from segstudio.model.data.dataset import sample_rng
from segstudio.model.data.memory import MemoryTrainSet
from segstudio.model.training import checkpoint_writer
from segstudio.model.training.run_schedule import RunSchedule, val_interval
from segstudio.model.training.train import TrainConfig, train

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loop_sets import make_sample, make_set  # noqa: E402
from train_synth import tiny_config  # noqa: E402


def _config(**kw) -> TrainConfig:
    base = dict(model_config=tiny_config(), size=64, batch=8, seed=0)
    base.update(kw)
    return TrainConfig(**base)


def test_interval_is_whole_epochs_about_a_tenth_of_the_run():
    assert val_interval(600, 4) == 60
    assert val_interval(6, 2) == 2            # short runs: every epoch
    assert val_interval(1000, 7) == 98        # 14 epochs, whole epochs only
    assert val_interval(600, 4, every_epochs=50) == 200
    schedule = RunSchedule(600, 60)
    due = [s for s in range(1, 601) if schedule.validation_due(s)]
    assert due == list(range(60, 601, 60))


def test_expensive_validation_is_spaced_out_but_the_last_step_always_validates():
    schedule = RunSchedule(100, 10)
    schedule.validated(started=0.0, now=6.0)       # a 6 s validation ended at t = 6
    assert not schedule.validation_due(20, now=20.0)  # needs 10 x 6 s since the last one
    assert schedule.validation_due(40, now=67.0)
    assert schedule.validation_due(100, now=6.5)
    cheap = RunSchedule(100, 10)
    cheap.validated(started=0.0, now=0.5)          # cheap ones follow the step schedule exactly
    assert cheap.validation_due(20, now=0.6)


def test_one_step_epochs_validate_about_ten_times_and_write_the_state_once(tmp_path, monkeypatch):
    """40 epochs of one step: the old loop validated and wrote the full state 40 times."""
    image_dir, save_dir = make_set(tmp_path, "colour", count=8, size=64)
    writes = []
    real = checkpoint_writer.save_state
    monkeypatch.setattr(checkpoint_writer, "save_state", lambda folder, state: writes.append(state["step"])
                        or real(folder, state))
    points = []
    result = train(Project(image_dir, save_dir), _config(epochs=40, batch=8), on_epoch=points.append)
    assert result.status == "finished", result.message
    assert 9 <= len(points) <= 11 and points[-1].step == 40 and points[-1].epoch == 40
    assert [p.step for p in points] == sorted({p.step for p in points})
    assert writes == [40]
    history = json.loads((save_dir / "models" / "model" / "history.json").read_text())
    assert len(history["epochs"]) == len(points)
    assert set(history["timing"]) == {"setup_s", "data_s", "steps_s", "validation_s", "checkpoints_s"}
    assert (save_dir / "models" / "model" / "model.safetensors").is_file()
    assert any("held in memory" in n for n in result.notes)


def test_streaming_path_when_the_set_exceeds_the_memory_budget(tmp_path):
    image_dir, save_dir = make_set(tmp_path, "texture", count=6, size=64)
    result = train(Project(image_dir, save_dir), _config(steps=3, batch=2, memory_budget=1000))
    assert result.status == "finished", result.message
    assert any("streaming" in n for n in result.notes)
    assert len(result.history) >= 1


def _stats(images: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    valid = labels != 255
    pixels = images.transpose(0, 2, 3, 1)[valid]
    return {"ignored": float((~valid).mean()), "mean": float(pixels.mean()), "std": float(pixels.std()),
            "class1": float((labels == 1).sum() / valid.sum()), "inside": float((images != 0).any(1).mean())}


@pytest.mark.parametrize("photometric", [0.0, 0.5])
def test_batched_augmentation_keeps_the_distributions_of_the_per_sample_recipe(photometric):
    """Same recipe, 96 samples each way: padding share, class share and the colour statistics of
    the image pixels agree (the geometry draws are the same; pixels differ by resampling)."""
    rng = np.random.default_rng(0)
    pairs = [make_sample("colour", 96, rng) for _ in range(12)]
    cfg = AugmentConfig(size=64, scale_range=(0.5, 2.0), photometric_p=photometric, scale_ref=80)
    memory = MemoryTrainSet(pairs, cfg, seed=0, device=torch.device("cpu"))
    ours_x, ours_y, ref_x, ref_y = [], [], [], []
    for epoch in range(8):
        x, y = memory.batch(list(range(12)), epoch)
        ours_x.append(x.numpy())
        ours_y.append(y.numpy())
        for i, (image, label) in enumerate(pairs):
            a, b = train_transform(image, label, cfg, sample_rng(0, epoch, i))
            ref_x.append(a)
            ref_y.append(b)
    ours = _stats(np.concatenate(ours_x), np.concatenate(ours_y))
    ref = _stats(np.stack(ref_x), np.stack(ref_y))
    assert ours["ignored"] == pytest.approx(ref["ignored"], abs=0.01)
    assert ours["class1"] == pytest.approx(ref["class1"], abs=0.01)
    assert ours["mean"] == pytest.approx(ref["mean"], abs=0.03)
    assert ours["std"] == pytest.approx(ref["std"], rel=0.03)
    labels = np.concatenate(ours_y)
    assert set(np.unique(labels).tolist()) <= {0, 1, 2, 3, 255}  # nearest only: no invented class


def test_thread_tuner_keeps_the_fastest_count_and_leaves_short_runs_alone():
    from segstudio.model.training.cpu_threads import ThreadTuner, candidates
    assert candidates(8) == [8, 4, 2, 1] and candidates(3) == [3, 1] and candidates(1) == [1]
    original = torch.get_num_threads()
    assert not ThreadTuner(torch.device("cpu"), 20).enabled  # short: bit-reproducible resume
    tuner = ThreadTuner(torch.device("cpu"), 1000)
    tuner.max_threads, tuner.enabled = 4, True
    try:
        tuner.observe(9.9)                                   # starts the trial at 1 thread
        for seconds in [0.8, 0.9, 0.8, 0.5, 0.6, 0.5, 1.0, 1.1, 1.0]:   # 1, 2, then 4 threads
            tuner.observe(seconds)
        assert tuner.best == 2 and torch.get_num_threads() == 2
        assert not tuner._trial
    finally:
        torch.set_num_threads(original)


def test_thread_tuner_drops_a_count_after_one_step_that_has_clearly_lost():
    """A busy machine: more threads wait for each other at every operator; each losing count costs
    one step of the trial, not three."""
    from segstudio.model.training.cpu_threads import LOSING_SHARE, ThreadTuner
    original = torch.get_num_threads()
    tuner = ThreadTuner(torch.device("cpu"), 1000)
    tuner.max_threads, tuner.enabled = 4, True
    try:
        tuner.observe(9.9)                                   # starts the trial at 1 thread
        for seconds in [0.3, 0.3, 0.3]:
            tuner.observe(seconds)
        assert torch.get_num_threads() == 2
        tuner.observe(0.3 * LOSING_SHARE * 1.1)              # 2 threads: lost at once
        assert torch.get_num_threads() == 4
        tuner.observe(3.0)                                   # 4 threads: lost at once, the trial ends
        assert tuner.best == 1 and torch.get_num_threads() == 1 and not tuner._trial
    finally:
        torch.set_num_threads(original)
