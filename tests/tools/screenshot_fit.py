"""Every dock at 1280x820 before, during and after a training run, with long class and model names.

    python tests/tools/screenshot_fit.py [OUT_DIR] [--display N]   # default: /tmp/segstudio-fit, a free display

Runs the real window in this process on a virtual X display (Xvfb) on a copy of the demo whose
class list has long names ("traffic sign (temporary)"...) and twelve classes, trains a small
SegFormer named "segformer-b2-finetuned-ade-512-512-long-name" for a few steps, stops it, and saves
``fit-<phase>-<dock>.png`` (phase: before, during, after; dock: files, training, models, review) of
the whole window, for checking by eye that nothing is cut off or elided. It also prints, for each
shot, the widgets whose content does not fit (``dock_fit.clipped``), which the tests check too.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # this checkout's segstudio, not an installed one

import screenshot_train  # noqa: E402

WIDTH, HEIGHT = 1280, 820
LONG_CLASSES = ["background", "house", "grass", "traffic sign (temporary)", "sky", "tree", "car", "sun",
                "pedestrian crossing (painted)", "bicycle", "bus stop shelter", "street lamp"]
LONG_MODEL = "segformer-b2-finetuned-ade-512-512-long-name"


def main(argv: list[str]) -> int:
    out, display = screenshot_train.shot_options(argv, Path(tempfile.gettempdir()) / "segstudio-fit")
    tmp = screenshot_train.throwaway_home("segstudio-fit-shots-")
    screenshot_train.WIDTH, screenshot_train.HEIGHT = WIDTH, HEIGHT
    return screenshot_train.run_in_xvfb(lambda: _run(out, tmp), tmp, display)


def long_named_demo(tmp: Path) -> Path:
    from segstudio.gui.window import demo

    folder = demo.ensure_demo_copy(tmp / "demo")
    (folder / "classes.txt").write_text("\n".join(LONG_CLASSES) + "\n")
    return folder


def _run(out: Path, tmp: Path) -> int:
    from gui_helpers import wait_loaded
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication, QScrollArea

    from segstudio.gui.window.app_window import MainWindow
    from segstudio.gui.window.settings import Settings
    from segstudio.model.segformer import SegFormerConfig

    app = QApplication(["segstudio"])
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gui"))
    from dock_fit import clipped

    window = MainWindow(Settings(QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)))
    window.resize(WIDTH, HEIGHT)
    window.show()
    window.open_project(long_named_demo(tmp))
    wait_loaded(window)
    f = window.model_features
    docks = {"files": window.file_dock, "training": f.train_dock, "models": f.models_dock, "review": f.review_dock}

    def shots(phase: str) -> None:
        for name, dock in docks.items():
            dock.raise_()
            screenshot_train.wait(app, 0.3)
            screenshot_train.shot(window, out, f"fit-{phase}-{name}.png")
            problems = clipped(window)
            print(f"  {phase} {name}: {'; '.join(problems) if problems else 'everything fits'}")
            area = dock.widget() if isinstance(dock.widget(), QScrollArea) else dock.widget().findChild(QScrollArea)
            bar = area.verticalScrollBar() if area is not None else None  # the file list has none
            if bar is not None and bar.maximum() > 0:  # and the part below the fold (the chart, the per-class tables)
                bar.setValue(bar.maximum())
                screenshot_train.shot(window, out, f"fit-{phase}-{name}-scrolled.png")
                bar.setValue(0)

    shots("before")
    small = SegFormerConfig(hidden_sizes=(24, 48, 64, 96), depths=(1, 1, 1, 1), num_heads=(1, 2, 2, 4),
                            sr_ratios=(4, 2, 1, 1), decoder_hidden_size=96, num_labels=len(LONG_CLASSES),
                            drop_path_rate=0.0, classifier_dropout=0.0)
    dock = f.train_dock
    training = dock.training
    build = type(training).config
    training.config = lambda values, name="": replace(build(training, values, name), model_config=small, lr=2e-3)
    dock.size_box.setValue(128)
    dock.batch_box.setValue(2)
    dock.unit_box.setCurrentText("steps")
    dock.length_box.setValue(100000)  # stopped once the chart has a few points
    dock.name_edit.setText(LONG_MODEL)
    finished: list = []
    dock.run_finished.connect(finished.append)
    dock.raise_()
    dock.start()
    screenshot_train.wait(app, 600, lambda: dock.chart.loss.count() >= 20 or bool(finished))
    shots("during")
    dock.stop()
    screenshot_train.wait(app, 900, lambda: bool(finished))
    print("training:", finished[0].status if finished else "still running")
    screenshot_train.wait(app, 5, lambda: f.review_dock.image_table.rowCount() > 0)
    shots("after")
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
