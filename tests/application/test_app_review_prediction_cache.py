"""The prediction cache and the uncertainty order (no Qt): freshness against the image and the
model, damaged cache files, and the model runner that fills it from a real tiny model."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from segstudio.application.review import prediction_cache
from segstudio.application.review.model_runner import ModelRunner
from segstudio.application.review.prediction_cache import (
    cache_folder,
    read_cached,
    read_scores,
    scores_by_index,
    store,
    uncertainty_order,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "robustness"))
from cli_helpers import photo, tiny_model  # noqa: E402


def _age(path: Path, seconds: float) -> None:
    stamp = path.stat().st_mtime - seconds
    os.utime(path, (stamp, stamp))


def test_cache_folder_names_a_model_folder_or_a_checkpoint_file(tmp_path):
    folder = tmp_path / "models" / "dogs"
    folder.mkdir(parents=True)
    assert cache_folder(tmp_path, folder) == tmp_path / ".segstudio" / "predictions" / "dogs"
    assert cache_folder(tmp_path, tmp_path / "mit-b0.safetensors").name == "mit-b0"


def test_stored_prediction_is_fresh_until_the_image_or_the_model_changes(tmp_path):
    image = photo(tmp_path / "a.jpg")
    _age(image, 100)
    folder = tmp_path / "cache"
    labels = np.array([[0, 1], [2, 1]], np.uint8)
    assert store(folder, "a", labels, 0.4321234567)
    got = read_cached(folder, image, model_mtime=image.stat().st_mtime)
    assert got is not None and (got[0] == labels).all() and got[1] == 0.432123
    assert read_cached(folder, image, model_mtime=(folder / "a.png").stat().st_mtime + 10) is None  # retrained
    os.utime(image)  # the image changed after the prediction
    _age(folder / "a.png", 50)
    assert read_cached(folder, image, model_mtime=0.0) is None


def test_damaged_cache_files_mean_predict_again(tmp_path):
    image = photo(tmp_path / "a.jpg")
    _age(image, 100)
    folder = tmp_path / "cache"
    store(folder, "a", np.zeros((2, 2), np.uint8), 0.5)
    (folder / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    assert read_cached(folder, image, 0.0) is None
    for junk in ("[1, 2]", "{not json", '{"a": "high", "b": 0.25}'):
        (folder / "scores.json").write_text(junk)
        assert read_scores(folder) == ({"b": 0.25} if "b" in junk else {})
    (folder / "scores.json").write_text('{"b": 0.25}')
    store(folder, "c", np.zeros((2, 2), np.uint8), 0.75)  # a new score keeps the others
    assert read_scores(folder) == {"b": 0.25, "c": 0.75}


def test_scores_order_the_files_least_certain_first(tmp_path):
    model = tmp_path / "models" / "m"
    model.mkdir(parents=True)
    entries = [SimpleNamespace(stem=s) for s in ("a", "b", "c", "d")]
    project = SimpleNamespace(save_dir=tmp_path, entries=entries)
    folder = cache_folder(tmp_path, model)
    folder.mkdir(parents=True)
    (folder / "scores.json").write_text(json.dumps({"b": 0.2, "d": 0.7, "gone": 0.9}))
    scores = scores_by_index(project, model)
    assert scores == {1: 0.2, 3: 0.7}
    assert uncertainty_order(4, scores) == [3, 1, 0, 2]
    assert uncertainty_order(3, {0: 0.5, 2: 0.5}) == [0, 2, 1]  # ties in file order
    assert scores_by_index(project, None) == {} and scores_by_index(None, model) == {}


def test_runner_predicts_once_then_reads_the_cache_and_never_touches_user_files(tmp_path, monkeypatch):
    model = tiny_model(tmp_path / "save" / "models" / "tiny", names=("background", "cat", "dog"))
    image = photo(tmp_path / "images" / "a.jpg", size=(24, 32))
    _age(image, 100)
    user = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (tmp_path / "images").iterdir()}
    runner = ModelRunner()
    first = runner.predict(tmp_path / "save", model, image)
    assert first.labels.shape == (24, 32) and 0.0 <= first.score <= 1.0
    assert first.class_names == ["background", "cat", "dog"]
    folder = cache_folder(tmp_path / "save", model)
    assert (folder / "a.png").is_file() and "a" in read_scores(folder)

    fresh = ModelRunner()  # a new window: the answer comes from the cache, no model is loaded
    monkeypatch.setattr(fresh, "predictor", lambda path: (_ for _ in ()).throw(AssertionError("loaded")))
    again = fresh.predict(tmp_path / "save", model, image)
    assert (again.labels == first.labels).all() and again.score == round(first.score, 6)
    assert again.class_names == first.class_names
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (tmp_path / "images").iterdir()} == user
    assert prediction_cache.PREDICTIONS_FOLDER in str(folder)


def test_scores_that_cannot_be_written_are_a_false_not_an_exception(tmp_path):
    """The cache promises False when it cannot write (predictions still work, uncached): also when
    the mask was written but the scores file cannot be replaced (here: a folder in its place)."""
    from segstudio.application.review.prediction_cache import SCORES_FILE, store, store_scores
    folder = tmp_path / "cache"
    (folder / SCORES_FILE).mkdir(parents=True)
    assert store_scores(folder, {"a": 0.5}) is False
    assert store(folder, "a", np.zeros((4, 4), np.uint8), 0.5) is False
    assert (folder / SCORES_FILE).is_dir()
