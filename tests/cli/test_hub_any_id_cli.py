"""Any SegFormer hub id on the command line (issue 28), against the loopback hub: ``predict`` fetches it
on first use (what it is and its licence first), then ``predict``, ``train``, ``model-info`` and
``fetch-model`` use the cache offline; the run's notes say where the preprocessing came from."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "model"))
import hub_server  # noqa: E402
from test_hub_any_id import FACES, make_repo  # noqa: E402
from train_synth import make_project  # noqa: E402

from segstudio.cli.main import main  # noqa: E402

pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    return make_repo(tmp_path_factory.mktemp("faces"), labels=4)


@pytest.fixture
def served(repo, tmp_path, monkeypatch):
    home = tmp_path / "hf-home"
    with hub_server.serving(monkeypatch, home, {FACES: repo}) as server:
        yield server, home


def test_hub_any_id_cli_predicts_on_first_use_then_predicts_and_trains_offline(served, tmp_path, capsys,
                                                                                monkeypatch) -> None:
    server, home = served
    image_dir, save_dir = make_project(tmp_path / "project", count=4)
    assert main(["predict", FACES, str(image_dir), str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert (f"{FACES}: SegFormer segmenter, 4 classes (hidden sizes 16-128); licence: cc-by-nc-4.0" in err)
    assert err.index("licence: cc-by-nc-4.0") < err.index("100%")
    assert ("note: size 256 px, mean [0.5, 0.5, 0.5], std [0.5, 0.5, 0.5] from its preprocessor_config.json"
            in err)
    assert len(list((tmp_path / "out").glob("*.png"))) == 4
    snapshot = home / "hub" / "models--someone--segformer-b0-finetuned-faces" / "snapshots"
    assert len(list(snapshot.iterdir())) == 1

    server.stop()
    hub_server.point_hub_at(monkeypatch, home, server.endpoint, offline=True)
    assert main(["predict", FACES, str(image_dir), str(tmp_path / "out2"), "--scale", "native"]) == 0
    err = capsys.readouterr().err
    assert "preprocessor_config.json; mode, tile and scale as typed" in err and "licence" not in err
    assert main(["model-info", FACES]) == 0
    out = capsys.readouterr().out
    assert "image size:     256" in out and "preprocessing:  size 256 px, mean [0.5, 0.5, 0.5]" in out
    assert main(["fetch-model", FACES]) == 0
    assert "already in the cache" in capsys.readouterr().err
    status = main(["train", str(save_dir), "--images", str(image_dir), "--model", FACES, "--steps", "1",
                   "--size", "64", "--batch", "2", "--workers", "0", "--json", "--out", "faces"])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert status == 0 and result["status"] == "finished", result
    assert any("this run normalises with ImageNet's" in note for note in result["notes"])
    saved = json.loads((save_dir / "models" / "faces" / "config.json").read_text())
    assert saved["mean"] == [0.485, 0.456, 0.406]


def test_hub_any_id_cli_not_a_segformer_is_one_line(served, capsys) -> None:
    server, home = served
    files = dict(server.repos[FACES].files)
    files["config.json"] = json.dumps({"model_type": "bert", "architectures": ["BertModel"]}).encode()
    server.repos["someone/bert"] = hub_server.Repo(files)
    for argv in (["fetch-model", "someone/bert"], ["model-info", "someone/bert"]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert err == (f"segstudio-cli {argv[0]}: error: someone/bert is a bert model (BertModel), not a "
                       "SegFormer: segstudio loads SegFormer segmenters and MiT encoders only\n")
    assert not (home / "hub" / "models--someone--bert").exists()


def test_hub_any_id_cli_offline_and_not_cached_is_one_line(served, tmp_path, capsys, monkeypatch) -> None:
    _, home = served
    hub_server.point_hub_at(monkeypatch, home, offline=True)
    image_dir, _ = make_project(tmp_path / "project", count=1)
    assert main(["predict", FACES, str(image_dir), str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{FACES} is not in the Hugging Face cache" in err and "HF_HUB_OFFLINE" in err
    assert not (tmp_path / "out").exists()


def test_hub_any_id_cli_segment_anything_is_fetched_for_click_to_segment_but_never_predicts(served, tmp_path,
                                                                                            capsys) -> None:
    """fetch-model keeps fetching SAM models (the window's click to segment reads them from the
    cache); predict refuses one from its config.json before any weights come."""
    server, home = served
    files = dict(server.repos[FACES].files)
    files["config.json"] = json.dumps({"model_type": "sam2", "architectures": ["Sam2Model"]}).encode()
    server.repos["someone/sam-tiny"] = hub_server.Repo(files)
    image_dir, _ = make_project(tmp_path / "project", count=1)
    assert main(["predict", "someone/sam-tiny", str(image_dir), str(tmp_path / "out")]) == 1
    assert "someone/sam-tiny is a sam2 model (Sam2Model), not a SegFormer" in capsys.readouterr().err
    assert not [p for _, p, _ in server.log if p.startswith("/blobs/")]
    assert main(["fetch-model", "someone/sam-tiny"]) == 0
    out, err = capsys.readouterr()
    assert "someone/sam-tiny: Segment Anything model (sam2) for click to segment" in err
    assert (Path(out.strip()) / "model.safetensors").is_file()


def test_hub_any_id_cli_list_shows_other_cached_models(served, capsys, monkeypatch) -> None:
    """A model fetched by its hub id is listed under the catalogue, with what it is; a cached
    repository that is not a usable model is said so, a link planted as a repository ignored."""
    server, home = served
    assert main(["fetch-model", FACES]) == 0
    capsys.readouterr()
    cache = home / "hub"
    broken = cache / "models--someone--not-a-model" / "snapshots" / ("a" * 40)
    broken.mkdir(parents=True)
    (broken / "model.safetensors").write_bytes(b"x" * 10)
    (broken / "config.json").write_text(json.dumps({"model_type": "bert"}))
    (cache / "models--someone--elsewhere").symlink_to(home.parent)
    server.stop()
    hub_server.point_hub_at(monkeypatch, home, server.endpoint, offline=True)
    assert main(["fetch-model", "--list"]) == 0
    out = capsys.readouterr().out
    others = out.split("also in the cache (use them by hub id):")[1].strip().splitlines()
    assert len(others) == 2, out
    assert others[0].startswith("someone/not-a-model")
    assert "(not usable: someone/not-a-model is a bert model" in others[0]
    assert others[1].startswith(FACES) and "SegFormer segmenter, 4 classes" in others[1]
