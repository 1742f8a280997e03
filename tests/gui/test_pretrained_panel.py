"""The public checkpoints in the models dock: download with the licence first, then use or train from it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "model"))
import hub_server  # noqa: E402

from segstudio.gui.window import dialogs  # noqa: E402
from segstudio.model.weights import catalogue  # noqa: E402

transformers = pytest.importorskip("transformers")
ADE = "nvidia/segformer-b0-finetuned-ade-512-512"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """A loopback hub serving a (random-weight) B0 ADE20K checkpoint, and an empty cache."""
    torch.manual_seed(0)
    folder = tmp_path / "ade"
    config = transformers.SegformerConfig(num_labels=150)
    transformers.SegformerForSemanticSegmentation(config).save_pretrained(folder)
    monkeypatch.setattr(catalogue, "_load_default", lambda: catalogue.load(REPO / "resources" / "catalogue.json"))
    server = hub_server.LoopbackHub()
    server.add_folder(ADE, folder)
    hub_server.point_hub_at(monkeypatch, tmp_path / "hf-home", server.endpoint)
    yield server
    server.stop()
    hub_server.restore_hub(monkeypatch)


def test_download_after_the_licence_then_use_it(qtbot, hub, window, fake_dialogs, monkeypatch) -> None:
    panel = window.model_features.models_dock.pretrained
    panel.refresh()
    panel.select("b0-ade")
    assert panel.selected().entry.id == ADE and not panel.selected().downloaded
    questions = []
    monkeypatch.setattr(dialogs, "confirm", lambda parent, title, text: (questions.append(text), False)[1])
    panel.download_selected()
    assert "NVIDIA" in questions[0] and "non-commercial" in questions[0].lower()
    assert not panel.selected().downloaded  # refused: nothing fetched
    monkeypatch.setattr(dialogs, "confirm", lambda *a: True)
    panel.download_selected()
    qtbot.waitUntil(lambda: panel.selected() is not None and panel.selected().downloaded, timeout=30000)
    panel.use_button.click()
    assert window.model_features.models_dock.active == panel.selected().path


def test_train_from_an_encoder_selects_it_in_the_training_form(qtbot, window, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(catalogue, "_load_default", lambda: catalogue.load(REPO / "resources" / "catalogue.json"))
    gen = hub_server.offline_home(monkeypatch, tmp_path / "hf-home")
    next(gen)
    encoder = tmp_path / "mit"
    transformers.SegformerForImageClassification(transformers.SegformerConfig(num_labels=1000)).save_pretrained(encoder)
    from segstudio.model.weights import hub

    hub.import_file("mit-b0", encoder)
    panel = window.model_features.models_dock.pretrained
    panel.refresh()
    panel.select("mit-b0")
    assert panel.selected().downloaded and not panel.use_button.isEnabled()
    panel.train_button.click()
    assert window.model_features.train_dock.model_source() == "mit-b0"
    next(gen, None)


def test_a_downloaded_model_is_offered_in_the_training_form(qtbot, hub, window, monkeypatch) -> None:
    panel, dock = window.model_features.models_dock.pretrained, window.model_features.train_dock
    assert dock.model_box.findData("b0-ade") < 0
    monkeypatch.setattr(dialogs, "confirm", lambda *a: True)
    panel.refresh()
    panel.select("b0-ade")
    panel.download_selected()
    qtbot.waitUntil(lambda: dock.model_box.findData("b0-ade") >= 0, timeout=30000)
    assert "downloaded" in dock.model_box.itemText(dock.model_box.findData("b0-ade"))
