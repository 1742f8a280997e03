"""Where a MODEL name leads, and where a training run starts when none is given."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
import hub_server  # noqa: E402
from train_synth import make_project  # noqa: E402

from segstudio.cli.main import main  # noqa: E402
from segstudio.model.training.types import TrainConfig  # noqa: E402
from segstudio.model.weights import catalogue, hub  # noqa: E402
from segstudio.model.weights.model_source import local_source, training_start  # noqa: E402

transformers = pytest.importorskip("transformers")

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An offline machine with an empty Hugging Face cache."""
    yield from hub_server.offline_home(monkeypatch, tmp_path / "hf-home")


def _cache_mit_b0(tmp_path: Path) -> None:
    """nvidia/mit-b0 in the cache, as `fetch-model mit-b0 --from FILE` puts it (random weights)."""
    torch.manual_seed(0)
    folder = tmp_path / "mit-b0"
    transformers.SegformerForImageClassification(transformers.SegformerConfig(num_labels=1000)).save_pretrained(folder)
    hub.import_file("mit-b0", folder)


def test_variants_stay_variants_and_names_resolve(home, tmp_path) -> None:
    assert local_source("B0") == "b0"
    assert local_source(tmp_path) == str(tmp_path)
    with pytest.raises(hub.NotCached):
        local_source("mit-b0", download=False)


def test_auto_starts_from_scratch_until_the_encoder_is_cached(home, tmp_path) -> None:
    init, note = training_start("auto")
    assert init == "b0" and "fetch-model mit-b0" in note
    _cache_mit_b0(tmp_path)
    init, note = training_start("auto")
    assert init == "mit-b0" and "nvidia/mit-b0" in note
    assert not TrainConfig(init="mit-b0").is_scratch() and TrainConfig(init="b0").is_scratch()
    assert training_start("b2") == ("b2", None)


def test_cli_names_a_model_that_is_not_downloaded_in_one_line(home, capsys) -> None:
    assert main(["model-info", "b0-ade"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "fetch-model" in err[0] and "segformer-b0-finetuned-ade" in err[0]


def test_training_with_auto_uses_the_cached_encoder_and_records_it(home, tmp_path) -> None:
    from segstudio.core.project import Project
    from segstudio.model.training.train import train

    _cache_mit_b0(tmp_path)
    project = Project(*make_project(tmp_path / "p", count=4, size=64))
    config = TrainConfig(init="auto", epochs=1, size=64, batch=2, device="cpu", num_workers=0)
    result = train(project, config)
    assert any("nvidia/mit-b0" in note for note in result.notes), result.notes


def test_cli_train_without_model_fetches_the_encoder_once_when_it_can(tmp_path, monkeypatch, capsys) -> None:
    """Online (a loopback hub): the B0 encoder is downloaded with a bar and the run starts from it."""
    monkeypatch.setattr(catalogue, "_load_default", lambda: catalogue.load(REPO / "resources" / "catalogue.json"))
    torch.manual_seed(0)
    encoder = tmp_path / "mit"
    transformers.SegformerForImageClassification(transformers.SegformerConfig(num_labels=1000)).save_pretrained(encoder)
    server = hub_server.LoopbackHub()
    server.add_folder("nvidia/mit-b0", encoder)
    hub_server.point_hub_at(monkeypatch, tmp_path / "hf-home", server.endpoint)
    try:
        image_dir, save_dir = make_project(tmp_path / "p", count=4, size=64)
        status = main(["train", str(save_dir), "--images", str(image_dir), "--steps", "2", "--size", "64",
                       "--batch", "2", "--device", "cpu", "--workers", "0", "--json"])
    finally:
        server.stop()
        hub_server.restore_hub(monkeypatch)
    captured = capsys.readouterr()
    result = json.loads(captured.out.splitlines()[-1])
    assert status == 0 and any("nvidia/mit-b0" in note for note in result["notes"]), result
