"""A mask that does not load is never written over: the image is read-only for its mask until the
user picks one of the repairs the app offers, and each repair gives the expected map."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gui_helpers  # noqa: E402  (tests/gui, put on sys.path by session_helpers)
from gui_helpers import flush, wait_loaded  # noqa: E402
from session_helpers import (  # noqa: E402,F401
    BROKEN_KINDS,
    SIZE,
    broken_mask_bytes,
    checksums,
    fake_dialogs,
    make_project,
    make_window,
    settings,
    sha256,
)

from segstudio.core import mask_repair  # noqa: E402
from segstudio.core.masks import read_mask  # noqa: E402


def _project(tmp_path: Path, kind: str) -> tuple[Path, Path]:
    """Images in ``images/``, masks and classes.txt in the save folder ``masks/`` (returned): a
    broken file beside its photo would not count as a mask at all (core.images.without_masks: a
    mask is one 8-bit channel of its image's size), so it would be listed as a second photo."""
    images = make_project(tmp_path / "images", count=2)
    folder = tmp_path / "masks"
    folder.mkdir()
    (folder / "classes.txt").write_bytes((images / "classes.txt").read_bytes())
    mask = folder / "img1.png"
    mask.write_bytes(broken_mask_bytes(kind))
    return folder, mask


def _open(make_window, folder: Path):
    return make_window(folder.parent / "images", save_dir=folder)


def _stroke_autosave_verify(window) -> None:
    """Everything that used to write the empty mask: a stroke, the autosave delay, Space, Ctrl+S."""
    gui_helpers.drag(window.canvas, [(5, 5), (40, 30), (70, 50)])
    window.session.edit_finished()
    flush(window)
    window.canvas.space_tapped.emit()
    window.actions["save"].trigger()
    window.session.toggle_verified()  # the session itself refuses too (not only the disabled action)
    window.session.save_async()
    flush(window)
    window.show_image(1)  # leaving the image autosaves a dirty one
    wait_loaded(window)
    flush(window)


@pytest.mark.parametrize("kind", BROKEN_KINDS)
def test_broken_mask_is_never_written_over(tmp_path, make_window, fake_dialogs, kind):
    folder, mask = _project(tmp_path, kind)
    before = checksums(folder), checksums(folder.parent / "images")
    window = _open(make_window, folder)
    assert "ask_mask_repair" in fake_dialogs.names()  # the repair was offered (answer: cancel)
    assert window.session.mask_blocked
    assert "read-only" in window.windowTitle()
    _stroke_autosave_verify(window)
    assert (checksums(folder), checksums(folder.parent / "images")) == before, f"{kind}: a user file changed"
    assert not (folder / "img1.xml").exists()


def _open_with(tmp_path, make_window, fake_dialogs, kind, answers):
    folder, mask = _project(tmp_path, kind)
    original = mask.read_bytes()
    fake_dialogs.repair_answers = list(answers)
    window = _open(make_window, folder)
    flush(window)
    return folder, mask, original, window


def _original_label(kind: str) -> np.ndarray:
    import io

    from PIL import Image

    with Image.open(io.BytesIO(broken_mask_bytes(kind))) as image:
        return np.asarray(image).copy()


def test_resample_repair(tmp_path, make_window, fake_dialogs):
    folder, mask, _, window = _open_with(tmp_path, make_window, fake_dialogs, "size", [mask_repair.RESAMPLE])
    expected = cv2.resize(_original_label("size"), SIZE, interpolation=cv2.INTER_NEAREST)
    assert not window.session.mask_blocked
    np.testing.assert_array_equal(read_mask(mask), expected)
    backups = list(folder.glob("img1.png.bak-*"))  # the original is kept beside the repaired mask
    assert len(backups) == 1 and backups[0].read_bytes() == broken_mask_bytes("size")
    assert set(np.unique(expected)) == {0, 1}


def test_pad_crop_repair(tmp_path, make_window, fake_dialogs):
    folder, mask, _, window = _open_with(tmp_path, make_window, fake_dialogs, "size", [mask_repair.PAD_CROP])
    expected = np.zeros((SIZE[1], SIZE[0]), np.uint8)
    expected[:30, :40] = _original_label("size")
    np.testing.assert_array_equal(read_mask(mask), expected)


def test_add_classes_repair(tmp_path, make_window, fake_dialogs):
    folder, mask, _, window = _open_with(tmp_path, make_window, fake_dialogs, "values", [mask_repair.ADD_CLASSES])
    names = (folder / "classes.txt").read_text().split()
    assert names[4:] == ["class_4", "class_5", "class_6", "class_7"]
    np.testing.assert_array_equal(read_mask(mask), _original_label("values"))
    assert window.class_dock is not None and len(window.session.project.classes) == 8


def test_map_to_ignore_repair(tmp_path, make_window, fake_dialogs):
    folder, mask, _, window = _open_with(tmp_path, make_window, fake_dialogs, "values", [mask_repair.MAP_TO_IGNORE])
    expected = _original_label("values").copy()
    expected[expected == 7] = 255
    np.testing.assert_array_equal(read_mask(mask), expected)
    assert (folder / "classes.txt").read_text().split() == ["background", "cat", "dog", "tree"]


def test_nearest_colour_repair(tmp_path, make_window, fake_dialogs):
    folder, mask, _, window = _open_with(tmp_path, make_window, fake_dialogs, "colours", [mask_repair.NEAREST_COLOUR])
    expected = np.zeros((SIZE[1], SIZE[0]), np.uint8)
    expected[10:30, 10:40] = 2  # (10, 200, 30) is nearest to dog's (0, 128, 0)
    expected[40:50, 0:10] = 1
    np.testing.assert_array_equal(read_mask(mask), expected)


@pytest.mark.parametrize("kind", ["jpeg", "truncated", "la", "16bit", "size"])
def test_backup_repair_keeps_the_file_and_starts_empty(tmp_path, make_window, fake_dialogs, kind):
    folder, mask, original, window = _open_with(tmp_path, make_window, fake_dialogs, kind, [mask_repair.BACKUP])
    backups = sorted(folder.glob("img1.png.bak-*"))
    assert len(backups) == 1 and backups[0].read_bytes() == original
    assert not mask.exists()
    assert not window.session.mask_blocked
    gui_helpers.drag(window.canvas, [(5, 5), (20, 20)])
    flush(window)
    assert read_mask(mask).max() > 0  # painting and saving work again
    assert backups[0].read_bytes() == original


def test_repair_chain_size_then_values(tmp_path, make_window, fake_dialogs):
    """A mask both too small and holding unknown values: two questions, two repairs."""
    from segstudio.core.masks import write_mask

    folder, _ = _project(tmp_path, "size")
    small = np.zeros((30, 40), np.uint8)
    small[0:10, 0:10] = 9
    (folder / "img1.png").unlink()
    write_mask(folder / "img1.png", small)
    fake_dialogs.repair_answers = [mask_repair.PAD_CROP, mask_repair.MAP_TO_IGNORE]
    window = _open(make_window, folder)
    flush(window)
    assert fake_dialogs.names().count("ask_mask_repair") == 2
    expected = np.zeros((SIZE[1], SIZE[0]), np.uint8)
    expected[0:10, 0:10] = 255
    np.testing.assert_array_equal(read_mask(folder / "img1.png"), expected)


def test_backup_name_never_overwrites(tmp_path):
    mask = tmp_path / "a.png"
    mask.write_bytes(b"one")
    first = mask_repair.move_aside(mask)
    mask.write_bytes(b"two")
    second = mask_repair.move_aside(mask)
    assert first != second and first.read_bytes() == b"one" and second.read_bytes() == b"two"
    assert first.parent == tmp_path and second.parent == tmp_path


def test_cancel_then_repair_from_menu(tmp_path, make_window, fake_dialogs):
    folder, mask = _project(tmp_path, "values")
    window = _open(make_window, folder)
    assert window.actions["repair_mask"].isEnabled()
    fake_dialogs.repair_answers = [mask_repair.MAP_TO_IGNORE]
    window.actions["repair_mask"].trigger()
    flush(window)
    assert not window.session.mask_blocked and not window.actions["repair_mask"].isEnabled()
    assert read_mask(mask).max() == 255


@pytest.mark.parametrize("kind, expected", [
    ("size", "size"), ("values", "values"), ("colours", "colours"), ("16bit", "format"), ("la", "format"),
    ("jpeg", "format"), ("truncated", "format"),
])
def test_inspect_mask_names_the_problem_and_its_repairs(tmp_path, kind, expected):
    """core.mask_repair.inspect_mask: one diagnosis per broken kind, a backup always offered."""
    path = tmp_path / "m.png"
    path.write_bytes(broken_mask_bytes(kind))
    label, problem = mask_repair.inspect_mask(path, SIZE, 4)
    assert label is None and problem.kind == expected and "m.png" in problem.message
    assert mask_repair.BACKUP in problem.repairs
    for repair in problem.repairs:
        if repair != mask_repair.ADD_CLASSES:
            out = mask_repair.repaired_label(problem, repair, SIZE, np.zeros((256, 3), np.uint8), 4)
            assert out.shape == (SIZE[1], SIZE[0]) or problem.kind == "values"


def test_inspect_mask_accepts_a_good_mask(tmp_path):
    from segstudio.core.masks import write_mask

    label = np.zeros((SIZE[1], SIZE[0]), np.uint8)
    label[1:5, 1:5] = 3
    write_mask(tmp_path / "m.png", label)
    got, problem = mask_repair.inspect_mask(tmp_path / "m.png", SIZE, 4)
    assert problem is None and np.array_equal(got, label)
