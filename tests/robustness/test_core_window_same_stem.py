"""The real window on beach.jpg + beach.png (a PNG photo): both listed, painting never replaces the photo."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("pytestqt")
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "gui"))
from core_hostile import checksums  # noqa: E402
from gui_helpers import close, drag, flush, wait_loaded  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402

from segstudio.gui.window import dialogs  # noqa: E402
from segstudio.gui.window.app_window import MainWindow  # noqa: E402
from segstudio.gui.window.settings import Settings  # noqa: E402


def test_painting_beach_jpg_never_writes_over_the_beach_png_photo(tmp_path, qtbot, monkeypatch) -> None:
    calls: list[str] = []
    for name in ("error", "info", "confirm", "ask_unsaved", "ask_restore"):
        monkeypatch.setattr(dialogs, name, lambda *a, _n=name, **k: calls.append(_n) or (_n != "ask_restore"))
    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in ("beach.jpg", "beach.png"):
        Image.fromarray(rng.integers(0, 255, (60, 80, 3), dtype=np.uint8)).save(folder / name)
    (folder / "classes.txt").write_text("background\ncat\n")
    before = checksums(folder)
    window = MainWindow(settings=Settings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)))
    qtbot.addWidget(window)
    window.resize(900, 650)
    window.show()
    qtbot.waitExposed(window)
    assert window.open_project(folder) and wait_loaded(window)
    assert window.file_dock.list.count() == 2  # the PNG photo is an image, not beach.jpg's mask
    assert window.session.entry.image_path.name == "beach.jpg"
    window.select_class(1)
    window.tools.set_brush_size(5)
    drag(window.canvas, [(10, 20), (40, 20)])
    assert window.session.document.label.any()
    window.save()
    flush(window)
    assert "error" in calls and window.session.dirty  # told, and the strokes stay in memory
    # Every user file is unchanged (the app's own state folder holds its lock and class record).
    after = {name: digest for name, digest in checksums(folder).items() if not name.startswith(".segstudio/")}
    assert after == before
    with Image.open(folder / "beach.png") as image:
        assert image.mode == "RGB"
    assert close(window)  # closed while this test's dialogs answer (the strokes cannot be saved: quit anyway)
