"""Every cache of the window is bounded by a budget stated in segstudio.core.budgets (issue 29,
item 12): the undo histories, the neighbours loaded ahead, the predictions kept in memory, the SAM
embeddings and the training sets read their budget from there and keep to it."""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path

import numpy as np

from segstudio.application.review.model_runner import PredictionResult
from segstudio.application.review.prediction_service import PredictionService
from segstudio.application.session import navigation
from segstudio.application.session.undo_keeper import UndoKeeper
from segstudio.core import budgets
from segstudio.core.document import Document
from segstudio.core.history import History

MB = budgets.MB


def test_every_keeper_reads_its_budget_from_the_one_place():
    from segstudio.model.data import dataset, memory
    from segstudio.model.sam import segmenter

    assert History().budget_bytes == budgets.UNDO_BYTES
    assert Document(np.zeros((4, 4), np.uint8)).history.budget_bytes == budgets.UNDO_BYTES
    assert UndoKeeper().budget_bytes == budgets.KEPT_UNDO_BYTES
    assert segmenter.CACHE_IMAGES == budgets.SAM_EMBEDDING_IMAGES
    assert dataset.CACHE_BYTES == budgets.TRAIN_STREAM_CACHE_BYTES
    assert memory.memory_budget() <= budgets.TRAIN_SET_MAX_BYTES
    assert budgets.loaded_image_bytes(6000, 4000) == 6000 * 4000 * budgets.LOADED_BYTES_PER_PIXEL


def test_the_neighbours_loaded_ahead_fit_the_prefetch_budget():
    assert navigation.neighbours(5, 10) == [6, 4]  # size unknown: both
    assert navigation.neighbours(5, 10, budgets.loaded_image_bytes(1280, 960)) == [6, 4]
    assert navigation.neighbours(5, 10, 300 * MB, budget=512 * MB) == [6]  # the next one first
    assert navigation.neighbours(5, 10, 600 * MB, budget=512 * MB) == []
    assert navigation.neighbours(0, 10, 10 * MB) == [1] and navigation.neighbours(9, 10, 10 * MB) == [8]
    both = budgets.loaded_image_bytes(6000, 4000) * 2 <= budgets.PREFETCH_BYTES
    assert len(navigation.neighbours(5, 10, budgets.loaded_image_bytes(6000, 4000))) == (2 if both else 1)


class _Pool:
    """Runs a job at once and hands its future to ``on_done`` (the service's pool protocol)."""

    def submit(self, fn, *args, on_done=None):
        future: Future = Future()
        future.set_result(fn(*args))
        if on_done is not None:
            on_done(future)
        return future


class _Runner:
    def __init__(self, shape: tuple[int, int]) -> None:
        self.shape = shape

    def predict(self, save_dir, model_path, image_path, store):
        return PredictionResult(Path(image_path), Path(model_path), np.zeros(self.shape, np.uint8), 0.5, [])


def test_the_predictions_kept_in_memory_fit_their_budget(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.safetensors").write_bytes(b"weights")
    images = []
    for i in range(6):
        images.append(tmp_path / f"img{i}.jpg")
        images[-1].write_bytes(b"jpeg")
    service = PredictionService(_Pool(), _Runner((1000, 1000)))  # 1 MB per prediction
    assert service.budget_bytes == budgets.PREDICTION_BYTES
    service.budget_bytes = 3 * MB
    for image in images:
        assert not service.request(tmp_path, model, image)
    assert service.nbytes <= 3 * MB and len(service._memory) == 3
    assert service.request(tmp_path, model, images[-1])  # the latest are the ones kept
    assert not service.request(tmp_path, model, images[0])
    service.budget_bytes = 1  # smaller than one prediction: the last one is kept all the same
    assert not service.request(tmp_path, model, images[1])
    assert len(service._memory) == 1 and service.request(tmp_path, model, images[1])
