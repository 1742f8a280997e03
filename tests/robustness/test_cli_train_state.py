"""``train --resume`` with a hostile ``training_state.pt`` (received with a project, or damaged): one
line naming the state, every file of the run as it was, never a traceback or an endless run."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import pytest
import torch

from segstudio.cli.main import main

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "model"))
from cli_helpers import error_line, tiny_model  # noqa: E402
from state_helpers import checksums  # noqa: E402
from train_synth import make_project  # noqa: E402


@pytest.fixture(scope="module")
def stopped_run(tmp_path_factory):
    """A 6-step run stopped after 2 steps: its folder and state, copied fresh for each test."""
    from segstudio.core.project import Project
    from segstudio.model.training.train import TrainConfig, train

    root = tmp_path_factory.mktemp("run")
    image_dir, save_dir = make_project(root, count=3, size=64)
    init = tiny_model(root / "init", names=("background", "disc", "square", "triangle"))
    calls = []
    result = train(Project(image_dir, save_dir), TrainConfig(init=str(init), steps=6, size=64, batch=2,
                                                             device="cpu", name="run"),
                   should_stop=lambda: calls.append(1) or len(calls) > 2)
    assert result.status == "stopped"
    return image_dir, save_dir


def run_files(save_dir: Path, image_dir: Path, state_file: Path) -> dict:
    """Checksums of every file but the (unreadable) state file, which is compared by its lstat."""
    sums = {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for folder in (save_dir, image_dir)
            for p in sorted(folder.rglob("*")) if p != state_file and p.is_file() and not p.is_symlink()}
    info = os.lstat(state_file)
    return {**sums, "state": (info.st_mode, info.st_size, info.st_mtime_ns)}


def resume(image_dir: Path, save_dir: Path) -> int:
    return main(["train", str(save_dir), "--images", str(image_dir), "--resume", "--out", "run",
                 "--workers", "0", "--device", "cpu"])


def rewrite(state_file: Path, change) -> None:
    state = torch.load(state_file, weights_only=True)
    change(state)
    torch.save(state, state_file)


CASES = {
    "size is text": (lambda s: s["options"].__setitem__("size", "big"), "size"),
    "class names are numbers": (lambda s: s["options"].__setitem__("class_names", [0, 1, 2, 3]), "class_names"),
    "batch of a billion": (lambda s: s["options"].__setitem__("batch", 10**9), "batch"),
    "no options, no steps": (lambda s: (s.pop("options"), s.pop("total_steps")), "total_steps"),
    "step far below zero": (lambda s: s.__setitem__("step", -10**12), "step"),
    "history of tensors": (lambda s: s.__setitem__("history", [torch.zeros(3)]), "cannot resume"),
    "history entry without fields": (lambda s: s.__setitem__("history", [{"epoch": 1}]), "cannot resume"),
    "weights diverged to NaN": (lambda s: s["model"]["decode_head.classifier.weight"].fill_(float("nan")),
                                "not finite"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_state_values_are_one_line_and_change_nothing(stopped_run, capsys, case):
    image_dir, save_dir = stopped_run
    change, named = CASES[case]
    state_file = save_dir / "models" / "run" / "training_state.pt"
    original = state_file.read_bytes()
    try:
        rewrite(state_file, change)
        before = checksums(save_dir, image_dir)
        assert resume(image_dir, save_dir) == 1
        assert named in error_line(capsys.readouterr().err)
        assert checksums(save_dir, image_dir) == before
    finally:
        state_file.write_bytes(original)


@pytest.mark.parametrize("kind", ["pipe", "device", "giant"])
def test_a_state_file_that_is_not_a_plain_file_is_one_line(stopped_run, capsys, kind):
    image_dir, save_dir = stopped_run
    state_file = save_dir / "models" / "run" / "training_state.pt"
    original = state_file.read_bytes()
    state_file.unlink()
    try:
        if kind == "pipe":
            os.mkfifo(state_file)
        elif kind == "device":
            state_file.symlink_to("/dev/zero")
        else:
            with open(state_file, "wb") as handle:
                handle.truncate(5 * 1024 ** 3)  # sparse: no disk, but torch.load would read it all
        before = run_files(save_dir, image_dir, state_file)
        assert resume(image_dir, save_dir) == 1  # a pipe is refused before it is opened
        assert "training_state.pt" in error_line(capsys.readouterr().err)
        assert run_files(save_dir, image_dir, state_file) == before
    finally:
        state_file.unlink()
        state_file.write_bytes(original)
