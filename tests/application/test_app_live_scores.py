"""Live mode's uncertainty of the other images (no Qt): one other image scored per cycle, round
robin, in the order the file list sorts by; kept with the saved model; no user file touched."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np

from segstudio.application.live.live_session import LiveSession
from segstudio.application.review.prediction_cache import scores_by_index, uncertainty_order
from segstudio.core.palette import IGNORE_INDEX
from segstudio.core.project import Project
from segstudio.model.training.live import LiveTrainer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "model"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "robustness"))
from cli_helpers import tiny_model  # noqa: E402
from train_synth import make_project  # noqa: E402


def _user_files(*folders: Path) -> dict[str, str]:
    """sha256 of the images, masks and class file (not the app's models/ and state folder)."""
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for folder in folders
            for p in sorted(folder.iterdir()) if p.is_file()}


def test_each_cycle_scores_one_other_image_round_robin_and_save_keeps_the_scores(tmp_path) -> None:
    image_dir, save_dir = make_project(tmp_path / "p", count=4, size=48)
    project = Project(image_dir, save_dir)
    names = list(project.classes.names)
    start = tiny_model(tmp_path / "start", names)
    before = _user_files(image_dir, save_dir)
    session = LiveSession(project, lambda: LiveTrainer(names, init=str(start), size=32))
    current = project.entries[0]
    rgb = project.load_image(current)
    painted = np.full(rgb.shape[:2], IGNORE_INDEX, np.uint8)
    painted[5:15, 5:40] = 1

    first = session.cycle(current.image_path, rgb, painted, lambda: False)
    assert first.scored is None and first.shown == "instant"  # the first overlay waits for nothing
    scored = [session.cycle(current.image_path, rgb, painted, lambda: False).scored for _ in range(3)]
    others = [e.image_path for e in project.entries[1:]]
    assert scored == others  # never the image on screen; each other one in turn
    first = dict(session.scores)
    assert all(0.0 <= s <= 1.0 for s in first.values())
    by_index = session.scores_by_index()
    assert sorted(by_index) == [1, 2, 3]
    assert uncertainty_order(4, by_index)[:3] == sorted(by_index, key=lambda i: (-by_index[i], i))

    for _ in range(3):  # the model learns on: the scores follow it
        assert session.cycle(current.image_path, rgb, painted, lambda: False).scored in others
    assert session.scores != first

    assert session.cycle(current.image_path, rgb, painted, lambda: True).scored is None  # a stroke: no scoring

    saved = session.save("live-test")
    kept = scores_by_index(project, saved)  # what the file list shows once it is the active model
    assert kept == {i: round(s, 6) for i, s in session.scores_by_index().items()}
    assert _user_files(image_dir, save_dir) == before


def test_an_unreadable_image_is_skipped_and_the_rest_still_scored(tmp_path) -> None:
    image_dir, save_dir = make_project(tmp_path / "p", count=3, size=48)
    project = Project(image_dir, save_dir)
    names = list(project.classes.names)
    start = tiny_model(tmp_path / "start", names)
    broken = project.entries[1].image_path
    broken.write_bytes(b"not an image")
    session = LiveSession(project, lambda: LiveTrainer(names, init=str(start), size=32))
    current = project.entries[0]
    rgb = project.load_image(current)
    label = np.ones(rgb.shape[:2], np.uint8)
    scored = [session.cycle(current.image_path, rgb, label, lambda: False).scored for _ in range(3)]
    assert scored == [None, None, project.entries[2].image_path] and broken not in session.scores
    assert broken.read_bytes() == b"not an image"
