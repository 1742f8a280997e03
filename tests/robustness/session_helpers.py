"""Helpers of the test_session_* robustness tests (not a test module): the window fixtures of
tests/gui/conftest.py (imported here so these tests get the same window, settings and recorded
dialogs), broken mask files of every kind, and checksums."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image

GUI_TESTS = Path(__file__).resolve().parents[1] / "gui"
sys.path.insert(0, str(GUI_TESTS))

_spec = importlib.util.spec_from_file_location("segstudio_gui_conftest_for_session", GUI_TESTS / "conftest.py")
gui_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gui_conftest)

# fixtures, re-exported for ``from session_helpers import ...`` in the test modules
fake_dialogs = gui_conftest.fake_dialogs
settings = gui_conftest.settings
make_window = gui_conftest.make_window
make_project = gui_conftest.make_project
CLASSES = gui_conftest.CLASSES
SIZE = gui_conftest.SIZE  # (width, height) of the project's images

FOREIGN = (10, 200, 30)  # not a VOC colour; nearest class colour of classes 0..3 is class 2


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def checksums(folder: Path) -> dict[str, str]:
    """sha256 of every file in ``folder`` (recursively, state folders excluded)."""
    return {
        str(p.relative_to(folder)): sha256(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not any(part.startswith(".segstudio") for part in p.relative_to(folder).parts)
    }


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def broken_mask_bytes(kind: str) -> bytes:
    """The bytes of a mask file for an 80×60 image with a 4-class list, broken in the given way."""
    width, height = SIZE
    if kind == "size":
        label = np.zeros((30, 40), np.uint8)
        label[5:20, 5:30] = 1
        image = Image.fromarray(label, "P")
        image.putpalette([0, 0, 0, 128, 0, 0] + [0] * 762)
        return _png(image)
    if kind == "values":
        label = np.zeros((height, width), np.uint8)
        label[10:30, 10:40] = 7
        label[40:50, 0:10] = 2
        label[0:5, 0:5] = 255
        return _png(Image.fromarray(label, "L"))
    if kind == "colours":
        rgb = np.zeros((height, width, 3), np.uint8)
        rgb[10:30, 10:40] = FOREIGN
        rgb[40:50, 0:10] = (128, 0, 0)
        return _png(Image.fromarray(rgb, "RGB"))
    if kind == "16bit":
        data = np.zeros((height, width), np.uint16)
        data[10:20, 10:20] = 300
        return _png(Image.fromarray(data))  # mode I;16
    if kind == "la":
        la = np.zeros((height, width, 2), np.uint8)
        la[..., 1] = 255
        la[10:20, 10:20, 0] = 1
        return _png(Image.merge("LA", [Image.fromarray(la[..., 0]), Image.fromarray(la[..., 1])]))
    if kind == "jpeg":
        buffer = io.BytesIO()
        Image.fromarray(np.full((height, width, 3), 128, np.uint8)).save(buffer, format="JPEG")
        return buffer.getvalue()
    if kind == "truncated":
        data = _png(Image.fromarray(np.random.default_rng(0).integers(0, 4, (height, width), dtype=np.uint8), "L"))
        return data[: len(data) // 2]
    raise ValueError(kind)


BROKEN_KINDS = ("size", "values", "colours", "16bit", "la", "jpeg", "truncated")
