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
    events: list = []

    def watch(phase: str, info: dict) -> None:
        if phase == "start":
            events.append(info["generation"])

    def make() -> _Trainer:
        events.append("making")
        for _ in range(20_000):  # cyclic garbage, as an import makes: collections would run here
            loop: list = []
            loop.append(loop)
        events.append("made")
        return _Trainer()

    frozen = gc.get_freeze_count()
    gc.callbacks.append(watch)
    try:
        session = LiveSession(_NoProject(), make)
        session.cycle(None, np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8), np.uint8), lambda: False)
        # no collection while the trainer was made (one may come before: the session's own allocations)
        assert events[events.index("making") + 1] == "made"
        assert gc.isenabled() and gc.get_freeze_count() > frozen
        session.cycle(None, None, None, lambda: False)  # the trainer exists: nothing deferred again
        assert gc.isenabled()
    finally:
        gc.callbacks.remove(watch)
        gc.unfreeze()
        gc.collect()
