"""The live learning-rate schedule: a pure function of the step and the steps since new strokes,
and the trainer and session that drive it."""

from __future__ import annotations

import numpy as np
import pytest

from segstudio.application.live.live_session import LiveSession, meaningful_change
from segstudio.core.palette import IGNORE_INDEX
from segstudio.model.segformer import SegFormer
from segstudio.model.training.live import LiveTrainer
from segstudio.model.training.lr_schedule import LIVE_FLOOR, LIVE_RESTART, live_lr_factor
from segstudio.model.weights.checkpoints import ModelInfo, save_model


def test_warmup_once_then_a_decay_to_the_floor() -> None:
    warm = [live_lr_factor(s, None, warmup=10) for s in range(10)]
    assert warm == sorted(warm) and warm[0] < 0.2 and live_lr_factor(9, None, warmup=10) == pytest.approx(1.0)
    later = [live_lr_factor(s, None, warmup=10, half_life=50) for s in range(10, 2000, 50)]
    assert later == sorted(later, reverse=True)  # never rises without new strokes
    assert live_lr_factor(60, None, warmup=10, half_life=50) == pytest.approx(LIVE_FLOOR + (1 - LIVE_FLOOR) / 2)
    assert live_lr_factor(10**6, None) == pytest.approx(LIVE_FLOOR)


def test_new_strokes_lift_the_rate_but_never_repeat_the_warmup_nor_lower_it() -> None:
    settled = live_lr_factor(5000, None)
    lifted = live_lr_factor(5000, 0)
    assert settled == pytest.approx(LIVE_FLOOR) and lifted == pytest.approx(LIVE_RESTART)
    assert live_lr_factor(5000 + 120, 120) < lifted  # and decays again
    assert live_lr_factor(20, 0) == pytest.approx(live_lr_factor(20, None))  # early: still the start's
    assert live_lr_factor(3, 0) == live_lr_factor(3, None) < 1  # inside the warmup: no jump
    assert live_lr_factor(10**6, 10**6) == pytest.approx(LIVE_FLOOR)


def test_meaningful_change_counts_strokes_not_a_new_image_or_a_dab() -> None:
    before = np.full((100, 100), IGNORE_INDEX, np.uint8)
    before[10:20, :] = 1  # 1000 labelled pixels
    dab = before.copy()
    dab[50, 50:55] = 2
    stroke = before.copy()
    stroke[50:53, 10:90] = 2
    erased = before.copy()
    erased[10:20, :50] = IGNORE_INDEX
    assert not meaningful_change(None, stroke) and not meaningful_change(before[:50], stroke)
    assert not meaningful_change(before, dab)
    assert meaningful_change(before, stroke) and meaningful_change(before, erased)


def test_the_trainer_follows_the_schedule_and_the_session_reports_strokes(tmp_path, tiny_config) -> None:
    names = ["bg", "a", "b"]
    start = tmp_path / "start"
    save_model(start, SegFormer(tiny_config.with_labels(3)), ModelInfo(variant=None, class_names=names))
    trainer = LiveTrainer(names, init=str(start), size=32, lr=1e-3)

    class NoProject:
        entries: list = []

        def labelled_entries(self):
            return []

    session = LiveSession(NoProject(), lambda: trainer, num_classes=3)
    rgb = np.random.default_rng(0).integers(0, 255, (40, 40, 3), dtype=np.uint8)
    label = np.full((40, 40), IGNORE_INDEX, np.uint8)
    label[5:10] = 1
    here = tmp_path / "image.png"
    session.cycle(here, rgb, label, lambda: False)
    rates = [group["lr"] / group["base_lr"] for group in trainer.optimizer.param_groups]
    assert rates == pytest.approx([live_lr_factor(trainer.steps - 1, None)] * len(rates))
    assert trainer.history[-1]["lr"] < 1e-3  # still warming up after one cycle
    trainer.steps = 4000  # a long session later: the rate sits at the floor
    session.cycle(here, rgb, label.copy(), lambda: False)
    assert trainer.changed_at is None and trainer.lr_factor() == pytest.approx(LIVE_FLOOR, abs=1e-3)
    painted = label.copy()
    painted[20:25, 5:35] = 2  # a stroke of two hundred pixels
    assert session.cycle(here, rgb, painted, lambda: False).shown == "instant"  # two classes: the quick overlay
    session.cycle(here, rgb, painted, lambda: False)
    assert trainer.changed_at == 4008
    assert trainer.history[-1]["lr"] > 0.4 * 1e-3  # lifted to about LIVE_RESTART
    session.cycle(tmp_path / "other.png", rgb, label, lambda: False)  # another image: not a stroke
    assert trainer.changed_at == 4008
