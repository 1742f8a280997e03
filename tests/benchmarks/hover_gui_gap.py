"""Does the hover preview make the window stutter? The GUI thread's longest gap while hovering.

Plain script (not collected by pytest):  python tests/benchmarks/hover_gui_gap.py
The real window (offscreen unless DISPLAY and QT_QPA_PLATFORM=xcb say otherwise) on a throw-away
folder with one 4000×3000 photo (assist_speed.py's synthetic scene), the default promptable model
with random weights of its real configuration on ONNX Runtime (the window's path). A driver on the
GUI thread moves the cursor every 16 ms (a 60 Hz mouse) along a path that rests 150 ms every
8 moves (so a hover decode starts at each rest), for SECONDS; a 5 ms ticker records the gaps
between its ticks. Two runs side by side in one process: click to segment active (hovers decoded
and outlined) and the brush (the same moves, no decode). The issue's bar: no gap over 50 ms.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "benchmarks"))
sys.path.insert(0, str(REPO / "tests" / "gui"))

import cv2  # noqa: E402
from assist_speed import scene  # noqa: E402
from gui_helpers import move, process_until, wait_loaded  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

SECONDS = 6.0
MOVE_MS, REST_MS, MOVES_PER_REST = 16, 150, 8


def drive(app, window, seconds: float) -> tuple[list[float], int]:
    """Cursor moves and rests for ``seconds``; the gaps (ms) between 5 ms ticks, and hover answers."""
    canvas = window.canvas
    width, height = canvas.image.width(), canvas.image.height()
    hover = window.assist_features.tools.segment.hover_preview
    answers, shown = 0, None
    gaps, last = [], time.perf_counter()
    start, step, next_move = last, 0, last
    while last - start < seconds:
        app.processEvents()
        now = time.perf_counter()
        gaps.append((now - last) * 1000)
        last = now
        if hover.shown is not None and hover.shown is not shown:
            answers, shown = answers + 1, hover.shown
        if now >= next_move:
            step += 1
            x = (0.1 + 0.8 * ((step * 37) % 100) / 100) * width
            y = (0.1 + 0.8 * ((step * 53) % 100) / 100) * height
            move(canvas, x, y, pressed=False)
            next_move = now + (REST_MS if step % MOVES_PER_REST == 0 else MOVE_MS) / 1000
        time.sleep(0.005)
    return gaps, answers


def main() -> None:
    app = QApplication.instance() or QApplication([])
    from segstudio.gui.window.app_window import MainWindow
    from segstudio.gui.window.settings import Settings
    from segstudio.model.sam import DEFAULT
    from segstudio.model.sam.loader import build_random

    with tempfile.TemporaryDirectory(prefix="segstudio-hover-gap-") as scratch:
        tmp = Path(scratch)
        os.environ["SEGSTUDIO_CACHE"] = str(tmp / "cache")
        (tmp / "photos").mkdir()
        image, _ = scene(4000, 3000)
        cv2.imwrite(str(tmp / "photos" / "big.jpg"), image[:, :, ::-1])
        model, _ = build_random(DEFAULT.config)
        model.save_pretrained(tmp / "sam")
        window = MainWindow(Settings(QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)))
        window.resize(1360, 860)
        window.show()
        window.open_project(tmp / "photos")
        wait_loaded(window)
        segment = window.assist_features.tools.segment
        segment.use_model(tmp / "sam")
        window.actions["tool_segment"].trigger()
        started = time.perf_counter()
        process_until(lambda: segment.hover_preview.ready, 600)
        print(f"model ready and image embedded in {time.perf_counter() - started:.1f} s (first ONNX export included)")
        rows = []
        for tool in ("tool_segment", "tool_brush", "tool_segment", "tool_brush"):
            window.actions[tool].trigger()
            gaps, answers = drive(app, window, SECONDS)
            rows.append((tool, max(gaps), statistics.quantiles(gaps, n=100)[98], len(gaps), answers))
        window.close()
        process_until(lambda: window.closing.done, 30)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"{os.cpu_count()} CPU(s), load average {load}; 4000×3000 photo, {SECONDS:.0f} s per run, "
          f"{os.environ['QT_QPA_PLATFORM']}")
    print("| tool             | longest gap ms | p99 gap ms | ticks | hover previews shown |")
    print("|------------------|----------------|------------|-------|----------------------|")
    for tool, longest, p99, ticks, answers in rows:
        print(f"| {tool:<16} | {longest:14.1f} | {p99:10.1f} | {ticks:5d} | {answers:20d} |")


if __name__ == "__main__":
    main()
