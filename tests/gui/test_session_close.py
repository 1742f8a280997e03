"""Closing the window: a cancelled close stops nothing, a confirmed close shuts every pool once.

Before, the model features shut the prediction and metrics pools down on the Close event, before
the window could still cancel it (unsaved changes: Cancel), leaving a window that never predicted
again; the window's own pools (loads, saves, counts, colours) were never shut down.
"""

from __future__ import annotations

from concurrent.futures import Future

import numpy as np
import pytest
from gui_helpers import close, flush, wait_loaded  # noqa: E402
from model_fixtures import save_constant_model

from segstudio.core.masks import read_mask
from segstudio.gui.workers.background import BackgroundPool, BackgroundPools

CLASSES = ["background", "cat", "dog", "tree"]  # as in conftest.py
POOLS = ("save", "load", "prefetch", "count", "colour")


@pytest.fixture
def shutdowns(monkeypatch) -> list[str]:
    """The names of the pools really shut down, in order (a second call on a pool is not counted)."""
    calls: list[str] = []
    real = BackgroundPool.shutdown

    def spy(self, wait=False):
        if not self.closed:
            calls.append(self.name)
        real(self, wait)

    monkeypatch.setattr(BackgroundPool, "shutdown", spy)
    return calls


def _done() -> Future:
    future: Future = Future()
    future.set_result(None)
    return future


def _paint(window, value: int) -> np.ndarray:
    label = np.zeros_like(window.session.document.label)
    label[5:20, 5:30] = value
    window.session.document.set_label(label)
    window.session.edit_finished()
    return label


def test_cancelled_close_keeps_every_pool_working(qtbot, window, project_dir, fake_dialogs, shutdowns):
    features = window.model_features
    model = save_constant_model(project_dir / "models" / "dogs", CLASSES, winner=2)
    features.models_dock.refresh()
    features.models_dock.set_active(model)
    qtbot.waitUntil(lambda: features.prediction.available, timeout=20000)
    window.actions["autosave"].setChecked(False)
    painted = _paint(window, 1)
    fake_dialogs.unsaved_answer = "cancel"
    assert not close(window)  # "unsaved changes": Cancel
    assert window.isVisible() and shutdowns == [] and not window.pools.shut_down
    assert all(not window.pools.pool(name).closed for name in POOLS)
    # The window still saves, loads, counts and predicts.
    fake_dialogs.unsaved_answer = "save"
    assert window.show_image(1) and wait_loaded(window)
    flush(window)
    np.testing.assert_array_equal(read_mask(project_dir / "img1.png"), painted)
    assert window.pools.pool("count").submit(sum, [1, 2]).result(10) == 3
    qtbot.waitUntil(lambda: features.prediction.available, timeout=20000)
    assert (features.prediction.labels == 2).all()
    # Then the close is confirmed: every pool goes, each once.
    assert close(window)
    assert window.pools.shut_down and sorted(shutdowns) == sorted(set(shutdowns)) and set(POOLS) <= set(shutdowns)


def test_confirmed_close_shuts_every_pool_down_once(qtbot, window, project_dir, monkeypatch, shutdowns):
    stopped: list[str] = []
    features = window.model_features
    monkeypatch.setattr(features.training, "stop", lambda: (stopped.append("training"), _done())[1])
    monkeypatch.setattr(features.review, "stop", lambda: (stopped.append("review"), _done())[1])
    painted = _paint(window, 3)
    calls: list[int] = []
    real = BackgroundPools.shutdown
    monkeypatch.setattr(BackgroundPools, "shutdown", lambda self, **kw: (calls.append(1), real(self, **kw)))
    assert close(window)
    np.testing.assert_array_equal(read_mask(project_dir / "img1.png"), painted)  # autosaved before
    assert window.pools.shut_down and len(calls) == 1
    assert sorted(shutdowns) == sorted(set(shutdowns)) and set(POOLS) <= set(shutdowns)
    assert stopped == ["training", "review"]
    close(window)  # a second close stops nothing again
    assert len(calls) == 1 and stopped == ["training", "review"]


def test_a_confirmed_close_waits_for_the_stops_without_blocking(qtbot, window):
    """A hook's work that has not ended keeps the close pending (the window stays, its pools work),
    never a wait on the GUI thread; once it has ended the window closes by itself, the hooks run once."""
    from gui_helpers import process_until

    pending: Future = Future()
    calls: list[int] = []
    window.closing.add_hook(lambda: (calls.append(1), pending)[1])
    assert not window.close()
    assert window.closing.stopping and window.isVisible() and not window.pools.shut_down
    assert window.pools.pool("count").submit(sum, [1, 2]).result(10) == 3  # still working
    assert not window.close()  # asked again meanwhile: still waiting, nothing run twice
    assert calls == [1] and not window.closing.done
    pending.set_result(None)  # the part's work has ended (on the GUI thread, as controllers do)
    assert process_until(lambda: window.closing.done, 10) and not window.isVisible() and calls == [1]


def test_quit_although_unsaved_is_asked_once_when_the_close_waits_for_a_stop(qtbot, window, fake_dialogs,
                                                                                monkeypatch):
    """A save failed (its edits only in memory) and a part's stop is still ending: "quit anyway?"
    is asked once, not again when the window closes itself after the stop."""
    from gui_helpers import drag, flush, process_until

    from segstudio.core import project as project_module
    from segstudio.core.errors import SaveError

    def refuse(*args, **kwargs):
        raise SaveError("disk full")

    monkeypatch.setattr(project_module.Project, "save", refuse)
    window.select_class(1)
    drag(window.canvas, [(10, 10), (40, 10)])
    window.save()
    flush(window)
    assert window.session.has_unsaved_snapshots()
    pending: Future = Future()
    window.closing.add_hook(lambda: pending)
    fake_dialogs.calls.clear()
    fake_dialogs.confirm_answer = True
    assert not window.close()
    assert process_until(lambda: window.closing.stopping, 10)  # asked, and now waiting for the stop
    pending.set_result(None)
    assert process_until(lambda: window.closing.done, 10)
    assert [name for name, _ in fake_dialogs.calls].count("confirm") == 1
