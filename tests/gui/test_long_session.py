"""One window through a long labelling session: thousands of dabs, hundreds of strokes, tool and
view toggles, undo/redo, saves, verifies and image switches.

Short tests paint too little to reach bugs that accumulate, such as PySide6 6.12.0 on Python 3.11
dropping a reference to True on every emit and to None on every void Qt call (the interpreter
aborts after a few thousand). The reference counts of the singletons are checked at the end, so a
leak fails here with a number instead of a crash in a user's hands.
"""

from __future__ import annotations

import sys

import numpy as np
from gui_helpers import drag, flush, wait_loaded
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from segstudio.core.masks import read_mask

STROKES = 300
DABS_PER_STROKE = 10  # 3000 mouse moves that paint


def _singleton_counts() -> tuple[int, int, int]:
    return sys.getrefcount(True), sys.getrefcount(False), sys.getrefcount(None)


def test_long_session_keeps_reference_counts_and_every_mask(window):
    rng = np.random.default_rng(0)
    height, width = window.session.document.label.shape
    canvas = window.canvas
    window.tools.set_brush_size(3)
    before = _singleton_counts()
    images = len(window.session.project.entries)
    for stroke in range(STROKES):
        window.select_class(1 + stroke % 3)
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        points = [(x, y)]
        for _ in range(DABS_PER_STROKE):
            x = int(np.clip(x + rng.integers(-4, 5), 0, width - 1))
            y = int(np.clip(y + rng.integers(-4, 5), 0, height - 1))
            points.append((x, y))
        drag(canvas, points)
        if stroke % 7 == 0:
            window.undo()
            window.redo()
        if stroke % 11 == 0:
            QTest.keyClick(window, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)  # mask off/on
            QTest.keyClick(window, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
            QTest.keyClick(window, Qt.Key.Key_E)
            QTest.keyClick(window, Qt.Key.Key_B)
        if stroke % 25 == 24:
            QTest.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
            QTest.keyClick(window, Qt.Key.Key_Space)  # verify: mask and XML written
        if stroke % 30 == 29:
            QTest.keyClick(window, Qt.Key.Key_D if (stroke // 30) % 3 else Qt.Key.Key_A)
            assert wait_loaded(window)
    flush(window)
    after = _singleton_counts()
    # Live references come and go; a leak loses one per call, thousands over this session.
    for name, b, a in zip(("True", "False", "None"), before, after):
        assert a - b > -500, f"references to {name} fell from {b} to {a}"
    # Every image that was painted has its last state on disk.
    session = window.session
    shown = session.document.label
    assert shown.any()
    on_disk = read_mask(session.entry.mask_path)
    np.testing.assert_array_equal(on_disk, shown)
    assert images == len(session.project.entries)
