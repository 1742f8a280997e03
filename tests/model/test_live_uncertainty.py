"""The live model's cheap uncertainty score: seen at the crop size, a big photo shrunk as uint8
first (no full-size float copy), the same score the window sorts by."""

from __future__ import annotations

import cv2
import numpy as np

from segstudio.model.segformer import SegFormer
from segstudio.model.training.live import LiveTrainer
from segstudio.model.weights.checkpoints import ModelInfo, save_model


def test_a_big_photo_is_scored_from_its_shrunk_copy(tmp_path, tiny_config, randomised) -> None:
    names = ["bg", "a", "b"]
    start = tmp_path / "start"
    save_model(start, randomised(SegFormer(tiny_config.with_labels(3))), ModelInfo(variant=None, class_names=names))
    trainer = LiveTrainer(names, init=str(start), size=96)
    big = np.random.default_rng(0).integers(0, 255, (2560, 3840, 3), dtype=np.uint8)  # a noisy 10 MP photo
    score = trainer.uncertainty(big)
    assert 0.0 <= score <= 1.0
    shrunk = cv2.resize(big, (96, 64), interpolation=cv2.INTER_AREA)
    assert score == trainer.uncertainty(shrunk)  # the same network input, not a bilinear sample of it
