"""Screenshots of click to segment's hover preview and of the click that takes it (Xvfb).

Runs the real window in this process on a virtual X display, on a throw-away copy of the demo
project, with a random-weight SAM model of the tests' tiny configuration (nothing is downloaded,
so the masks are shapes of noise: the pictures show how the preview looks, not what it finds):

    python tests/tools/screenshot_hover.py [--display N] [OUT_DIR]      # default: docs/screenshots

15-hover-preview.png (the cursor resting: its mask outlined in yellow over faint cyan, no click
yet) and 16-hover-taken.png (a click there: the same mask as the proposal, Enter accepts).
``--display N`` picks the X display (else the first free one from :90).
Needs Xvfb (and the xcb libraries, see segstudio.gui.window.qt_env).
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "gui"))
sys.path.insert(0, str(REPO / "tests" / "model"))
sys.path.insert(0, str(REPO / "tests" / "tools"))
from screenshot_train import run_in_xvfb, segment_window, shot, shot_options, throwaway_home, wait  # noqa: E402


def main(argv: list[str]) -> int:
    out, display = shot_options(argv, REPO / "docs" / "screenshots")
    tmp = throwaway_home("segstudio-hover-shots-")
    return run_in_xvfb(lambda: _run(out, tmp), tmp, display)


def _run(out: Path, tmp: Path) -> int:
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication
    from sam_tiny import TINY_SAM, saved_random

    app = QApplication(["segstudio"])
    saved_random(tmp / "sam", TINY_SAM, seed=3)
    ready = segment_window(app, tmp, tmp / "sam", 3)  # scene_04: not labelled, so only the preview is drawn
    if ready is None:
        return 1
    window, segment = ready
    canvas = window.canvas
    image = canvas.image
    spot = canvas.image_to_widget(image.width() * 0.42, image.height() * 0.62).toPoint()
    QTest.mouseMove(canvas.viewport(), spot - QPoint(40, 10))  # passing over: not decoded
    wait(app, 0.03)
    QTest.mouseMove(canvas.viewport(), spot)  # resting
    if not wait(app, 30, lambda: segment.hover_preview.shown is not None):
        print("no hover preview", file=sys.stderr)
        return 1
    shot(window, out, "15-hover-preview.png")
    QTest.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=spot)
    wait(app, 1, lambda: window.assist_features.tools.has_proposal)
    shot(window, out, "16-hover-taken.png")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
