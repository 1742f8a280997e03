"""A received project's ``models`` (or ``models/NAME``, or a file in it) may be a link to the user's
own models elsewhere: training, live mode and the prediction cache never write through it."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from segstudio.cli.main import main

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "model"))
from cli_helpers import error_line, tiny_model  # noqa: E402
from state_helpers import checksums  # noqa: E402
from train_synth import make_project  # noqa: E402


@pytest.fixture
def project(tmp_path):
    image_dir, save_dir = make_project(tmp_path / "p", count=3, size=64)
    init = tiny_model(tmp_path / "init", names=("background", "disc", "square", "triangle"))
    precious = tiny_model(tmp_path / "elsewhere" / "best", names=("background", "disc", "square", "triangle"))
    (precious / "history.json").write_text('{"epochs": [], "best_miou": 0.96}')
    return image_dir, save_dir, init, precious


def plant(save_dir: Path, precious: Path, layout: str) -> None:
    """``models`` -> the folder holding ``best``, or ``models/best`` -> ``best`` itself."""
    if layout == "models":
        (save_dir / "models").symlink_to(precious.parent, target_is_directory=True)
    else:
        (save_dir / "models").mkdir()
        (save_dir / "models" / "best").symlink_to(precious, target_is_directory=True)


def train(image_dir, save_dir, init, *extra):
    return main(["train", str(save_dir), "--images", str(image_dir), "--model", str(init), "--size", "64",
                 "--batch", "2", "--workers", "0", "--device", "cpu", "--steps", "1", "--out", "best", *extra])


@pytest.mark.parametrize("layout, extra", [
    ("models", []), ("models", ["--overwrite"]), ("models", ["--resume"]),
    ("model", ["--overwrite"]), ("model", ["--resume"]),
])
def test_train_never_writes_through_a_linked_model_folder(project, capsys, layout, extra):
    image_dir, save_dir, init, precious = project
    plant(save_dir, precious, layout)
    before = checksums(precious.parent, image_dir, save_dir)
    assert train(image_dir, save_dir, init, *extra) == 1
    line = error_line(capsys.readouterr().err)
    assert "symbolic link" in line and "models" in line
    assert checksums(precious.parent, image_dir, save_dir) == before


def test_a_linked_model_folder_without_overwrite_gets_a_fresh_name(project, capsys):
    image_dir, save_dir, init, precious = project
    plant(save_dir, precious, "model")
    before = checksums(precious.parent)
    assert train(image_dir, save_dir, init) == 0
    assert "best-2" in capsys.readouterr().err
    assert checksums(precious.parent) == before
    assert (save_dir / "models" / "best-2" / "model.safetensors").is_file()


def test_overwrite_replaces_a_link_planted_at_a_file_name_not_its_target(project, capsys):
    """``models/best/config.json`` -> the user's config elsewhere: the run writes its own file in
    its place (atomic rename replaces the link itself), the target keeps its bytes."""
    image_dir, save_dir, init, precious = project
    folder = save_dir / "models" / "best"
    folder.mkdir(parents=True)
    for name in ("config.json", "model.safetensors", "history.json"):
        (folder / name).symlink_to(precious / name)
    before = checksums(precious.parent)
    assert train(image_dir, save_dir, init, "--overwrite") == 0, capsys.readouterr().err
    assert checksums(precious.parent) == before
    assert not any((folder / name).is_symlink() for name in ("config.json", "model.safetensors", "history.json"))


@pytest.mark.parametrize("layout", ["models", "model"])
def test_live_mode_never_saves_through_a_link(project, layout):
    from segstudio.application.live.live_session import LiveSession
    from segstudio.core.paths import LinkedStateFolderError
    from segstudio.core.project import Project
    from segstudio.model.training.live import LiveTrainer

    image_dir, save_dir, init, precious = project
    plant(save_dir, precious, layout)
    project = Project(image_dir, save_dir)
    names = list(project.classes.names)
    session = LiveSession(project, lambda: LiveTrainer(names, init=str(init), size=32, batch=1))
    rgb = project.load_image(project.entries[0])
    for _ in range(5):  # the first cycle may be the instant learner's: the deep model learns after it
        session.cycle(project.entries[0].image_path, rgb, np.ones(rgb.shape[:2], np.uint8), lambda: False)
        if session.trainer is not None and session.trainer.steps > 0:
            break
    assert session.trainer is not None and session.trainer.steps > 0
    before = checksums(precious.parent, save_dir)
    with pytest.raises(LinkedStateFolderError):
        session.save("best")
    assert checksums(precious.parent, save_dir) == before


def test_prediction_cache_is_not_written_through_a_link(tmp_path):
    from segstudio.application.review.prediction_cache import cache_folder, store, store_scores

    outside = tmp_path / "outside"
    outside.mkdir()
    save_dir = tmp_path / "save"
    (save_dir / ".segstudio").mkdir(parents=True)
    (save_dir / ".segstudio" / "predictions").symlink_to(outside, target_is_directory=True)
    folder = cache_folder(save_dir, save_dir / "models" / "m")
    assert store(folder, "a", np.zeros((4, 4), np.uint8), 0.5) is False
    assert store_scores(folder, {"a": 0.5}) is False
    assert list(outside.iterdir()) == []
