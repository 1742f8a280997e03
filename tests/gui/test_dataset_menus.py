"""File > Export and File > Import masks in the real window: jobs off the GUI thread, nothing replaced silently."""

from __future__ import annotations

import hashlib

import numpy as np
from gui_helpers import wait_loaded  # noqa: E402
from gui_project import make_project
from PIL import Image

from segstudio.application.dataset_jobs import ExportOptions, run_export
from segstudio.core.masks import read_mask, write_mask
from segstudio.gui.window import dialogs

W, H = 80, 60


def _label(value: int, x0: int) -> np.ndarray:
    label = np.zeros((H, W), np.uint8)
    label[10:40, x0:x0 + 20] = value
    return label


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _answers(monkeypatch, **answers) -> list:
    """Replace the questions the menus ask; returns the info/error texts shown."""
    shown = []
    for name, value in answers.items():
        monkeypatch.setattr(dialogs, name, lambda *a, value=value, **k: value)
    monkeypatch.setattr(dialogs, "info", lambda parent, title, text: shown.append(text))
    monkeypatch.setattr(dialogs, "error", lambda parent, title, text: shown.append("ERROR " + text))
    return shown


def test_export_voc_from_the_window(qtbot, make_window, project_dir, tmp_path, monkeypatch) -> None:
    write_mask(project_dir / "img1.png", _label(1, 5))
    window = make_window(project_dir)
    out = tmp_path / "voc_out"
    shown = _answers(monkeypatch, ask_folder=str(out), ask_export=(0.0, False))
    window.actions["export_voc"].trigger()
    qtbot.waitUntil(lambda: bool(shown), timeout=20000)
    assert "ERROR" not in shown[0]
    exported = np.asarray(Image.open(out / "SegmentationClass" / "img1.png"))
    assert np.array_equal(exported, _label(1, 5))


def test_import_coco_keeps_existing_masks_unless_asked(qtbot, make_window, tmp_path, monkeypatch) -> None:
    # A COCO dataset of the same three images, made by our own export from another save folder.
    images = make_project(tmp_path / "images")
    other = tmp_path / "other"
    other.mkdir()
    (other / "classes.txt").write_bytes((images / "classes.txt").read_bytes())
    for i, x0 in enumerate((5, 30, 50), start=1):
        write_mask(other / f"img{i}.png", _label(2, x0))
    run_export("coco", other, images, tmp_path / "coco", ExportOptions(rle=True))
    json_path = tmp_path / "coco" / "annotations" / "instances_train.json"
    # The project: its own mask for img1, none for the others.
    save = tmp_path / "save"
    save.mkdir()
    (save / "classes.txt").write_bytes((images / "classes.txt").read_bytes())
    write_mask(save / "img1.png", _label(1, 5))
    mine = _sha(save / "img1.png")
    window = make_window(images, save_dir=save)
    shown = _answers(monkeypatch, ask_file=str(json_path), confirm=False)
    window.actions["import_coco"].trigger()
    qtbot.waitUntil(lambda: bool(shown), timeout=20000)
    assert "2 file(s) written" in shown[0] and "kept" in shown[0]
    assert _sha(save / "img1.png") == mine  # the user's mask stayed
    assert np.array_equal(read_mask(save / "img2.png"), _label(2, 30))
    window.show_image(1)
    assert wait_loaded(window)
    assert np.array_equal(window.session.document.label, _label(2, 30))  # the window sees the new mask
    # Asked again and answered yes: the existing mask is replaced.
    shown.clear()
    monkeypatch.setattr(dialogs, "confirm", lambda *a: True)
    window.actions["import_coco"].trigger()
    qtbot.waitUntil(lambda: len(shown) >= 1, timeout=20000)
    assert np.array_equal(read_mask(save / "img1.png"), _label(2, 5))


def test_export_refuses_a_folder_inside_the_project(qtbot, make_window, project_dir, monkeypatch) -> None:
    write_mask(project_dir / "img1.png", _label(1, 5))
    window = make_window(project_dir)
    before = sorted(p.name for p in project_dir.iterdir())
    shown = _answers(monkeypatch, ask_folder=str(project_dir / "export"), ask_export=(0.2, False))
    window.actions["export_yolo"].trigger()
    qtbot.waitUntil(lambda: bool(shown), timeout=20000)
    assert shown[0].startswith("ERROR")
    assert sorted(p.name for p in project_dir.iterdir()) == before
