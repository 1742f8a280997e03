"""The active model, loaded once and asked for predictions through the cache (no Qt; torch only
when a model is first loaded).

Why here and not in the window: the same "load once, predict with uncertainty, cache on disk"
serves the image on screen and *Predict all unlabelled*; both run it on worker threads, so the
runner is thread-safe and knows nothing of signals.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from segstudio.application.review import prediction_cache
from segstudio.application.runtime import import_torch
from segstudio.core.errors import SegStudioError
from segstudio.core.images import load_image
from segstudio.core.safe_read import SMALL_JSON_LIMIT, read_json
from segstudio.model.weights.model_files import weights_file

if TYPE_CHECKING:  # torch: imported on a worker, when a model is first loaded (runtime.import_torch)
    from segstudio.model.predictor import Predictor


@dataclass(frozen=True)
class PredictionResult:
    """The model's labels (its own class indices) and the image's uncertainty score (made on a worker,
    kept in :class:`~.prediction_service.PredictionService`'s memory and delivered again: never changed)."""

    image_path: Path
    model_path: Path
    labels: np.ndarray  # (H, W) uint8, model class indices
    score: float  # class-balanced doubt in [0, 1] (model.uncertainty): higher = less sure
    class_names: list[str]


def model_key(model_path: Path) -> tuple[str, float]:
    """(path, weights mtime): a model is reloaded, and its cache refreshed, when this changes."""
    weights = weights_file(model_path)
    if weights is None:
        raise SegStudioError(f"model {model_path} has no weights file")
    return str(model_path), weights.stat().st_mtime


class ModelRunner:
    """The loaded model of one path (reloaded when its weights change); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[str, float] | None = None
        self._predictor: Predictor | None = None  # once loaded
        self._names: list[str] = []

    def predictor(self, model_path: Path) -> tuple[Predictor, list[str]]:
        """(Predictor, class names) of ``model_path``, loading it on first use or after a retrain."""
        key = model_key(model_path)
        with self._lock:
            if self._key != key or self._predictor is None:
                import_torch()  # on this worker, without freezing the window
                from segstudio.model.predictor import Predictor
                from segstudio.model.weights.checkpoints import load_model
                self._predictor = None
                model, info = load_model(model_path)
                from segstudio.model.weights.catalogue import entry_for_path, recipe_options

                # a public checkpoint from the cache runs as its authors evaluated it
                self._predictor = Predictor(model, info, **recipe_options(entry_for_path(model_path)))
                self._names = list(info.class_names)
                self._key = key
            return self._predictor, self._names

    def predict(self, save_dir: str | os.PathLike, model_path: Path, image_path: Path,
                store: bool = True) -> PredictionResult:
        """Cached on disk when fresh, else computed (and cached unless ``store`` is False: a window
        on a project that is open in another one reads the cache but writes nothing)."""
        folder = prediction_cache.cache_folder(save_dir, model_path)
        cached = prediction_cache.read_cached(folder, image_path, model_key(model_path)[1])
        if cached is not None:
            labels, score = cached
            return PredictionResult(image_path, model_path, labels, score, self._names_for(model_path))
        predictor, names = self.predictor(model_path)
        prediction = predictor.predict(load_image(image_path), uncertainty=True)
        result = PredictionResult(image_path, model_path, prediction.labels, prediction.score, names)
        if store:
            prediction_cache.store(folder, image_path.stem, result.labels, result.score)
        return result

    def _names_for(self, model_path: Path) -> list[str]:
        """The model's class names without loading its weights when config.json has them."""
        if self._key is not None and self._key[0] == str(model_path):
            return list(self._names)
        config = model_path / "config.json" if model_path.is_dir() else model_path.parent / "config.json"
        try:
            names = read_json(config, SMALL_JSON_LIMIT, SegStudioError, "model config").get("class_names")
        except SegStudioError:
            names = None
        if isinstance(names, list) and all(isinstance(n, str) for n in names):
            return list(names)
        return self.predictor(model_path)[1]
