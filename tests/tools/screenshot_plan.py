"""Screenshot of the training form's plan before Train, with the warning and the budget it offers (Xvfb).

    python tests/tools/screenshot_plan.py [OUT_DIR] [--display :N]    # default: docs/screenshots

Opens the real window on a throw-away copy of the demo project with clean settings, lets the plan
measure this machine (a few seconds on a worker), and saves 12-training-plan.png: the form set to
the automatic length (about 2000 steps at 512 px), the plan saying how long that takes here, the
warning, and the offered time budget. Then 13-training-budget.png after a click on the offer.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # this checkout, not another installed one
sys.path.insert(0, str(REPO / "tests" / "gui"))
sys.path.insert(0, str(REPO / "tests" / "tools"))
from screenshot_train import HEIGHT, WIDTH, demo_window, run_in_xvfb, shot, shot_options, throwaway_home, wait  # noqa: E402


def main(argv: list[str]) -> int:
    out, display = shot_options(argv, REPO / "docs" / "screenshots")
    tmp = throwaway_home("segstudio-plan-shots-")
    return run_in_xvfb(lambda: _run(out, tmp), tmp, display)


def _run(out: Path, tmp: Path) -> int:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    app = QApplication(["segstudio"])
    window = demo_window(tmp, WIDTH, HEIGHT)
    window.resizeDocks([window.file_dock], [440], Qt.Orientation.Horizontal)
    dock = window.model_features.train_dock
    dock.raise_()
    window.class_dock.hide()  # the training dock gets the whole column for this picture
    window.tool_dock.hide()
    plan = dock.plan_view
    print("fresh form:", dock.unit_box.currentText(), dock.length_box.value())
    dock.unit_box.setCurrentText("steps")
    dock.length_box.setValue(0)  # the automatic length, at the table's 512 px, batch 8
    wait(app, 120, lambda: "About" in plan.text.text())
    print("plan:", plan.text.text())
    print("warning:", plan.warning.text(), "| offer:", plan.offer.text())
    shot(window, out, "12-training-plan.png")
    plan.offer.click()
    wait(app, 5)
    print("after the offer:", plan.text.text())
    shot(window, out, "13-training-budget.png")
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
