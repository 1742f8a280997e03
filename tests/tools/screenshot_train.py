"""Screenshots of training, the prediction overlay, the error map and the review table (Xvfb).

Runs the real window in this process on a virtual X display, on a throw-away copy of the demo
project, trains a small SegFormer for a few dozen steps so the curves show, and saves:

    python tests/tools/screenshot_train.py [OUT_DIR]      # default: docs/screenshots

05-training-dock.png (mid-run), 06-prediction-overlay.png, 07-error-map.png, 08-review-table.png.
Needs Xvfb (and the xcb libraries, see segstudio.gui.window.qt_env); ImageMagick's convert shrinks big PNGs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "gui"))  # gui_helpers: waiting is the script's, never the window's
from gui_helpers import wait_loaded  # noqa: E402

WIDTH, HEIGHT = 1360, 860
MAX_BYTES = 300_000


def start_xvfb(number: int | None = None) -> subprocess.Popen:
    """Xvfb on display ``number`` (None: the first free one from :90) at WIDTH x HEIGHT; DISPLAY set."""
    for candidate in range(90, 200) if number is None else ():
        if not Path(f"/tmp/.X11-unix/X{candidate}").exists() and not Path(f"/tmp/.X{candidate}-lock").exists():
            number = candidate
            break
    proc = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", f"{WIDTH}x{HEIGHT}x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(50):
        if Path(f"/tmp/.X11-unix/X{number}").exists():
            break
        time.sleep(0.1)
    os.environ["DISPLAY"] = f":{number}"
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    return proc


def wait(app, seconds: float, until=None) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.processEvents()
        if until is not None and until():
            return True
        time.sleep(0.01)
    return until is None


def shot(window, out: Path, name: str) -> None:
    from PySide6.QtWidgets import QApplication
    wait(QApplication.instance(), 0.4)
    path = out / name
    window.grab().save(str(path))
    if path.stat().st_size > MAX_BYTES and shutil.which("convert"):
        subprocess.run(["convert", str(path), "-dither", "None", "-colors", "255", f"PNG8:{path}"], check=True)
    print(f"{path} ({path.stat().st_size // 1024} KiB)")


def shot_options(argv: list[str], default_out: Path) -> tuple[Path, int | None]:
    """A screenshot tool's command line ``[OUT_DIR] [--display N]``: the folder for the PNGs (made)
    and the Xvfb display number (None: the first free one)."""
    display = None
    if "--display" in argv:
        at = argv.index("--display")
        display, argv = int(argv[at + 1].lstrip(":")), argv[:at] + argv[at + 2:]
    out = Path(argv[0]) if argv else default_out
    out.mkdir(parents=True, exist_ok=True)
    return out, display


def throwaway_home(prefix: str) -> Path:
    """A temporary HOME (settings, the demo copy) for a screenshot run: the user's are never touched."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ.update(HOME=str(tmp), XDG_CONFIG_HOME=str(tmp / "config"), XDG_DATA_HOME=str(tmp / "data"))
    return tmp


def run_in_xvfb(run: Callable[[], int], tmp: Path, display: int | None = None) -> int:
    """``run()`` under a fresh Xvfb (:func:`start_xvfb`); afterwards, whatever happened, the Xvfb is
    stopped and ``tmp`` (the :func:`throwaway_home`) removed."""
    xvfb = start_xvfb(display)
    try:
        return run()
    finally:
        xvfb.terminate()
        xvfb.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else REPO / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    tmp = throwaway_home("segstudio-train-shots-")
    return run_in_xvfb(lambda: _run(out, tmp), tmp)


def demo_window(tmp: Path, width: int, height: int, settings_name: str = "settings.ini"):
    """A shown window of ``width`` x ``height`` on a copy of the demo in ``tmp``, clean settings."""
    from gui_helpers import wait_loaded
    from PySide6.QtCore import QSettings

    from segstudio.gui.window import demo
    from segstudio.gui.window.app_window import MainWindow
    from segstudio.gui.window.settings import Settings

    folder = demo.ensure_demo_copy(tmp / "demo")
    window = MainWindow(Settings(QSettings(str(tmp / settings_name), QSettings.Format.IniFormat)))
    window.resize(width, height)
    window.show()
    window.open_project(folder)
    wait_loaded(window)
    return window


def segment_window(app, tmp: Path, model: Path, index: int):
    """A demo window (``demo_window``) showing image ``index`` with click to segment chosen and the
    model folder ``model`` in use, once the image is embedded: (window, the segment tool), or None
    (said on stderr) when the embedding took more than 2 minutes."""
    from gui_helpers import wait_loaded

    window = demo_window(tmp, WIDTH, HEIGHT)
    window.show_image(index)
    wait_loaded(window)
    segment = window.assist_features.tools.segment
    segment.use_model(model)
    window.actions["tool_segment"].trigger()
    if not wait(app, 120, lambda: segment.hover_preview.ready):
        print("the image was not embedded in 2 minutes", file=sys.stderr)
        return None
    return window, segment


def _run(out: Path, tmp: Path) -> int:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    app = QApplication(["segstudio"])
    from segstudio.gui.canvas.predict_layer import ViewMode
    from segstudio.model.segformer import SegFormerConfig

    window = demo_window(tmp, WIDTH, HEIGHT)
    f = window.model_features
    window.resizeDocks([window.file_dock], [440], Qt.Orientation.Horizontal)
    window.resizeDocks([window.class_dock, window.tool_dock, window.file_dock], [150, 110, 560],
                       Qt.Orientation.Vertical)
    dock = f.train_dock
    dock.raise_()
    # A small SegFormer so a CPU shows a few epochs in a minute; the dock's own choices otherwise.
    small = SegFormerConfig(hidden_sizes=(32, 64, 128, 160), depths=(1, 1, 1, 1), num_heads=(1, 2, 4, 5),
                            sr_ratios=(8, 4, 2, 1), decoder_hidden_size=128, num_labels=8,
                            drop_path_rate=0.0, classifier_dropout=0.0)
    training = dock.training
    build = type(training).config  # the form's settings, with the small model and its recipe
    training.config = lambda values, name="": replace(build(training, values, name), model_config=small, lr=2e-3,
                                                      class_weights=True, scale_range=(0.75, 1.5))
    dock.size_box.setValue(256)
    dock.batch_box.setValue(2)
    dock.unit_box.setCurrentText("epochs")
    dock.length_box.setValue(60)
    dock.name_edit.setText("demo-small")
    dock.loss_box.setCurrentIndex(1)
    dock.weights_box.setChecked(True)
    finished = []
    dock.run_finished.connect(finished.append)
    dock.start()
    wait(app, 600, lambda: dock.chart.miou.count() >= 25 or finished)
    window.class_dock.hide()  # the training dock gets the whole column for this picture
    window.tool_dock.hide()
    shot(window, out, "05-training-dock.png")
    window.class_dock.show()
    window.tool_dock.show()
    wait(app, 900, lambda: bool(finished))
    print("training:", finished[0].status, finished[0].message)
    window.show_image(3)  # scene_04: not labelled — the prediction is a starting mask
    wait_loaded(window)
    wait(app, 60, lambda: f.prediction.available)
    f.review_dock.raise_()
    f.set_view(ViewMode.PREDICTION)
    shot(window, out, "06-prediction-overlay.png")
    window.show_image(0)  # scene_01: labelled — errors against the painted mask
    wait_loaded(window)
    wait(app, 60, lambda: f.prediction.available)
    f.set_view(ViewMode.ERRORS)
    wait(app, 10, lambda: f.review_dock.image_table.rowCount() > 0)
    shot(window, out, "07-error-map.png")
    table = f.review_dock.image_table
    table.sortItems(1, Qt.SortOrder.AscendingOrder)
    row = next(r for r in range(table.rowCount()) if table.item(r, 0).text() == "road") if any(
        table.item(r, 0).text() == "road" for r in range(table.rowCount())) else 0
    table.selectRow(row)
    table.cellClicked.emit(row, 0)
    shot(window, out, "08-review-table.png")
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
