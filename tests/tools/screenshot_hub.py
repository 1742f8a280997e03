"""The Models dock's "Add from the Hub…" dialog on a virtual X display, against a loopback hub.

    python tests/tools/screenshot_hub.py [OUT_DIR] [--display N]     # default: /tmp/segstudio-hub

Serves a small SegFormer fine-tune (random weights, a cc-by-nc-4.0 model card, a preprocessor
config) as ``someone/segformer-b0-finetuned-faces`` from tests/model/hub_server.py, points
huggingface_hub at it with a throw-away HF_HOME, opens the demo in the real window, and saves:
``hub-1-looked-up.png`` (the dialog after Look up: what it is, size, licence to accept),
``hub-2-not-segformer.png`` (a repository that is not a SegFormer, refused in one line),
``hub-3-added.png`` (the dialog after the download), ``hub-4-window.png`` (the Models dock's
"Add from the Hub…" button) and ``hub-5-active.png`` (the model active in the Models dock).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "model"))
sys.path.insert(0, str(HERE.parent / "gui"))

import screenshot_train  # noqa: E402

FACES = "someone/segformer-b0-finetuned-faces"


def main(argv: list[str]) -> int:
    out, display = screenshot_train.shot_options(argv, Path(tempfile.gettempdir()) / "segstudio-hub")
    tmp = screenshot_train.throwaway_home("segstudio-hub-shots-")
    import hub_server
    from test_hub_any_id import make_repo

    server = hub_server.LoopbackHub()
    server.add_folder(FACES, make_repo(tmp / "faces"))
    files = dict(server.repos[FACES].files)
    files["config.json"] = json.dumps({"model_type": "vit", "architectures": ["ViTForImageClassification"]}).encode()
    server.repos["someone/vit-faces"] = hub_server.Repo(files)
    os.environ.update(HF_HOME=str(tmp / "hf-home"), HF_ENDPOINT=server.endpoint, HF_HUB_OFFLINE="0",
                      HF_HUB_DISABLE_TELEMETRY="1")
    os.environ.pop("HF_HUB_CACHE", None)
    hub_server._reload_constants()   # huggingface_hub read the environment when transformers imported it
    try:
        return screenshot_train.run_in_xvfb(lambda: _run(out, tmp), tmp, display)
    finally:
        server.stop()


def _run(out: Path, tmp: Path) -> int:
    from PySide6.QtWidgets import QApplication

    app = QApplication(["segstudio"])
    window = screenshot_train.demo_window(tmp, 1280, 820)
    dock = window.model_features.models_dock
    dock.raise_()
    screenshot_train.wait(app, 0.5)
    dock.hub_button.click()
    dialog = dock.hub_dialog
    dialog.resize(560, 260)

    def look_up(text: str) -> None:
        dialog.id_edit.setText(text)
        dialog.look_button.click()
        screenshot_train.wait(app, 30, lambda: dialog.look_button.isEnabled())

    look_up("someone/vit-faces")
    screenshot_train.shot(dialog, out, "hub-2-not-segformer.png")
    look_up(FACES)
    screenshot_train.shot(dialog, out, "hub-1-looked-up.png")
    dialog.accept_box.setChecked(True)
    dialog.download_button.click()
    screenshot_train.wait(app, 60, lambda: dock.active is not None)
    screenshot_train.shot(dialog, out, "hub-3-added.png")
    dialog.close()
    dock.widget().ensureWidgetVisible(dock.hub_button)
    screenshot_train.wait(app, 0.5)
    screenshot_train.shot(window, out, "hub-4-window.png")
    dock.widget().ensureWidgetVisible(dock.tree)
    screenshot_train.wait(app, 0.5)
    screenshot_train.shot(window, out, "hub-5-active.png")
    window.close()
    screenshot_train.wait(app, 0.5)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
