"""The window's flows with no window for the tests of tests/application (not a test module): a
project session with its training, review and live controllers on one set of queued pools, a
small labelled project (32-px images) and a record of what the controllers announced."""

from __future__ import annotations

import sys
from pathlib import Path

from session_harness import Harness

from segstudio.application.live.controller import PAUSE_MS, LiveController
from segstudio.application.review.controller import ReviewController
from segstudio.application.session.edit_feed import THROTTLE_MS, EditFeed
from segstudio.application.training.active_model import ActiveModel
from segstudio.application.training.controller import TrainingController

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "model"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "robustness"))
from cli_helpers import tiny_model  # noqa: E402
from train_synth import CLASS_NAMES, make_project, tiny_config  # noqa: E402

SIZE = 32
TRAINING_EVENTS = ("starting", "not_started", "started", "stopping", "finished", "progress", "epoch")


def labelled_project(root: Path, count: int = 5) -> tuple[Path, Path]:
    """(image folder, save folder) of ``count`` labelled 32-px images of four classes."""
    return make_project(root, count=count, size=SIZE, seed=3)


def tiny_run(**extra) -> dict:
    """The form values of a run that takes well under a second: a tiny model, 32 px, 2 steps."""
    return {**dict(init="b0", model_config=tiny_config(), size=SIZE, batch=2, steps=2, lr=2e-3,
                   progress_interval_s=0.0, device="cpu", augment=False), **extra}


def a_model(folder: Path, best_miou: float | None = None) -> Path:
    """A tiny model folder of the project's classes, validated at ``best_miou`` when given."""
    from segstudio.model.training.history import write_history

    tiny_model(folder, names=tuple(CLASS_NAMES), image_size=SIZE)
    if best_miou is not None:
        write_history(folder, [], {"best_miou": best_miou})
    return folder


class Flows(Harness):
    """A session with the window's controllers, and what they announced (``said``)."""

    def __init__(self) -> None:
        super().__init__()
        self.active = ActiveModel(self.session)
        self.training = TrainingController(self.session, self.pools, self.active)
        self.said: list[tuple] = []
        t = self.training
        for name in TRAINING_EVENTS:
            getattr(t, name).connect(lambda *args, name=name: self.said.append((name, *args)))
        self.active.changed.connect(lambda path: self.said.append(("active", path)))
        self.edits = EditFeed(self.session, self._timer)
        self.review = ReviewController(self.session, self.edits, self.pools, self.active)
        r = self.review
        for name in ("prediction_changed", "status", "metrics_changed", "scores_changed", "batch_progress",
                     "batch_finished"):
            getattr(r, name).connect(lambda *args, name=name: self.said.append((name, *args)))
        self.live = LiveController(self.session, self.pools, self._timer, self.training, self.active, size=SIZE)
        for name in ("switched", "cycle_done", "failed", "kept", "not_kept"):
            getattr(self.live, name).connect(lambda *args, name=name: self.said.append((name, *args)))

    def settle_edits(self) -> None:
        """The edit feed's throttle elapses: what was painted reaches its consumers (metrics...)."""
        next(timer for timer in self.timers if timer.interval_ms == THROTTLE_MS).fire()
        self.run()

    @property
    def pause(self):
        """The live controller's timer between two cycles."""
        return next(timer for timer in self.timers if timer.interval_ms == PAUSE_MS)

    def open(self, image_dir: Path, save_dir: Path) -> None:
        self.session.open_project(image_dir, save_dir=save_dir)
        self.show(0)

    def names(self) -> list[str]:
        return [event[0] for event in self.said]

    def training_names(self) -> list[str]:
        """What the training controller and the active model said, in order."""
        return [name for name in self.names() if name in TRAINING_EVENTS or name == "active"]

    def last(self, name: str):
        return [event for event in self.said if event[0] == name][-1][1]
