"""Live mode's start without stutters: making the trainer (torch's imports) runs no garbage
collection, which would hold the GIL for 100-200 ms each, and freezes what it loaded."""

from __future__ import annotations

import gc
import math

import numpy as np

from segstudio.application.live.live_session import LiveSession


class _Trainer:
    """What a cycle asks of a trainer (the real one is tested in tests/model/test_live*.py)."""

    steps = 0

    def labels_changed(self) -> None:
        pass

    def train(self, samples, steps, should_stop) -> float:
        return math.nan

    def predict(self, rgb) -> np.ndarray:
        return np.zeros(rgb.shape[:2], np.uint8)


class _NoProject:
    entries: list = []

    def labelled_entries(self) -> list:
        return []


def test_making_the_trainer_runs_no_collection_and_freezes_what_it_loaded() -> None:
    """Collections are off while the trainer is made (observed inside ``make``, not by watching
    for collections: whether garbage sets one off depends on the allocations of the whole process,
    other threads' included), back on afterwards, and what the making loaded is frozen."""
    collecting: list[bool] = []

    def make() -> _Trainer:
        collecting.append(gc.isenabled())
        return _Trainer()

    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    try:
        session = LiveSession(_NoProject(), make, num_classes=2)
        session.cycle(None, np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8), np.uint8), lambda: False)
        assert collecting == [False]
        assert gc.isenabled() and gc.get_freeze_count() > frozen
        session.cycle(None, None, None, lambda: False)  # the trainer exists: nothing made, nothing deferred
        assert collecting == [False] and gc.isenabled()
    finally:
        gc.unfreeze()
        gc.collect()
