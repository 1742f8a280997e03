"""Image switches never block the GUI: loads run on worker threads, stale results are dropped,
prefetch keeps only the two neighbours, and big overlays are coloured off the GUI thread."""

from __future__ import annotations

import gc
import threading
import weakref

import numpy as np
import pytest
from gui_helpers import click, drag, flush, process_until, wait_loaded
from gui_project import make_project

from segstudio.application.session import loading
from segstudio.application.session.controller import ProjectSession
from segstudio.core.masks import read_mask
from segstudio.gui.canvas.mask_layer import SYNC_PIXELS, MaskLayer
from segstudio.gui.workers.background import BackgroundPool

REAL_LOAD = loading.load_for_editing


@pytest.fixture
def five(tmp_path):
    return make_project(tmp_path / "five", count=5)


def held_loader(monkeypatch, calls: list | None = None) -> threading.Event:
    """Loads wait on the returned gate (set it to let them finish): what happens meanwhile is then
    what happens while a load is running, however slow the machine."""
    gate = threading.Event()

    def held(project, index, *args, **kwargs):
        if calls is not None:
            calls.append(index)
        gate.wait(10)
        return REAL_LOAD(project, index, *args, **kwargs)

    monkeypatch.setattr(loading, "load_for_editing", held)
    return gate


def test_switch_to_a_slow_image_keeps_the_event_loop_running(make_window, five, monkeypatch):
    """The switch returns while the image is still loading (how long the GUI thread is held is
    measured by tests/benchmarks/gui_speed.py, not asserted here)."""
    window = make_window(five)
    session = window.session
    before = session.document
    gate = threading.Event()

    def gated(project, index, *args, **kwargs):
        gate.wait(10)
        return REAL_LOAD(project, index, *args, **kwargs)

    monkeypatch.setattr(loading, "load_for_editing", gated)
    session._queue.keep_only(set())
    assert window.show_image(3)
    # Loading state: the name is shown, there is no document and nothing can be painted.
    assert session.loading and session.document is None
    assert "img4.jpg" in window.canvas.loading_text and "loading" in window.windowTitle()
    assert not window.actions["undo"].isEnabled()
    window.tools.set_brush_size(9)
    click(window.canvas, 20, 20)
    assert not before.label.any() and window.tools.document is None
    gate.set()
    assert wait_loaded(window)
    assert session.index == 3 and session.document is not None and window.canvas.loading_text is None
    assert window.actions["undo"].isEnabled()


def test_stale_loads_are_dropped_and_requests_do_not_pile_up(make_window, five, monkeypatch):
    window = make_window(five)
    session = window.session
    calls: list[int] = []
    gate = held_loader(monkeypatch, calls)
    monkeypatch.setattr(ProjectSession, "_schedule_prefetch", lambda self, index: None)
    session._queue.keep_only(set())
    shown: list[int] = []
    session.image_loaded.connect(lambda loaded: shown.append(loaded.index))
    for index in (1, 2, 3, 4, 3, 2, 1, 2, 3, 4, 2):  # A/D held down while image 2 loads
        assert window.show_image(index)
    gate.set()
    assert wait_loaded(window)
    assert shown == [2] and session.index == 2
    assert calls == [1, 2]  # the running load + the latest wish
    np.testing.assert_array_equal(window.canvas.image.width(), 80)
    # The title and the file list follow the shown image.
    assert window.windowTitle().startswith("img3.jpg (3/5)")
    assert window.file_dock.list.currentRow() == 2


def test_autosave_on_switch_and_coming_back_before_the_save_lands(make_window, five, monkeypatch):
    window = make_window(five)
    gate = held_loader(monkeypatch)
    window.session._queue.keep_only(set())
    window.select_class(2)
    window.tools.set_brush_size(5)
    drag(window.canvas, [(10, 10), (40, 10)])
    painted = window.session.document.label.copy()
    window.go(+1)
    window.go(-1)  # back before image 2 even arrived
    gate.set()
    assert wait_loaded(window) and window.session.index == 0
    np.testing.assert_array_equal(window.session.document.label, painted)
    flush(window)
    np.testing.assert_array_equal(read_mask(five / "img1.png"), painted)


def test_prefetch_keeps_one_ahead_one_behind_and_frees_the_rest(make_window, five):
    window = make_window(five)
    session = window.session
    refs = []
    for index in range(5):
        window.show_image(index)
        assert wait_loaded(window)
        for future in list(session._queue._prefetch.values()):
            future.result(10)
        assert set(session._queue.prefetched_indices()) <= {index - 1, index + 1}
        refs.append((weakref.ref(session.current), weakref.ref(session.document)))
    gc.collect()
    alive = [i for i, (image, doc) in enumerate(refs) if image() is not None or doc() is not None]
    assert alive == [4]  # only the image on screen; neighbours are fresh loads, not kept copies


def test_big_overlay_is_coloured_off_the_gui_thread(qtbot):
    side = int(np.sqrt(SYNC_PIXELS)) + 200
    label = np.zeros((side, side), np.uint8)
    label[:100, :100] = 1
    pool = BackgroundPool("colour")
    layer = MaskLayer(pool)
    lut = np.zeros((256, 4), np.uint8)
    lut[1] = (255, 0, 0, 255)
    gate = threading.Event()
    layer.set_label(label)
    assert process_until(lambda: not layer.recolouring)
    with_gate = pool

    def blocked(*args):
        gate.wait(5)
        from segstudio.gui.canvas.overlay_layer import colour_buffer

        return colour_buffer(*args)

    original_submit = with_gate.submit
    with_gate.submit = lambda fn, *a, **kw: original_submit(blocked, *a, **kw)
    try:
        layer.set_lut(lut)  # returns at once: the worker waits on the gate
        assert layer.recolouring
        assert layer._buffer[5, 5, 3] == 0  # old colours until the new buffer arrives
        # An edit while the recolour runs is coloured in place and again after the swap.
        label[200:210, 200:210] = 1
        from segstudio.core.geometry import Rect

        layer.update_rect(Rect(200, 200, 10, 10))
        gate.set()
        assert process_until(lambda: not layer.recolouring)
    finally:
        with_gate.submit = original_submit
    assert not layer.recolouring
    assert layer._buffer[5, 5, 3] == 255 and layer._buffer[205, 205, 3] == 255
    assert layer._buffer[150, 150, 3] == 0
    pool.shutdown(wait=True)
