"""Shared helpers for the train / predict / review window tests (not a test module)."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parents[1] / "model"))
from train_synth import CLASS_NAMES, make_project, tiny_config  # noqa: E402,F401


def train_overrides(**extra) -> dict:
    """TrainConfig fields that make a run take a second or two on a CPU."""
    base = dict(model_config=tiny_config(), lr=2e-3, class_weights=True, seed=0, progress_interval_s=0.0)
    base.update(extra)
    return base


def set_small_run(dock, length: int = 3, unit: str = "epochs", size: int = 64, batch: int = 4, **extra) -> None:
    dock.size_box.setValue(size)
    dock.batch_box.setValue(batch)
    dock.length_box.setValue(length)
    dock.unit_box.setCurrentText(unit)
    dock.name_edit.setText(extra.pop("name", "tiny"))
    use_tiny_model(dock, **train_overrides(**extra))


def use_tiny_model(dock, **fields) -> None:
    """Runs of this dock take ``fields`` (a tiny model_config...) over what its form builds.

    Wraps the config of this dock's training controller (instance only): the app has no hook for
    it, and every other setting still comes from the form."""
    training = dock.training
    build = type(training).config
    training.config = lambda values, name="": replace(build(training, values, name), **fields)


def save_constant_model(folder: Path, class_names: list[str], winner: int, image_size: int = 64) -> Path:
    """A tiny model whose classifier always predicts ``winner`` (a known prediction for tests)."""
    import torch

    from segstudio.model.segformer import SegFormer
    from segstudio.model.weights.checkpoints import ModelInfo, save_model
    model = SegFormer(tiny_config().with_labels(len(class_names))).eval()
    head = model.decode_head.classifier
    with torch.no_grad():
        head.weight.zero_()
        head.bias.fill_(-5.0)
        head.bias[winner] = 5.0
    save_model(folder, model, ModelInfo(variant=None, class_names=list(class_names), image_size=image_size))
    return folder

