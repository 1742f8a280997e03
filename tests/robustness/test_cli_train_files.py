"""``segstudio-cli train``: an existing model is never replaced, a failed resume changes nothing,
a resume continues the run as recorded, bad settings and unreadable images are one line each."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

from segstudio.cli.main import main

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "model"))
from cli_helpers import checksums, error_line, tiny_model  # noqa: E402
from train_synth import make_project  # noqa: E402


@pytest.fixture
def project(tmp_path):
    image_dir, save_dir = make_project(tmp_path, count=4, size=64)
    init = tiny_model(tmp_path / "init", names=("background", "disc", "square", "triangle"))
    return image_dir, save_dir, init


def train(image_dir, save_dir, init, *extra):
    return main(["train", str(save_dir), "--images", str(image_dir), "--model", str(init), "--size", "64",
                 "--batch", "2", "--workers", "0", "--device", "cpu", *extra])


def test_existing_model_gets_a_fresh_name(project, capsys):
    image_dir, save_dir, init = project
    old = save_dir / "models" / "m"
    old.mkdir(parents=True)
    (old / "model.safetensors").write_bytes(b"the 0.96 model")
    (old / "config.json").write_text("{}")
    before = checksums(old, image_dir)
    assert train(image_dir, save_dir, init, "--steps", "1", "--out", "m") == 0
    err = capsys.readouterr().err
    assert "m-2" in err and "kept" in err
    assert checksums(old, image_dir) == before
    assert (save_dir / "models" / "m-2" / "model.safetensors").is_file()


def test_overwrite_replaces_by_choice(project, capsys):
    image_dir, save_dir, init = project
    old = save_dir / "models" / "m"
    old.mkdir(parents=True)
    (old / "model.safetensors").write_bytes(b"old")
    assert train(image_dir, save_dir, init, "--steps", "1", "--out", "m", "--overwrite") == 0
    assert (old / "model.safetensors").read_bytes() != b"old"
    assert not (save_dir / "models" / "m-2").exists()


@pytest.fixture
def stopped(project):
    """A 6-step run at 64 px stopped after 2 steps (resumable), through the engine."""
    from segstudio.core.project import Project
    from segstudio.model.training.train import TrainConfig
    from segstudio.model.training.train import train as engine
    image_dir, save_dir, init = project
    calls = []
    result = engine(Project(image_dir, save_dir), TrainConfig(init=str(init), steps=6, size=64, batch=2,
                                                              device="cpu", name="run", loss="ce+dice"),
                    should_stop=lambda: calls.append(1) or len(calls) > 2)
    assert result.status == "stopped"
    return image_dir, save_dir, init, save_dir / "models" / "run"


def test_resume_continues_the_recorded_run(stopped, capsys):
    image_dir, save_dir, _init, folder = stopped
    status = main(["train", str(save_dir), "--images", str(image_dir), "--resume", "--out", "run",
                   "--workers", "0", "--device", "cpu", "--json", "--keep-state"])
    out = capsys.readouterr().out.splitlines()
    result = json.loads(out[-1])
    assert status == 0 and result["status"] == "finished", result
    assert "finished 6 steps" in result["message"]
    assert json.loads((folder / "config.json").read_text())["image_size"] == 64
    state = torch.load(folder / "training_state.pt", weights_only=True)
    assert state["step"] == 6 and state["options"]["loss"] == "ce+dice" and state["options"]["size"] == 64


@pytest.mark.parametrize("option, named", [
    (["--size", "128"], "--size 128"), (["--steps", "2000"], "--steps 2000"), (["--epochs", "3"], "--epochs"),
    (["--batch", "4"], "--batch 4"), (["--loss", "ce"], "--loss ce"), (["--lr", "0.1"], "--lr"),
    (["--no-augment"], "--no-augment"), (["--model", "b0"], "--model b0"),
])
def test_resume_refuses_a_different_option_and_changes_nothing(stopped, capsys, option, named):
    image_dir, save_dir, _init, folder = stopped
    before = checksums(save_dir, image_dir)
    status = main(["train", str(save_dir), "--images", str(image_dir), "--resume", "--out", "run",
                   "--workers", "0", *option])
    assert status == 1
    assert named in error_line(capsys.readouterr().err)
    assert checksums(save_dir, image_dir) == before


def test_resume_with_same_options_and_other_device_is_fine(stopped, capsys):
    image_dir, save_dir, init, _folder = stopped
    assert train(image_dir, save_dir, init, "--resume", "--out", "run", "--steps", "6") == 0


def test_failed_resume_leaves_every_file(stopped, capsys):
    image_dir, save_dir, _init, folder = stopped
    state = torch.load(folder / "training_state.pt", weights_only=True)
    state["model"] = {k: v for k, v in list(state["model"].items())[:-3]}  # does not fit the model
    torch.save(state, folder / "training_state.pt")
    before = checksums(save_dir, image_dir)
    status = main(["train", str(save_dir), "--images", str(image_dir), "--resume", "--out", "run",
                   "--workers", "0", "--device", "cpu"])
    line = error_line(capsys.readouterr().err)
    assert status == 1 and "cannot resume" in line and len(line) < 600
    assert checksums(save_dir, image_dir) == before
    (folder / "training_state.pt").write_bytes(b"garbage")
    before = checksums(save_dir, image_dir)
    assert main(["train", str(save_dir), "--images", str(image_dir), "--resume", "--out", "run"]) == 1
    assert "training_state.pt" in error_line(capsys.readouterr().err)
    assert checksums(save_dir, image_dir) == before


def test_resume_with_changed_classes_is_refused(stopped, capsys):
    """classes.txt reordered after the run began. With the list the masks were written with on
    record (.segstudio/project.json), the masks keep that meaning and so does the run; without a
    record, the resume cannot know and refuses."""
    image_dir, save_dir, _init, _folder = stopped
    (save_dir / "classes.txt").write_text("background\nsquare\ndisc\ntriangle\n")
    (save_dir / ".segstudio" / "project.json").unlink()
    before = checksums(save_dir)
    assert main(["train", str(save_dir), "--images", str(image_dir), "--resume", "--out", "run"]) == 1
    assert "classes" in error_line(capsys.readouterr().err)
    assert checksums(save_dir) == before


@pytest.mark.parametrize("option, named", [
    (["--steps", "0"], "steps"), (["--epochs", "-2"], "epochs"), (["--size", "-32"], "size"),
    (["--size", "100000"], "size"), (["--batch", "0"], "batch"), (["--grad-clip", "-1"], "clipping"),
    (["--lr", "nan"], "learning rate"), (["--workers", "-1"], "workers"),
])
def test_absurd_settings_are_one_line(project, capsys, option, named):
    image_dir, save_dir, init = project
    before = checksums(save_dir)
    assert main(["train", str(save_dir), "--images", str(image_dir), "--model", str(init), *option]) == 1
    assert named in error_line(capsys.readouterr().err)
    assert checksums(save_dir) == before and not (save_dir / "models").exists()


def test_cuda_without_gpu_is_one_line(project, capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    image_dir, save_dir, init = project
    assert main(["train", str(save_dir), "--images", str(image_dir), "--device", "cuda"]) == 1
    assert "cuda" in error_line(capsys.readouterr().err).lower()


def test_unreadable_image_is_skipped_and_named(project, capsys):
    image_dir, save_dir, init = project
    (image_dir / "img_001.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    before = checksums(image_dir)
    assert train(image_dir, save_dir, init, "--steps", "1", "--out", "m") == 1
    err = capsys.readouterr().err
    assert "skipped img_001.png" in err and "Traceback" not in err and "finished" in err
    assert (save_dir / "models" / "m" / "model.safetensors").is_file()
    assert checksums(image_dir) == before


def test_bad_init_checkpoint_is_one_line(project, tmp_path, capsys):
    image_dir, save_dir, _init = project
    (tmp_path / "bad.safetensors").write_bytes(b"junk" * 10)
    before = checksums(save_dir, image_dir)
    assert train(image_dir, save_dir, tmp_path / "bad.safetensors", "--steps", "1") == 1
    assert "bad.safetensors" in error_line(capsys.readouterr().err)
    assert checksums(save_dir, image_dir) == before and not (save_dir / "models").exists()


def test_resume_of_a_state_saved_before_options_were_recorded(stopped, capsys):
    image_dir, save_dir, _init, folder = stopped
    state = torch.load(folder / "training_state.pt", weights_only=True)
    del state["options"]
    torch.save(state, folder / "training_state.pt")
    status = main(["train", str(save_dir), "--images", str(image_dir), "--resume", "--out", "run",
                   "--workers", "0", "--device", "cpu", "--batch", "2", "--loss", "ce+dice",
                   "--model", str(_init)])
    err = capsys.readouterr().err
    assert status == 0 and "before runs recorded their options" in err and "finished 6 steps" in err, err
    assert json.loads((folder / "config.json").read_text())["image_size"] == 64
