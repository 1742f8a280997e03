"""Resolving a MODEL name: path, project model, the Hugging Face cache (no network), offline."""

from __future__ import annotations

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
    """HF_HOME in tmp_path, offline, no endpoint: nothing can be downloaded."""
    yield from hub_server.offline_home(monkeypatch, tmp_path / "hf-home")


def _hf_model(randomised, labels: int = 4):
    torch.manual_seed(0)
    config = transformers.SegformerConfig(hidden_sizes=[16, 32, 48, 64], depths=[1, 1, 1, 1],
                                          num_attention_heads=[1, 2, 3, 4], decoder_hidden_size=32,
                                          num_labels=labels)
    config.id2label = {i: f"thing {i}" for i in range(labels)}
    config.label2id = {v: k for k, v in config.id2label.items()}
    return randomised(transformers.SegformerForSemanticSegmentation(config)).eval()


def test_hub_model_put_in_the_cache_by_huggingface_hub_is_found_offline_and_predicts_alike(
        home, tmp_path, monkeypatch, randomised) -> None:
    """huggingface_hub itself downloads the model (from the loopback hub); then, with no server
    at all, resolve finds it and our SegFormer gives transformers' logits."""
    hf = _hf_model(randomised)
    hf.save_pretrained(tmp_path / "made")
    server = hub_server.LoopbackHub()
    server.add_folder("someone/segformer-tiny", tmp_path / "made")
    hub_server.point_hub_at(monkeypatch, home, server.endpoint)
    from huggingface_hub import hf_hub_download
    for name in ("config.json", "model.safetensors"):
        hf_hub_download("someone/segformer-tiny", name)
    server.stop()
    count = len(server.log)

    found = hub.resolve("someone/segformer-tiny")          # online mode, but the server is gone
    assert found.source == "cache" and found.entry is None and len(server.log) == count
    hub_server.point_hub_at(monkeypatch, home, offline=True)
    assert hub.resolve("someone/segformer-tiny").path == found.path
    ours, info = load_model(found.path)
    assert info.class_names == [f"thing {i}" for i in range(4)]
    for size in ((64, 64), (96, 160)):
        x = torch.randn(1, 3, *size)
        with torch.inference_mode():
            expected = hf(pixel_values=x).logits
            got = ours.eval()(x)
        assert expected.abs().max() > 0.5 and (got - expected).abs().max() <= 1e-4


def test_hub_offline_and_not_cached_is_one_line_saying_how_to_fetch_elsewhere(home) -> None:
    with pytest.raises(hub.NotCached) as caught:
        hub.resolve("mit-b0")
    message = str(caught.value)
    assert "\n" not in message and caught.value.hub_id == "nvidia/mit-b0"
    assert "nvidia/mit-b0 is not in the Hugging Face cache" in message and str(home) in message
    assert "segstudio-cli fetch-model nvidia/mit-b0" in message and "--from FILE" in message


def test_hub_download_false_asks_first(home, monkeypatch) -> None:
    hub_server.point_hub_at(monkeypatch, home, "http://127.0.0.1:9")   # online, nothing listens
    with pytest.raises(hub.NotCached, match=r"nvidia/mit-b1 \(54.7 MB\) is not downloaded yet: "
                                            "segstudio-cli fetch-model mit-b1"):
        hub.resolve("mit-b1", download=False)


def test_hub_an_existing_path_and_the_project_model_come_first(home, tmp_path) -> None:
    local = tmp_path / "b0-ade"
    local.mkdir()
    assert hub.resolve(str(local)) == hub.Resolved(local, "path")
    project = tmp_path / "project"
    (project / "models" / "mit-b0").mkdir(parents=True)
    found = hub.resolve("mit-b0", save_dir=project)
    assert found == hub.Resolved(project / "models" / "mit-b0", "project")
    # a name with a separator is never looked up inside the models folder
    (project / "models" / "nested").mkdir()
    with pytest.raises(CheckpointError):
        hub.resolve("../models/nested", save_dir=project / "models")


def test_hub_unknown_names_fail_clearly_in_one_line(home, monkeypatch) -> None:
    """A name that cannot be a hub id never reaches the network; an ``owner/name`` that is neither
    a path nor cached is asked of the hub (as from_pretrained would), and its answer is the line."""
    server = hub_server.LoopbackHub()
    try:
        hub_server.point_hub_at(monkeypatch, home, server.endpoint)
        with pytest.raises(CheckpointError, match="not found: it is not a file or folder, nor a "
                                                  "catalogue name"):
            hub.resolve("no-such-model.safetensors")
        with pytest.raises(CheckpointError, match="no model given"):
            hub.resolve("  ")
        with pytest.raises(CheckpointError, match=r"nor a valid hub id \(revision '\.\.' is not"):
            hub.resolve("someone/model@..")
        assert server.log == []
        with pytest.raises(CheckpointError) as caught:
            hub.resolve("runs/best", save_dir=home)
        assert str(caught.value) == (
            f"model runs/best not found: it is not a file or folder, nor a model in {home / 'models'}, nor "
            f"in the Hugging Face cache, and runs/best was not found on {server.endpoint} (or it is "
            "private and no valid token is set: hf auth login, or HF_TOKEN)")
        assert [method for method, _, _ in server.log] == ["HEAD"]      # config.json, nothing else
        assert not (home / "hub").exists() or not any((home / "hub").iterdir())
    finally:
        server.stop()


def test_hub_cached_revision_other_than_main_is_found(home, tmp_path, randomised) -> None:
    """transformers may fetch safetensors from a refs/pr/N branch: any cached commit counts."""
    hf = _hf_model(randomised)
    folder = home / "hub" / "models--someone--pr-only"
    snapshot = folder / "snapshots" / ("ab" * 20)
    hf.save_pretrained(snapshot)
    (folder / "refs" / "refs" / "pr").mkdir(parents=True)
    (folder / "refs" / "refs" / "pr" / "1").write_text("ab" * 20)
    found = hub.resolve("someone/pr-only")
    assert found.path == snapshot and found.source == "cache"
