"""Every dock of the window at a laptop size and a desktop size, on a virtual X display (Xvfb).

    python tests/tools/screenshot_docks.py [OUT_DIR]        # default: /tmp/segstudio-docks

Opens a throw-away copy of the demo project in a window of 1280x820 (the first-start size) and of
1920x1080, raises each tabbed dock in turn (Files, Training, Models, Review) and saves
``docks-<width>x<height>-<dock>.png``, for checking by eye that nothing is cut off.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import screenshot_train  # noqa: E402

SIZES = [(1280, 820), (1920, 1080)]


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path(tempfile.gettempdir()) / "segstudio-docks"
    out.mkdir(parents=True, exist_ok=True)
    tmp = screenshot_train.throwaway_home("segstudio-dock-shots-")
    screenshot_train.WIDTH, screenshot_train.HEIGHT = max(SIZES)
    return screenshot_train.run_in_xvfb(lambda: _run(out, tmp), tmp)


def _run(out: Path, tmp: Path) -> int:
    from PySide6.QtWidgets import QApplication

    app = QApplication(["segstudio"])

    for width, height in SIZES:
        window = screenshot_train.demo_window(tmp, width, height, f"settings-{width}.ini")
        features = window.model_features
        docks = {"files": window.file_dock, "training": features.train_dock,
                 "models": features.models_dock, "review": features.review_dock}
        for name, dock in docks.items():
            dock.raise_()
            screenshot_train.wait(app, 0.3)
            screenshot_train.shot(window, out, f"docks-{width}x{height}-{name}.png")
        window.close()
        screenshot_train.wait(app, 0.3)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
