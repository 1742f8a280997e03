"""Live training: a model that learns from scribbles in bursts, predicts in between, and is kept
as an ordinary model folder."""

from __future__ import annotations

import json

import numpy as np

from segstudio.application.live.live_session import LiveSession
from segstudio.core.palette import IGNORE_INDEX
from segstudio.model.segformer import SegFormer
from segstudio.model.training.live import LiveTrainer
from segstudio.model.weights.checkpoints import ModelInfo, load_model, save_model


def _scene(rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Left half red (class 1), right half blue (class 2); scribbles cover under 5 % of the pixels."""
    rgb = np.zeros((64, 96, 3), np.uint8)
    rgb[:, :48] = (200, 40, 40)
    rgb[:, 48:] = (40, 40, 200)
    rgb = np.clip(rgb.astype(int) + rng.integers(-20, 20, rgb.shape), 0, 255).astype(np.uint8)
    truth = np.ones((64, 96), np.uint8)
    truth[:, 48:] = 2
    scribbles = np.full((64, 96), IGNORE_INDEX, np.uint8)
    for row in (12, 48):  # two strokes per class, 2 pixels wide
        scribbles[row:row + 2, 8:40] = 1
        scribbles[row:row + 2, 56:88] = 2
    return rgb, truth, scribbles


def test_scribbles_are_enough_and_the_model_is_kept(tmp_path, tiny_config) -> None:
    rng = np.random.default_rng(0)
    rgb, truth, scribbles = _scene(rng)
    assert (scribbles != IGNORE_INDEX).mean() <= 0.05
    start = tmp_path / "start"
    save_model(start, SegFormer(tiny_config.with_labels(3)), ModelInfo(variant=None, class_names=["bg", "red", "blue"]))
    trainer = LiveTrainer(["bg", "red", "blue"], init=str(start), size=64, lr=3e-3)
    for _ in range(8):
        loss = trainer.train([(rgb, scribbles)], 10)
    assert np.isfinite(loss) and trainer.steps == 80
    accuracy = float((trainer.predict(rgb) == truth).mean())
    assert accuracy >= 0.9, accuracy
    folder = trainer.save(tmp_path / "models" / "live")
    model, info = load_model(folder)
    assert info.class_names == ["bg", "red", "blue"]
    history = json.loads((folder / "history.json").read_text())
    assert history["live"] and history["steps"] == 80 and len(history["epochs"]) == 8


def test_nothing_labelled_teaches_nothing_and_a_stop_ends_the_burst(tmp_path, tiny_config) -> None:
    start = tmp_path / "start"
    save_model(start, SegFormer(tiny_config.with_labels(3)), ModelInfo(variant=None, class_names=["bg", "a", "b"]))
    trainer = LiveTrainer(["bg", "a", "b"], init=str(start), size=64)
    rgb = np.zeros((40, 40, 3), np.uint8)
    assert np.isnan(trainer.train([(rgb, np.full((40, 40), IGNORE_INDEX, np.uint8))], 5)) and trainer.steps == 0
    calls = []
    trainer.train([(rgb, np.ones((40, 40), np.uint8))], 50, should_stop=lambda: calls.append(1) or len(calls) > 3)
    assert trainer.steps == 3


def test_the_session_learns_from_the_image_on_screen_and_the_saved_masks(tmp_path, tiny_config) -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from train_synth import make_project

    from segstudio.core.project import Project

    project = Project(*make_project(tmp_path / "p", count=3, size=64))
    start = tmp_path / "start"
    names = list(project.classes.names)
    save_model(start, SegFormer(tiny_config.with_labels(len(names))), ModelInfo(variant=None, class_names=names))
    session = LiveSession(project, lambda: LiveTrainer(names, init=str(start), size=64))
    current = project.entries[0]
    rgb = project.load_image(current)
    painted = np.full(rgb.shape[:2], IGNORE_INDEX, np.uint8)
    painted[10:20, 10:20] = 1
    samples = session.samples(current.image_path, rgb, painted)
    assert len(samples) == 3 and samples[0][1] is painted  # the screen's map, then the other masks
    first = session.cycle(current.image_path, rgb, painted, lambda: False)  # the instant learner's overlay
    assert first.shown == "instant" and first.labels.shape == rgb.shape[:2] and session.trainer is None
    result = session.cycle(current.image_path, rgb, painted, lambda: False)
    assert result.steps > 0 and result.labels.shape == rgb.shape[:2]
    assert session.save("kept") == project.save_dir / "models" / "kept"
