"""Live mode in the real window on a virtual display: time to the first overlay, and screenshots.

    python tests/tools/live_window_xvfb.py [--display 33] [--out /tmp/live-shots]

Starts Xvfb on ``--display``, copies 6 CamVid photos (../shared/datasets/camvid-val/) into a
throw-away scribble project outside the repository, opens the real window (xcb, its own event loop),
paints one stroke of "road" and one of "sky" on the first photo, and turns live mode on. It prints
when the first live overlay reached the review (what the canvas draws) after the toggle, and when
the deep model's first cycle answered; then labels the next photos as a user would (waits for the
live overlay, accepts it, paints a correction, saves, moves on), and takes screenshots: the first
overlay, the Model menu (Update model now, Retrain when a mask is saved) and the Review dock's Kept
page; then closes the window (the live model is kept). Everything runs on the window's own event
loop (QTimer steps).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CAMVID = REPO.parent / "shared" / "datasets" / "camvid-val"
sys.path.insert(0, str(REPO / "tests" / "gui"))


def make_project(root: Path, count: int = 6) -> Path:
    """A folder of ``count`` CamVid photos and their class file (scribbles on); its path."""
    from segstudio.application.live.scribbles import set_scribbles
    from segstudio.core.project import Project

    images = root / "images"
    images.mkdir(parents=True)
    for path in sorted((CAMVID / "images").glob("*.jpg"))[::17][:count]:
        shutil.copy(path, images / path.name)
    shutil.copy(CAMVID / "masks" / "classes.txt", images / "classes.txt")
    project = Project(images, images)
    set_scribbles(project, True)
    del project
    return images


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--display", default="33")
    parser.add_argument("--out", type=Path, default=Path("/tmp/live-shots"))
    parser.add_argument("--seconds", type=float, default=30.0, help="live mode runs this long before labelling")
    parser.add_argument("--images", type=int, default=4, help="photos labelled after that (accept, correct, save)")
    args = parser.parse_args(argv)
    if not (CAMVID / "images").is_dir():
        print(f"the CamVid photos are not in {CAMVID}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="segstudio-live-"))
    xvfb = subprocess.Popen(["Xvfb", f":{args.display}", "-screen", "0", "1360x860x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        os.environ.update(DISPLAY=f":{args.display}", HOME=str(tmp), XDG_CONFIG_HOME=str(tmp / "config"),
                          XDG_DATA_HOME=str(tmp / "data"))
        os.environ.pop("QT_QPA_PLATFORM", None)
        return run_window(make_project(tmp / "project"), args)
    finally:
        xvfb.terminate()
        xvfb.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


def run_window(images: Path, args: argparse.Namespace) -> int:
    from gui_helpers import drag
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from segstudio.application.review.review_rules import AcceptMode
    from segstudio.gui.window.app_window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0]])
    window = MainWindow()
    window.resize(1360, 860)
    window.show()
    window.open_project(images)
    times: dict[str, float] = {}
    live = window.live_features.live

    def on_cycle(cycle) -> None:
        if "toggle" not in times:
            return
        at = time.perf_counter() - times["toggle"]
        if cycle.labels is not None and "first" not in times:
            times["first"] = at
            print(f"first live overlay {at:.2f} s after the toggle ({cycle.shown} learner)", flush=True)
            QTimer.singleShot(300, lambda: shot(window, args.out / "live-first-overlay.png"))
        if cycle.steps > 0 and "deep" not in times:
            times["deep"] = at
            print(f"first cycle of the deep model answered {at:.2f} s after the toggle", flush=True)

    live.cycle_done.connect(on_cycle)
    steps = []
    gaps: list[float] = []
    ticker = QTimer()
    ticker.setInterval(16)

    def tick() -> None:  # the window's event loop as a user feels it: the gap between 60 Hz ticks
        # (the tool's own callbacks that replay a user's strokes reset the clock: their time is not a gap)
        now = time.perf_counter()
        if "tick" in times and live.on:
            gaps.append(now - times["tick"] - 0.016)
            if gaps[-1] > 0.1:
                print(f"  a gap of {1000 * gaps[-1]:.0f} ms ending {now - times['toggle']:.1f} s after the toggle",
                      flush=True)
        times["tick"] = now

    ticker.timeout.connect(tick)
    ticker.start()

    def paint() -> None:
        canvas = window.canvas
        window.tools.set_brush_size(9)
        window.select_class(4)  # road
        drag(canvas, [(60 + 8 * i, 320) for i in range(40)])
        window.select_class(1)  # sky
        drag(canvas, [(120 + 8 * i, 30) for i in range(30)])
        times["toggle"] = time.perf_counter()
        window.actions["live_training"].setChecked(True)

    def label_next(left: int, waited: float = 0.0) -> None:
        """Once the live overlay of the image on screen has come, accept it, correct a stroke,
        save and move on (as a user does); then the next."""
        if left == 0:
            later_shots()
            return
        review, entry = window.model_features.review, window.session.entry
        if entry is None or review.shown is None or review.shown.image_path != entry.image_path:
            if waited < 60:
                QTimer.singleShot(250, lambda: label_next(left, waited + 0.25))
                return
        print(f"{entry.stem if entry else '?'}: the live overlay came {waited:.2f} s after opening", flush=True)
        window.model_features.accept(list(AcceptMode)[0], 1)
        window.select_class(2)  # building: a correction on the left
        drag(window.canvas, [(40, 120 + 6 * i) for i in range(25)])
        window.session.save_async()
        window.go(+1)
        times["tick"] = time.perf_counter()  # the tool's own synthetic strokes are not the app's gap
        QTimer.singleShot(250, lambda: label_next(left - 1))

    def later_shots() -> None:
        print(f"kept records: {[(r.stem, r.overall) for r in window.model_features.kept.records]}", flush=True)
        if gaps:
            ordered = sorted(gaps)
            print(f"GUI timer while live mode ran: longest gap {1000 * ordered[-1]:.0f} ms, 99th percentile "
                  f"{1000 * ordered[int(0.99 * (len(ordered) - 1))]:.0f} ms over {len(gaps)} ticks", flush=True)
        shot(window, args.out / "live-after.png")
        dock = window.model_features.review_dock
        dock.setFloating(True)
        dock.resize(420, 640)
        dock.move(window.mapToGlobal(window.rect().topLeft()) + window.rect().center() / 2)
        dock.tabs.setCurrentIndex(dock.tabs.count() - 1)
        dock.widget().verticalScrollBar().setValue(dock.widget().verticalScrollBar().maximum())
        QTimer.singleShot(800, lambda: shot(window, args.out / "review-kept-page.png", root=True))
        QTimer.singleShot(1500, menu_shot)

    def menu_shot() -> None:
        menu = window.actions.menu("Model")
        menu.popup(window.mapToGlobal(window.rect().center()) / 2)
        QTimer.singleShot(500, lambda: (shot(window, args.out / "model-menu.png", root=True), menu.close(),
                                        window.actions["live_training"].setChecked(False),
                                        QTimer.singleShot(4000, window.close)))

    QTimer.singleShot(4000, paint)
    QTimer.singleShot(int(1000 * min(args.seconds, 30)), lambda: label_next(args.images))
    steps.append(app.exec())
    times.pop("tick", None)
    print(f"times: {times}")
    return 0 if "first" in times else 1


def shot(window, path: Path, root: bool = False) -> None:
    """The window as on screen (the X server's pixels, like a user sees: menus included when root)."""
    display = os.environ["DISPLAY"]
    if root:
        subprocess.run(["import", "-display", display, "-window", "root", "-crop", "1360x860+0+0", "+repage",
                        str(path)], check=False, timeout=30)
    else:
        window.grab().save(str(path))
    print(f"screenshot {path}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
