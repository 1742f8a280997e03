"""Click to segment on small objects in the real window, with a tiny random SAM 2 model: a small box
is answered on the whole image at once, then again on a crop around it (busy cursor and a status
line while the crop is embedded), the mask pasted back inside the crop only; the next clicks on it
reuse the crop's embedding, which is dropped when the object is; a large box gets no crop. The
status bar names the image being embedded and, once measured, how long embedding takes here."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from gui_helpers import drag, press, release
from gui_project import make_project
from PySide6.QtCore import Qt

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "model"))
from sam_tiny import TINY_SAM2, saved_random  # noqa: E402

pytest.importorskip("transformers")


@pytest.fixture
def sam_folder(tmp_path) -> Path:
    return saved_random(tmp_path / "sam2", TINY_SAM2, seed=1)


@pytest.fixture
def big_window(make_window, tmp_path):
    return make_window(make_project(tmp_path / "photos", count=2, size=(640, 480)))


def _crop_keys(segment) -> list:
    from segstudio.model.sam.segmenter import CropKey

    return [key for key in segment._segmenter._cache if isinstance(key, CropKey)]


def _embedded(qtbot, window, sam_folder, messages) -> object:
    segment = window.assist_features.tools.segment
    segment.message.connect(messages.append)
    segment.use_model(sam_folder)
    window.actions["tool_segment"].trigger()
    qtbot.waitUntil(lambda: segment.hover_preview.ready, timeout=60000)
    return segment


def test_a_small_box_is_segmented_again_on_a_crop_pasted_back_inside_it(qtbot, big_window, sam_folder) -> None:
    window, messages, working = big_window, [], []
    segment = _embedded(qtbot, window, sam_folder, messages)
    assert any("embedding img1.jpg" in m for m in messages)  # the status bar named the image
    segment.working.connect(working.append)
    assist = window.assist_features.tools
    drag(window.canvas, [(300, 200), (310, 205), (330, 224)])  # 30×24 px of 640×480: 3 feature cells
    qtbot.waitUntil(lambda: segment._proposal is not None and segment._proposal.crop is not None, timeout=60000)
    crop = segment._proposal.crop
    assert (crop.width, crop.height) == (256, 256) and crop.x0 <= 300 and 330 <= crop.x1
    assert working == [1, 0]  # the busy cursor while the crop was embedded, then back
    assert window.canvas.viewport().cursor().shape() == Qt.CursorShape.CrossCursor
    assert any("small object: embedding a 256×256 crop of img1.jpg" in m for m in messages)
    assert "on a 256×256 crop" in messages[-1]
    proposal = assist.proposal()
    outside = np.ones(proposal.shape, bool)
    outside[crop.slices] = False
    assert not (proposal & outside).any()  # nothing outside the crop
    embeds = []
    original = segment._segmenter.embed_crop
    segment._segmenter.embed_crop = lambda *a, **k: embeds.append(original(*a, **k)) or embeds[-1]
    press(window.canvas, 320, 215, Qt.KeyboardModifier.ShiftModifier)  # a corrective click on the object
    release(window.canvas, 320, 215, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: not segment.pending, timeout=60000)
    assert embeds == [None] and segment._proposal.crop == crop  # the crop's embedding, cached
    assert len(_crop_keys(segment)) == 1
    qtbot.keyClick(window.canvas, Qt.Key.Key_Escape)  # the object is dropped: so is its crop
    assert _crop_keys(segment) == [] and segment._segmenter.is_embedded(segment._key)


def test_a_large_box_gets_no_crop(qtbot, big_window, sam_folder) -> None:
    window, messages = big_window, []
    segment = _embedded(qtbot, window, sam_folder, messages)
    drag(window.canvas, [(100, 100), (200, 200), (400, 300)])  # 300 px of 640: 30 feature cells
    qtbot.waitUntil(lambda: segment._proposal is not None and not segment.pending, timeout=60000)
    assert segment._proposal.crop is None and _crop_keys(segment) == []
    assert not any("crop" in m for m in messages)


def test_the_status_bar_says_how_long_embedding_usually_takes_here(qtbot, big_window, sam_folder, settings) -> None:
    window, messages = big_window, []
    window.assist_features.tools.segment._ahead_pool = None  # the next image is embedded on screen, not ahead
    segment = _embedded(qtbot, window, sam_folder, messages)
    assert any("the first one here takes longest" in m for m in messages)
    key = f"assist/embed_seconds/{segment._segmenter.model_id}"
    measured = [float(v) for v in settings.get_str(key).split(",")]
    assert len(measured) == 1 and measured[0] > 0  # in the user's settings, not the project
    usual = segment.embed_times().phrase()
    assert usual.startswith("usually ")
    del messages[:]
    assert window.go(+1)
    qtbot.waitUntil(lambda: segment.hover_preview.ready, timeout=60000)
    assert any(f"embedding img2.jpg ({usual})" in m for m in messages), messages


def test_the_folders_preparation_names_each_image_and_counts_its_times(qtbot, window, sam_folder, settings) -> None:
    shown = []
    segment = window.assist_features.tools.segment
    segment.use_model(sam_folder)
    prepare = window.assist_features.prepare
    show = prepare.host.show_status
    prepare.host = replace(prepare.host, show_status=lambda text, ms: shown.append(text) or show(text, ms))
    window.actions["segment_prepare"].trigger()
    qtbot.waitUntil(lambda: prepare.folder.progress.finished, timeout=120000)
    assert any(m.startswith("Preparing click to segment 0/3: embedding img1.jpg (") for m in shown), shown
    assert any(m.startswith("Preparing click to segment 2/3: embedding img3.jpg (") for m in shown), shown
    measured = settings.get_str(f"assist/embed_seconds/{segment._segmenter.model_id}").split(",")
    assert len(measured) == 3 and all(float(v) > 0 for v in measured)  # each image computed, timed


class _SmallMask:
    """A whole-image proposal whose best mask is a 20×16 px object around the prompt (a model that
    found a small object; random weights draw noise of any size)."""

    def __init__(self, shape, x: float, y: float) -> None:
        self.scores = np.array([0.9, 0.5], np.float32)
        self.crop = None
        self._mask = np.zeros(shape, bool)
        self._mask[max(0, int(y) - 8):int(y) + 8, max(0, int(x) - 10):int(x) + 10] = True

    def __len__(self) -> int:
        return 2

    def mask(self, index: int) -> np.ndarray:
        return self._mask if index == 0 else ~self._mask


def test_a_click_on_a_small_object_looks_closer_but_hover_decodes_stay_on_the_whole_image(
        qtbot, big_window, sam_folder) -> None:
    from gui_helpers import move

    from segstudio.model.sam.segmenter import CropKey

    window, messages = big_window, []
    segment = _embedded(qtbot, window, sam_folder, messages)
    segmenter, crops = segment._segmenter, []
    real_predict, real_embed_crop = segmenter.predict, segmenter.embed_crop
    segmenter.predict = lambda key, points=(), labels=(), box=None: (
        real_predict(key, points, labels, box) if isinstance(key, CropKey)
        else _SmallMask((480, 640), *points[-1]))
    segmenter.embed_crop = lambda *args, **kw: crops.append(args[2]) or real_embed_crop(*args, **kw)
    move(window.canvas, 600, 40, pressed=False)  # resting on the small object: a whole-image decode
    qtbot.waitUntil(lambda: segment.hover_preview.shown is not None, timeout=20000)
    assert crops == [] and segment._proposal is None  # the preview never embeds a crop
    press(window.canvas, 600, 40)
    release(window.canvas, 600, 40)  # takes the preview at once, then looks closer
    assert window.assist_features.tools.has_proposal
    qtbot.waitUntil(lambda: segment._proposal.crop is not None and not segment.pending, timeout=60000)
    crop = segment._proposal.crop
    assert crops == [crop] and (crop.x1, crop.y0) == (640, 0)  # the corner object's crop, moved inside
    assert (crop.width, crop.height) == (256, 256)
    outside = np.ones((480, 640), bool)
    outside[crop.slices] = False
    assert not (window.assist_features.tools.proposal() & outside).any()
    press(window.canvas, 50, 400)  # far off the crop: the whole image answers (the object is no longer small)
    release(window.canvas, 50, 400)
    qtbot.waitUntil(lambda: not segment.pending and segment._proposal.crop is None, timeout=60000)
    assert crops == [crop] and not segment._closer
