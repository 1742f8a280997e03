"""The recipe's choices from the situation, full batches every step, and which weights are the model.

The evidence for each choice is in segstudio/model/training/recipe.py and docs/training.md ("Training defaults");
these tests pin the rules themselves, so a change to one is a deliberate change."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import torch

from segstudio.core.project import Project
from segstudio.model.data.dataset import EpochSampler, run_plan, steps_per_epoch
from segstudio.model.training import recipe
from segstudio.model.training.train import TrainConfig, train

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loop_sets import make_set  # noqa: E402
from train_synth import tiny_config  # noqa: E402


def test_scratch_small_sets_keep_size_and_colour_and_use_the_plain_loops_rate():
    sizes = [(160, 160)] * 26
    chosen = recipe.choose(TrainConfig(init="b0", size=128), sizes, val_count=6)
    assert chosen.lr == 1e-3 and chosen.head_lr_mult == 1.0
    assert chosen.scale_range == (1.0, 1.0) and chosen.photometric_p == 0.0
    assert chosen.scale_ref == 160                       # 160 px images keep their own size
    assert any("no random resize" in note for note in chosen.notes)


def test_scratch_large_sets_and_pretrained_runs_keep_their_augmentation():
    large = recipe.choose(TrainConfig(init="b0", size=128), [(128, 128)] * 400, val_count=100)
    assert large.scale_range == (0.75, 1.5) and large.photometric_p > 0
    pretrained = recipe.choose(TrainConfig(init="/nowhere/mit-b0", size=128), [(128, 128)] * 10, val_count=2)
    assert pretrained.lr == 6e-5 and pretrained.head_lr_mult == 10.0
    assert pretrained.scale_range == (0.5, 2.0) and pretrained.photometric_p > 0


def test_settings_given_explicitly_win():
    config = TrainConfig(init="b0", size=128, lr=3e-3, scale_range=(0.5, 2.0), head_lr_mult=4.0)
    chosen = recipe.choose(config, [(160, 160)] * 10, val_count=2)
    assert (chosen.lr, chosen.scale_range, chosen.head_lr_mult) == (3e-3, (0.5, 2.0), 4.0)


def test_the_best_point_is_kept_only_with_enough_validation_images():
    sizes = [(64, 64)] * 100
    assert recipe.choose(TrainConfig(init="b0", size=64), sizes, val_count=25).keep_best
    few = recipe.choose(TrainConfig(init="b0", size=64), sizes, val_count=6)
    assert not few.keep_best and any("too few to pick a best point" in note for note in few.notes)


def test_every_step_is_a_full_batch_and_every_image_is_still_seen():
    """26 images at batch 8: three steps an epoch, the two left over change with the shuffle."""
    assert steps_per_epoch(26, 8) == 3 and steps_per_epoch(5, 8) == 1 and steps_per_epoch(16, 8) == 2
    plan = list(run_plan(EpochSampler(26, seed=0), 0, 30, 3, 8))
    assert len(plan) == 30 and all(len(chunk) == 8 for _, chunk in plan)
    assert {i for _, chunk in plan for i in chunk} == set(range(26))
    assert [epoch for epoch, _ in plan] == [s // 3 for s in range(30)]
    resumed = list(run_plan(EpochSampler(26, seed=0), 7, 30, 3, 8))
    assert resumed == plan[7:]                           # a resume continues the same plan
    tiny = list(run_plan(EpochSampler(5, seed=0), 0, 3, 1, 8))
    assert all(sorted(chunk) == list(range(5)) for _, chunk in tiny)  # fewer than a batch: all of them


def test_a_small_validation_split_makes_the_final_weights_the_model(tmp_path, monkeypatch):
    """With fewer validation images than recipe.TRUSTED_VALIDATION, model.safetensors holds the
    weights of the last validation point even when an earlier point scored higher, and
    history.json's best_miou is that model's score."""
    image_dir, save_dir = make_set(tmp_path, "colour", count=10, size=64)
    scores = iter([0.9, 0.2, 0.5])

    def fake_validate(*args, **kwargs):
        from segstudio.core.metrics import compute_metrics
        metrics = compute_metrics(torch.eye(4, dtype=torch.int64).numpy())
        metrics.miou = next(scores)
        return metrics

    from segstudio.model.training import loop as train_loop
    monkeypatch.setattr(train_loop, "validate", fake_validate)
    result = train(Project(image_dir, save_dir), TrainConfig(model_config=tiny_config(), size=64, batch=4,
                                                             steps=6, val_every=1, keep_state=True))
    assert result.status == "finished", result.message
    assert math.isclose(result.best_miou, 0.5) and "val mIoU of the model 0.500" in result.message
    folder = save_dir / "models" / "model"
    assert json.loads((folder / "history.json").read_text())["best_miou"] == 0.5
    from safetensors.torch import load_file

    from segstudio.model.training.state import load_state
    final = load_state(folder)["model"]
    saved = load_file(str(folder / "model.safetensors"))
    assert all(torch.equal(saved[key], final[key]) for key in saved)
