"""``import_file``: weights fetched on another machine go into the cache and resolve offline."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
import hub_server  # noqa: E402

from segstudio.core.errors import CheckpointError  # noqa: E402
from segstudio.model.weights import hub  # noqa: E402
from segstudio.model.weights.checkpoints import load_model  # noqa: E402

transformers = pytest.importorskip("transformers")

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An offline machine: HF_HOME in tmp_path, downloads off."""
    yield from hub_server.offline_home(monkeypatch, tmp_path / "hf-home")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _save(folder: Path, labels: int, **arch) -> Path:
    torch.manual_seed(0)
    config = transformers.SegformerConfig(num_labels=labels, **arch)
    transformers.SegformerForSemanticSegmentation(config).save_pretrained(folder)
    return folder


TINY = dict(hidden_sizes=[16, 32, 48, 64], depths=[1, 1, 1, 1], num_attention_heads=[1, 2, 3, 4],
            decoder_hidden_size=32)


def test_hub_imported_catalogue_weights_resolve_offline(home, tmp_path) -> None:
    """A b0 with ADE20K's 150 classes, as copied from a connected machine: only the weights file."""
    folder = _save(tmp_path / "fetched", 150)          # transformers' defaults are SegFormer-B0
    weights = tmp_path / "usb" / "model.safetensors"
    weights.parent.mkdir()
    weights.write_bytes((folder / "model.safetensors").read_bytes())
    before = _sha(weights)
    with pytest.raises(hub.NotCached):
        hub.resolve("b0-ade")
    placed = hub.import_file("b0-ade", weights)
    assert placed.source == "import" and placed.hub_id == "nvidia/segformer-b0-finetuned-ade-512-512"
    found = hub.resolve("b0-ade")
    assert found.source == "cache" and found.path == placed.path
    assert (found.path / "model.safetensors").resolve().name == before     # the blob is its sha256
    assert _sha(weights) == before                                           # source untouched
    model, _ = load_model(found.path)
    assert model.config.num_labels == 150
    # importing again changes nothing
    again = hub.import_file("nvidia/segformer-b0-finetuned-ade-512-512", weights)
    assert again.source == "cache" and again.path == placed.path


def test_hub_imported_folder_keeps_its_config(home, tmp_path) -> None:
    folder = _save(tmp_path / "fetched", 3, **TINY)
    placed = hub.import_file("someone/tiny", folder)
    assert (placed.path / "config.json").read_bytes() == (folder / "config.json").read_bytes()
    from huggingface_hub import try_to_load_from_cache
    assert try_to_load_from_cache("someone/tiny", "config.json") == str(placed.path / "config.json")
    assert hub.resolve("someone/tiny").path == placed.path


@pytest.mark.parametrize("name, make, message", [
    ("b0-ade", lambda d: _save(d, 3, **TINY), "is a SegFormer-custom, but .* is a SegFormer-b0"),
    ("b0-ade", lambda d: _save(d, 19), "has 19 classes, but .* segments 150 ADE20K classes"),
    ("mit-b0", lambda d: _save(d, 19), "is a segmentation checkpoint, but nvidia/mit-b0 is an "
                                       "ImageNet encoder"),
    ("b0-ade", lambda d: (d.mkdir(), (d / "model.safetensors").write_bytes(b"<html>login</html>"),
                          d)[-1], "not a model checkpoint|damaged"),
    ("nvidia/segformer-b0-finetuned-ade-512-512/../../x", lambda d: _save(d, 3, **TINY),
     "neither a catalogue model nor a hub id"),
])
def test_hub_import_refuses_a_file_that_is_not_that_model(home, tmp_path, name, make, message
                                                          ) -> None:
    source = make(tmp_path / "wrong")
    sums = {p: _sha(p) for p in source.iterdir()}
    with pytest.raises(CheckpointError, match=message):
        hub.import_file(name, source)
    assert not (home / "hub").exists() or not list((home / "hub").rglob("blobs/*"))
    assert {p: _sha(p) for p in source.iterdir()} == sums


def test_hub_import_of_a_missing_file_is_one_line(home, tmp_path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        hub.import_file("mit-b0", tmp_path / "nowhere.safetensors")
