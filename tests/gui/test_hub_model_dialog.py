"""The Models dock's "Add from the Hub…": any SegFormer by its id, against the loopback hub (issue 28)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "model"))
import hub_server  # noqa: E402
from test_hub_any_id import FACES, make_repo  # noqa: E402

transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    return make_repo(tmp_path_factory.mktemp("faces"))


@pytest.fixture
def served(repo, tmp_path, monkeypatch):
    with hub_server.serving(monkeypatch, tmp_path / "hf-home", {FACES: repo}) as server:
        yield server


def _open_dialog(window):
    dock = window.model_features.models_dock
    dock.hub_button.click()
    dialog = dock.hub_dialog
    assert dialog is not None and dialog.isVisible()
    return dock, dialog


def _look_up(qtbot, dialog, text: str) -> None:
    dialog.id_edit.setText(text)
    dialog.look_button.click()
    qtbot.waitUntil(lambda: dialog.look_button.isEnabled(), timeout=30000)


def test_hub_dialog_shows_the_licence_then_downloads_and_makes_it_active(qtbot, served, window) -> None:
    dock, dialog = _open_dialog(window)
    assert not dialog.download_button.isEnabled()
    _look_up(qtbot, dialog, FACES)
    text = dialog.summary.text()
    assert f"{FACES}: SegFormer segmenter, 3 classes" in text and "Licence: cc-by-nc-4.0" in text
    assert dialog.accept_box.isVisibleTo(dialog) and not dialog.download_button.isEnabled()
    assert not [p for _, p, _ in served.log if p.startswith("/blobs/")]          # no weights yet
    dialog.accept_box.setChecked(True)
    assert dialog.download_button.isEnabled()
    dialog.download_button.click()
    qtbot.waitUntil(lambda: dock.active is not None, timeout=30000)
    assert dock.active.parent.parent.name == "models--someone--segformer-b0-finetuned-faces"
    assert "now the active model" in dialog.summary.text()
    names = [dock.tree.topLevelItem(i).text(0) for i in range(dock.tree.topLevelItemCount())]
    assert f"● {FACES}" in names
    dialog.close()


def test_hub_dialog_refuses_a_repository_that_is_not_a_segformer_in_one_line(qtbot, served, window) -> None:
    files = dict(served.repos[FACES].files)
    files["config.json"] = json.dumps({"model_type": "whisper", "architectures": ["WhisperModel"]}).encode()
    served.repos["someone/whisper"] = hub_server.Repo(files)
    _, dialog = _open_dialog(window)
    _look_up(qtbot, dialog, "someone/whisper")
    assert dialog.summary.text() == ("someone/whisper is a whisper model (WhisperModel), not a SegFormer: "
                                     "segstudio loads SegFormer segmenters and MiT encoders only")
    assert not dialog.download_button.isEnabled() and not dialog.accept_box.isVisibleTo(dialog)
    _look_up(qtbot, dialog, "not an id")
    assert "is neither a catalogue model nor a hub id" in dialog.summary.text()
    dialog.close()


def test_hub_dialog_encoder_is_offered_to_the_training_form(qtbot, served, window, tmp_path) -> None:
    encoder = tmp_path / "encoder"
    config = transformers.SegformerConfig(hidden_sizes=[16, 32, 64, 128], depths=[1, 1, 1, 1],
                                          num_attention_heads=[1, 2, 2, 4], num_labels=10)
    transformers.SegformerForImageClassification(config).save_pretrained(encoder)
    (encoder / "README.md").write_text("---\nlicense: mit\n---\n")
    served.add_folder("someone/mit-tiny", encoder)
    dock, dialog = _open_dialog(window)
    _look_up(qtbot, dialog, "someone/mit-tiny")
    assert "SegFormer (MiT) encoder" in dialog.summary.text() and "Licence: mit" in dialog.summary.text()
    assert not dialog.accept_box.isVisibleTo(dialog) and dialog.download_button.isEnabled()   # permissive
    dialog.download_button.click()
    train_dock = window.model_features.train_dock
    qtbot.waitUntil(lambda: train_dock.model_source() == "someone/mit-tiny", timeout=30000)
    assert dock.active is None
    _look_up(qtbot, dialog, "someone/mit-tiny")                    # now cached: offered as it is
    assert "already in the Hugging Face cache" in dialog.summary.text()
    assert dialog.download_button.text() == "Use it"
    dialog.close()
