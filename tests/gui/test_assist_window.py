"""GrabCut, the magic wand and the clean-ups in the real window: previewed, accepted as one undo step."""

from __future__ import annotations

import numpy as np
from gui_helpers import drag, flush, move, press, release, wait_loaded
from PIL import Image
from PySide6.QtCore import Qt

from segstudio.core.classes import ClassList, save_class_file
from segstudio.gui.canvas.canvas_tools import Tool
from segstudio.gui.window import dialogs

W, H = 160, 120


def _disc_project(folder):
    """A bright disc on a noisy dark background, and a flat grey square: clear objects."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    image = rng.integers(0, 60, (H, W, 3), dtype=np.uint8)
    yy, xx = np.mgrid[:H, :W]
    disc = (xx - 60) ** 2 + (yy - 60) ** 2 <= 30 ** 2
    image[disc] = (230, 200, 40) + rng.integers(0, 20, (int(disc.sum()), 3))
    image[20:50, 110:150] = (128, 128, 128)  # flat: the wand's region
    Image.fromarray(image).save(folder / "scene.png")
    save_class_file(folder / "classes.txt", ClassList(["background", "ball", "box"]))
    return folder, disc


def _iou(a, b) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def _key(qtbot, window, key) -> None:
    qtbot.keyClick(window.canvas, key)


def test_grabcut_box_refine_accept_and_undo(qtbot, make_window, tmp_path) -> None:
    folder, disc = _disc_project(tmp_path / "p")
    window = make_window(folder, save_dir=tmp_path / "masks")
    window.actions["tool_grabcut"].trigger()
    assert window.tools.tool == Tool.GRABCUT
    window.select_class(1)
    assist = window.assist_features.tools
    drag(window.canvas, [(22, 22), (60, 60), (99, 99)])
    qtbot.waitUntil(lambda: assist.has_proposal, timeout=10000)
    assert _iou(assist.proposal(), disc) >= 0.9
    assert not window.session.document.label.any()  # only a preview so far
    # A background stroke across the disc's right part takes it out of the proposal.
    before = int(assist.proposal()[:, 80:].sum())
    window.tools.set_brush_size(9)
    drag(window.canvas, [(82, 40), (82, 60), (82, 80)], modifiers=Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: not assist.running, timeout=10000)
    assert assist.proposal()[50:70, 80:84].sum() == 0 and int(assist.proposal()[:, 80:].sum()) < before
    proposal = assist.proposal().copy()
    _key(qtbot, window, Qt.Key.Key_Return)
    label = window.session.document.label
    assert np.array_equal(label == 1, proposal) and not assist.has_proposal
    window.undo()
    assert not window.session.document.label.any()  # one undo step


def test_grabcut_escape_drops_the_proposal(qtbot, make_window, tmp_path) -> None:
    folder, _ = _disc_project(tmp_path / "p")
    window = make_window(folder, save_dir=tmp_path / "masks")
    window.actions["tool_grabcut"].trigger()
    assist = window.assist_features.tools
    drag(window.canvas, [(22, 22), (99, 99)])
    qtbot.waitUntil(lambda: assist.has_proposal, timeout=10000)
    _key(qtbot, window, Qt.Key.Key_Escape)
    assert not assist.has_proposal and not window.session.document.label.any()


def test_wand_region_tolerance_drag_and_accept(qtbot, make_window, tmp_path) -> None:
    folder, _ = _disc_project(tmp_path / "p")
    window = make_window(folder, save_dir=tmp_path / "masks")
    window.actions["tool_wand"].trigger()
    window.select_class(2)
    assist = window.assist_features.tools
    assist.wand_tolerance = 0
    press(window.canvas, 120, 30)
    release(window.canvas, 120, 30)
    flat = np.zeros((H, W), bool)
    flat[20:50, 110:150] = True
    assert np.array_equal(assist.proposal(), flat)
    # Dragging right raises the tolerance: the dark noisy background joins.
    press(window.canvas, 120, 30)
    move(window.canvas, 159, 30)
    release(window.canvas, 159, 30)
    assert assist.shown_tolerance > 0 and assist.wand_tolerance == 0  # the drag is this click's only
    _key(qtbot, window, Qt.Key.Key_Escape)
    press(window.canvas, 120, 30)
    release(window.canvas, 120, 30)
    _key(qtbot, window, Qt.Key.Key_Enter)
    assert np.array_equal(window.session.document.label == 2, flat)


def test_wand_tolerance_starts_again_at_tool_options_value_after_a_drag(qtbot, make_window, tmp_path) -> None:
    """A wide drag (almost the whole image) is forgotten by Esc and by the next click: each click
    starts at the tolerance Tool options shows, which the user edits there."""
    folder, _ = _disc_project(tmp_path / "p")
    window = make_window(folder, save_dir=tmp_path / "masks")
    window.actions["tool_wand"].trigger()
    assist, spin = window.assist_features.tools, window.tool_dock.wand_spin
    assert spin.value() == assist.wand_tolerance
    spin.setValue(0)
    assert assist.wand_tolerance == 0
    flat = np.zeros((H, W), bool)
    flat[20:50, 110:150] = True
    press(window.canvas, 120, 30)
    move(window.canvas, 159, 30)
    release(window.canvas, 159, 30)  # dragged far right: a high tolerance for this proposal
    assert assist.shown_tolerance > 10 and assist.wand_tolerance == 0
    assert "starts at 0" in window.statusBar().toolTip()
    _key(qtbot, window, Qt.Key.Key_Escape)
    press(window.canvas, 120, 30)  # the next click: the Tool options' tolerance again
    release(window.canvas, 120, 30)
    assert assist.shown_tolerance == 0 and np.array_equal(assist.proposal(), flat)
    press(window.canvas, 120, 30)
    move(window.canvas, 159, 30)
    release(window.canvas, 159, 30)
    assert assist.shown_tolerance > 10
    press(window.canvas, 125, 35)  # another click without Esc: forgotten as well
    release(window.canvas, 125, 35)
    assert assist.shown_tolerance == 0 and np.array_equal(assist.proposal(), flat)
    assert spin.value() == 0


def test_cleanup_previews_and_applies_only_on_yes(qtbot, make_window, tmp_path, fake_dialogs, monkeypatch) -> None:
    folder, _ = _disc_project(tmp_path / "p")
    window = make_window(folder, save_dir=tmp_path / "masks")
    document = window.session.document
    window.select_class(1)
    ring = np.zeros((H, W), bool)
    ring[10:40, 10:40] = True
    ring[20:30, 20:30] = False  # a hole
    document.set_label(np.where(ring, 1, 0).astype(np.uint8))
    seen = []
    fake_dialogs.confirm_answer = False
    def confirm(parent, title, text):
        seen.append(int(window.assist_features.tools.proposal().sum()))
        return fake_dialogs.confirm_answer

    monkeypatch.setattr(dialogs, "confirm", confirm)
    window.actions["clean_fill_holes"].trigger()
    assert seen == [100] and document.label[25, 25] == 0  # previewed (100 pixels), refused
    assert not window.assist_features.tools.has_proposal
    fake_dialogs.confirm_answer = True
    window.actions["clean_fill_holes"].trigger()
    assert document.label[25, 25] == 1
    window.undo()
    assert document.label[25, 25] == 0
    window.save()
    flush(window)
    assert window.status_labels["save"].text() == "saved", window.statusBar().currentMessage()


def test_clean_every_mask_backs_up_the_originals(qtbot, make_window, project_dir, fake_dialogs, monkeypatch) -> None:
    from segstudio.core.masks import read_mask, write_mask

    speck = np.zeros((60, 80), np.uint8)
    speck[10:40, 10:40] = 1
    speck[50, 70] = 2  # a one-pixel island
    for name in ("img1", "img2"):
        write_mask(project_dir / f"{name}.png", speck)
    original = (project_dir / "img1.png").read_bytes()
    window = make_window(project_dir)
    shown = []
    monkeypatch.setattr(dialogs, "ask_choice", lambda *a: "islands")
    monkeypatch.setattr(dialogs, "ask_number", lambda *a: 5)
    monkeypatch.setattr(dialogs, "info", lambda parent, title, text: shown.append(text))
    window.actions["clean_project"].trigger()
    qtbot.waitUntil(lambda: bool(shown), timeout=20000)
    assert "2 file(s) written" in shown[0]
    for name in ("img1", "img2"):
        cleaned = read_mask(project_dir / f"{name}.png")
        assert cleaned[50, 70] == 0 and cleaned[20, 20] == 1
    backups = list((project_dir / ".segstudio" / "backups").glob("cleanup-*/img1.png"))
    assert len(backups) == 1 and backups[0].read_bytes() == original
    assert wait_loaded(window)
    assert window.session.document.label[50, 70] == 0  # the window shows the cleaned mask
