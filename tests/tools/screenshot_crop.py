"""Screenshots of click to segment's small-object crop and of the folder's preparation (Xvfb).

Runs the real window in this process on a virtual X display, on a throw-away copy of the demo
project, with random-weight models (nothing is downloaded, so the masks are shapes of noise: the
pictures show how the window looks and what it says, not what a trained model finds):

    python tests/tools/screenshot_crop.py [--display N] [OUT_DIR]      # default: docs/screenshots

17-small-object-crop.png: a box around the car of scene_05 (10 feature cells, under
SMALL_OBJECT_CELLS): the proposal after the tool looked closer, pasted inside the crop, the status
line naming the crop (the tests' tiny SAM 2, its weights scaled so that masks follow the prompt).
18-prepare-folder.png: Tools > Prepare the whole folder running with SAM 2.1 Hiera-tiny's real
configuration on eager PyTorch (seconds an image), the status line naming the image being embedded
and this machine's usual time, measured on the first image.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "gui"))
sys.path.insert(0, str(REPO / "tests" / "model"))
sys.path.insert(0, str(REPO / "tests" / "tools"))
from screenshot_train import run_in_xvfb, segment_window, shot, shot_options, throwaway_home, wait  # noqa: E402


def main(argv: list[str]) -> int:
    out, display = shot_options(argv, REPO / "docs" / "screenshots")
    tmp = throwaway_home("segstudio-crop-shots-")
    os.environ["SEGSTUDIO_SAM_RUNTIME"] = "torch"  # no ONNX export for throw-away models
    return run_in_xvfb(lambda: _run(out, tmp), tmp, display)


def _run(out: Path, tmp: Path) -> int:
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication
    from sam_tiny import TINY_SAM2, saved_random

    from segstudio.model.sam import DEFAULT

    app = QApplication(["segstudio"])
    saved_random(tmp / "tiny", TINY_SAM2, seed=3, sensitive=True)
    ready = segment_window(app, tmp, tmp / "tiny", 4)  # scene_05, not labelled: only the proposal is drawn
    if ready is None:
        return 1
    window, segment = ready
    canvas, viewport = window.canvas, window.canvas.viewport()

    def at(x: float, y: float) -> QPoint:
        return canvas.image_to_widget(x, y).toPoint()

    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, pos=at(338, 372))  # the car, about 95×60 px
    for step in range(1, 6):
        QTest.mouseMove(viewport, at(338 + 100 * step / 5, 372 + 68 * step / 5))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=at(438, 440))
    proposal = lambda: segment._proposal  # noqa: E731
    if not wait(app, 60, lambda: proposal() is not None and proposal().crop is not None and not segment.pending):
        print("no proposal on a crop", file=sys.stderr)
        return 1
    QTest.mouseMove(viewport, at(600, 100))
    shot(window, out, "17-small-object-crop.png")
    qtbot_escape(window)

    saved_random(tmp / "sam2.1-random", DEFAULT.config, seed=0)
    segment.use_model(tmp / "sam2.1-random")
    window.actions["tool_brush"].trigger()
    prepare = window.assist_features.prepare
    window.actions["segment_prepare"].trigger()
    if not wait(app, 300, lambda: prepare.folder.progress.done >= 1 and prepare.folder.progress.current):
        print("the preparation did not get past its first image in 5 minutes", file=sys.stderr)
        return 1
    wait(app, 1.0)
    shot(window, out, "18-prepare-folder.png")
    prepare.folder.cancel()
    wait(app, 60, lambda: not prepare.folder._in_flight)
    window.close()
    return 0


def qtbot_escape(window) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    QTest.keyClick(window.canvas, Qt.Key.Key_Escape)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
