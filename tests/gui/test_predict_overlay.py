"""The prediction overlay: background prediction of the shown image, view modes, accept (undoable),
predict-all into the cache and the uncertainty order of the file list."""

from __future__ import annotations

import numpy as np
import pytest
from model_fixtures import save_constant_model

from segstudio.application.review.prediction_cache import uncertainty_order
from segstudio.application.review.review_rules import AcceptMode, accepted_label, class_error_map
from segstudio.core.class_mapping import class_lut
from segstudio.core.overlay import MISSED_RGBA, WRONG_RGBA
from segstudio.gui.canvas.predict_layer import ViewMode
from segstudio.gui.docks import models_dock

CLASSES = ["background", "cat", "dog", "tree"]  # as in conftest.py


@pytest.fixture
def predicted(qtbot, window, project_dir):
    """The window with a constant model ("dog" everywhere) active and its prediction shown."""
    folder = save_constant_model(project_dir / "models" / "dogs", CLASSES, winner=2)
    features = window.model_features
    features.models_dock.refresh()
    features.models_dock.set_active(folder)
    qtbot.waitUntil(lambda: features.prediction.available, timeout=20000)
    return window


def test_prediction_layer_and_view_modes(qtbot, predicted):
    f = predicted.model_features
    layer, mask_layer = f.prediction.layer, predicted.mask_layer
    assert (f.prediction.labels == 2).all()
    assert layer in predicted.canvas.layers and layer.visible and mask_layer.visible  # "both"
    modes = []
    for _ in range(4):
        predicted.actions["prediction_view"].trigger()  # V
        modes.append(f.prediction.mode)
        assert f.review_dock.mode_box.currentText() == f.prediction.mode.value
    assert modes == [ViewMode.ERRORS, ViewMode.MASK, ViewMode.PREDICTION, ViewMode.BOTH]
    f.set_view(ViewMode.PREDICTION)
    assert layer.visible and not mask_layer.visible
    f.set_view(ViewMode.MASK)
    assert not layer.visible and mask_layer.visible
    f.set_view(ViewMode.BOTH)
    predicted.actions["prediction_toggle"].trigger()  # T hides the prediction only
    assert not layer.visible and mask_layer.visible and not f.review_dock.show_box.isChecked()
    predicted.actions["prediction_toggle"].trigger()
    assert layer.visible
    f.review_dock.opacity.setValue(25)
    assert layer.opacity == pytest.approx(0.25)
    assert f.review_dock.status.text().startswith("dogs: uncertainty")


def test_accept_all_is_one_undo_step(qtbot, predicted):
    document = predicted.session.document
    before = document.label.copy()
    predicted.actions["prediction_accept"].trigger()  # Ctrl+Return, default mode: all classes
    assert (document.label == 2).all()
    predicted.actions["undo"].trigger()
    assert (document.label == before).all()
    predicted.actions["redo"].trigger()
    assert (document.label == 2).all()


def test_the_status_bar_follows_an_accept_and_its_undo(qtbot, predicted):
    """After Ctrl+Z of an accept the status bar no longer says "Prediction accepted"; an accept of
    one class names the class."""
    bar = predicted.statusBar()
    dock = predicted.model_features.review_dock
    dock.accept_mode.setCurrentIndex(list(AcceptMode).index(AcceptMode.CLASS))
    dock.accept_class.setCurrentIndex(1)  # "2: dog"
    dock.accept_button.click()
    assert bar.toolTip().startswith("Prediction accepted (only the class dog)")  # whole (the bar may shorten it)
    assert bar.currentMessage().startswith("Prediction accepted")
    predicted.actions["undo"].trigger()
    assert bar.currentMessage().startswith("Undone") and "accepted" not in bar.currentMessage()
    predicted.actions["redo"].trigger()
    assert bar.currentMessage().startswith("Redone")


def test_a_long_message_stops_before_the_labels_on_the_right(qtbot, window):
    bar, status = window.statusBar(), window.status
    status.labels["class"].setText("traffic sign (temporary)")
    qtbot.waitUntil(lambda: status.labels["class"].x() > 0)
    long = "Stopped after 1:02 at step 4 of 200. Kept in models/x: " + "the model and its state " * 30
    status.show(long + "\nsecond line")
    shown = bar.currentMessage()
    assert "…" in shown and shown.startswith("Stopped after") and shown.endswith("second line")
    assert "\n" not in shown
    assert bar.fontMetrics().horizontalAdvance(shown) < status.labels["class"].x()
    assert bar.toolTip().startswith(long)  # the whole message


def test_accept_only_unlabelled_keeps_painting_and_ignore(qtbot, predicted):
    document = predicted.session.document
    label = document.label.copy()
    label[:10, :10] = 3
    label[-5:, -5:] = 255
    document.set_label(label)
    dock = predicted.model_features.review_dock
    dock.accept_mode.setCurrentIndex(list(AcceptMode).index(AcceptMode.UNLABELLED))
    dock.accept_button.click()
    assert (document.label[:10, :10] == 3).all() and (document.label[-5:, -5:] == 255).all()
    assert (document.label[20:40, 20:40] == 2).all()
    predicted.actions["undo"].trigger()
    assert (document.label == label).all()


def test_error_map_mode_follows_edits_and_class_highlight(qtbot, predicted):
    f = predicted.model_features
    document = predicted.session.document
    label = document.label.copy()
    label[:, :40] = 1  # left half "cat": the dog prediction is wrong there
    document.set_label(label)
    f.set_view(ViewMode.ERRORS)
    buffer = lambda: f.prediction.layer._buffer  # noqa: E731 - native premultiplied BGRA
    qtbot.waitUntil(lambda: buffer()[0, 0, 3] == WRONG_RGBA[3], timeout=3000)
    assert buffer()[0, 60, 3] > 0  # right half: dog predicted on background (wrong too)
    qtbot.waitUntil(lambda: f.review_dock.image_table.rowCount() == 4, timeout=5000)
    dock = f.review_dock
    row = dock.row_of_class(dock.image_table, 1)
    dock.image_table.cellClicked.emit(row, 0)  # click "cat": only cat errors
    assert f.prediction.highlight == 1 and f.prediction.mode is ViewMode.ERRORS
    assert buffer()[0, 0, 3] == WRONG_RGBA[3] and buffer()[0, 60, 3] == 0
    legend = f.prediction.legend
    assert legend.isVisible() and "cat" in legend.text.text() and legend.clear_button.isVisible()
    legend.clear_button.click()  # "Show all classes": the filter is gone, the error map stays
    assert f.prediction.highlight is None and f.prediction.mode is ViewMode.ERRORS
    assert buffer()[0, 60, 3] > 0 and not legend.clear_button.isVisible()
    predicted.actions["prediction_toggle"].trigger()  # T in the error map: the mask, not a bare photo
    assert predicted.mask_layer.visible and not f.prediction.layer.visible and not legend.isVisible()


def test_both_view_outlines_the_prediction(qtbot, predicted):
    f = predicted.model_features
    f.set_view(ViewMode.BOTH)
    shown = f.prediction.layer.label
    assert shown[30, 40] == 0 and shown[0, 40] == 2  # inside: transparent; along the border: dog
    assert predicted.mask_layer.visible and not f.prediction.legend.isVisible()
    f.set_view(ViewMode.PREDICTION)
    assert (f.prediction.layer.label == 2).all()


def test_predict_all_caches_predictions_and_sorts_by_uncertainty(qtbot, predicted, project_dir):
    f = predicted.model_features
    f.predict_all()
    qtbot.waitUntil(lambda: f.review.batch is None, timeout=30000)
    cache = project_dir / ".segstudio" / "predictions" / "dogs"
    assert sorted(p.name for p in cache.glob("*.png")) == ["img1.png", "img2.png", "img3.png"]
    assert not (project_dir / "img2.png").exists()  # user masks untouched
    f.review_dock.sort_box.setChecked(True)
    assert predicted.actions["sort_uncertainty"].isChecked()
    texts = [predicted.file_dock.list.item(i).text() for i in range(3)]
    assert all("(" in t for t in texts)
    assert predicted.file_dock.visible_indices() == [0, 1, 2]  # navigation keeps entry indices


def test_models_dock_delete_and_external_checkpoint(qtbot, predicted, project_dir, tmp_path, monkeypatch, fake_dialogs):
    f = predicted.model_features
    dock = f.models_dock
    external = save_constant_model(tmp_path / "elsewhere", CLASSES, winner=3)
    monkeypatch.setattr(models_dock, "ask_checkpoint", lambda *a: str(external / "model.safetensors"))
    dock.load_checkpoint()
    assert dock.active == external / "model.safetensors"
    qtbot.waitUntil(lambda: f.prediction.available and (f.prediction.labels == 3).all(), timeout=20000)
    dock.select_path(project_dir / "models" / "dogs")
    dock.delete_selected()  # confirmed by the fake dialog
    assert not (project_dir / "models" / "dogs").exists() and external.exists()
    assert [r.path for r in dock.records] == [external / "model.safetensors"]


def test_pure_helpers():
    mask = np.array([[0, 1], [255, 0]], np.uint8)
    pred = np.array([[2, 2], [2, 1]], np.uint8)
    assert accepted_label(mask, pred, AcceptMode.ALL).tolist() == [[2, 2], [255, 1]]
    assert accepted_label(mask, pred, AcceptMode.UNLABELLED).tolist() == [[2, 1], [255, 1]]
    assert accepted_label(mask, pred, AcceptMode.CLASS, 1).tolist() == [[0, 1], [255, 1]]
    errors = class_error_map(np.array([[0, 2]], np.uint8), np.array([[1, 1]], np.uint8), None)
    assert tuple(errors[0, 0]) == MISSED_RGBA and tuple(errors[0, 1]) == WRONG_RGBA
    only_two = class_error_map(np.array([[0, 2]], np.uint8), np.array([[1, 1]], np.uint8), 2)
    assert only_two[0, 0, 3] == 0 and only_two[0, 1, 3] > 0
    lut = class_lut(["background", "Dog", "car"], ["background", "cat", "dog"])
    assert lut[:3].tolist() == [0, 2, 255]  # a class the project lacks: ignore (the CLI's rule too)
    assert class_lut(["bg", "a", "b"], ["background", "a", "renamed"])[:3].tolist() == [0, 1, 255]
    assert class_lut(["bg", "c1", "c2"], ["background", "a", "b"])[:3].tolist() == [0, 1, 2]  # no name matches
    assert uncertainty_order(4, {1: 0.2, 3: 0.7}) == [3, 1, 0, 2]


def test_mapping_a_model_class_onto_another_project_class(qtbot, window, project_dir, monkeypatch):
    """A model predicting "hound" everywhere: unknown to the project until mapped onto "dog"."""
    from segstudio.gui.window import class_alias_dialog

    folder = save_constant_model(project_dir / "models" / "hounds", ["background", "cat", "hound", "tree"], winner=2)
    features = window.model_features
    features.models_dock.refresh()
    features.models_dock.set_active(folder)
    qtbot.waitUntil(lambda: features.prediction.available, timeout=20000)
    assert (features.prediction.labels == 255).all()  # no claim about any project class
    asked = []
    monkeypatch.setattr(class_alias_dialog, "ask_class_aliases",
                        lambda parent, model, project, current: (asked.append(model), {"hound": "dog"})[1])
    window.actions["map_classes"].trigger()
    assert asked == [["background", "cat", "hound", "tree"]]
    qtbot.waitUntil(lambda: features.prediction.available and (features.prediction.labels == 2).all(), timeout=20000)
    assert window.session.project.settings["class_aliases"] == {"hound": "dog"}


def test_the_error_map_follows_strokes_where_they_were_painted(qtbot, predicted):
    """Painted in the error-map view, the map is redrawn only under the settled strokes and ends
    equal to the whole image's map (stripes included), as do the review's metrics."""
    from gui_helpers import drag

    from segstudio.gui.canvas.overlay_layer import rgba_to_native

    f = predicted.model_features
    f.set_view(ViewMode.ERRORS)
    drawn = []
    f.prediction.layer.on_changed = lambda rect, real=f.prediction.layer.on_changed: (drawn.append(rect), real(rect))
    predicted.select_class(2)  # dog, as predicted: magenta ("a class on background") turns green
    predicted.tools.set_brush_size(5)
    for y in (10, 25, 40):
        drag(predicted.canvas, [(5, y), (30, y + 5), (60, y)])
    document = predicted.session.document
    whole = rgba_to_native(class_error_map(f.prediction.labels, document.label, None))
    qtbot.waitUntil(lambda: np.array_equal(f.prediction.layer._buffer, whole), timeout=5000)
    assert drawn and all(rect is not None and rect.w * rect.h < document.width * document.height for rect in drawn)
    qtbot.waitUntil(lambda: f.review_dock.image_summary.text().startswith("mIoU"), timeout=5000)
