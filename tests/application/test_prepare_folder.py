"""Prepare the whole folder, the rule without Qt: one image at a time, a pause stops the image in
progress and the work goes on (with that image) once the user is idle, failures are named and
skipped, cancel ends it."""

from __future__ import annotations

import threading

from segstudio.application.pools import ManualTimer, QueuedPools
from segstudio.application.prepare_folder import PrepareFolder, Progress


class _Harness:
    def __init__(self, fail: tuple[str, ...] = ()) -> None:
        self.pools = QueuedPools()
        self.timers: list[ManualTimer] = []
        self.calls: list[str] = []
        self.reports: list[Progress] = []
        self.fail = fail
        self.on_call = lambda item, stop: None

        def timer(interval: int, callback) -> ManualTimer:
            self.timers.append(ManualTimer(interval, callback))
            return self.timers[-1]

        def prepare_one(item: str, stop: threading.Event) -> bool:
            self.calls.append(item)
            self.on_call(item, stop)
            if stop.is_set():
                raise RuntimeError("the embedding was interrupted")
            if item in self.fail:
                raise ValueError("not an image")
            return item != "already"

        self.prepare = PrepareFolder(self.pools.pool("prepare"), timer, prepare_one,
                                     lambda progress: self.reports.append(progress))


def test_every_image_once_in_order_failures_named_and_skipped() -> None:
    h = _Harness(fail=("b.png",))
    h.prepare.start(["a.png", "b.png", "already", "c.png"])
    h.pools.run_pending()
    progress = h.prepare.progress
    assert h.calls == ["a.png", "b.png", "already", "c.png"]
    assert progress.finished and not progress.cancelled and progress.done == 4 and progress.computed == 2
    assert progress.failed == ["b.png: not an image"]
    assert not h.prepare.running


def test_a_pause_stops_the_image_in_progress_which_is_done_again_once_idle() -> None:
    h = _Harness()
    h.on_call = lambda item, stop: h.prepare.pause() if item == "b.png" and h.calls.count("b.png") == 1 else None
    h.prepare.start(["a.png", "b.png", "c.png"])
    h.pools.run_pending()
    assert h.calls == ["a.png", "b.png"] and h.prepare.progress.paused and h.prepare.running
    assert h.prepare.progress.done == 1 and not h.prepare.progress.failed
    h.prepare.pause()  # more strokes: still waiting
    h.pools.run_pending()
    assert h.calls == ["a.png", "b.png"]
    assert h.timers[0].fire()  # idle long enough
    h.pools.run_pending()
    assert h.calls == ["a.png", "b.png", "b.png", "c.png"]
    assert h.prepare.progress.finished and h.prepare.progress.computed == 3 and not h.prepare.progress.paused


def test_a_pause_between_images_waits_before_the_next() -> None:
    h = _Harness()
    h.prepare.start(["a.png", "b.png"])
    h.prepare.pause()  # a.png queued, not started: its stop is set, so it is retried later
    h.pools.run_pending()
    assert h.prepare.progress.done == 0 and h.calls == ["a.png"]
    h.timers[0].fire()
    h.pools.run_pending()
    assert h.prepare.progress.finished and h.prepare.progress.done == 2


def test_cancel_ends_it_and_later_answers_are_ignored() -> None:
    h = _Harness()
    h.prepare.start(["a.png", "b.png", "c.png"])
    h.pools.run_pending(limit=2)  # a.png ran and answered
    h.prepare.cancel()
    h.pools.run_pending()
    assert h.prepare.progress.cancelled and h.prepare.progress.finished and not h.prepare.running
    assert "c.png" not in h.calls
    h.prepare.pause()  # nothing to pause
    assert not h.timers[0].is_active()
