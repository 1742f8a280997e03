"""Predictions off the GUI thread: the current image on request, and every unlabelled image in a batch.

One :class:`PredictionService` per window. It loads the active model once (on its worker thread),
predicts with uncertainty, and keeps results in memory keyed by (image path, model, image mtime)
and on disk in ``<save_dir>/.segstudio/predictions/<model>/<stem>.png`` (the model's raw class
indices) with the uncertainty scores in ``scores.json`` next to them. A cached file is used while
it is newer than both the image and the model weights. User masks are never written here.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal

from segstudio.core.atomic import atomic_write_text
from segstudio.core.errors import SegStudioError
from segstudio.core.images import load_image
from segstudio.core.journal import STATE_FOLDER
from segstudio.core.masks import read_mask, write_mask

from segstudio.model.model_files import weights_file

PREDICTIONS_FOLDER = "predictions"
SCORES_FILE = "scores.json"
MEMORY_CACHE = 12  # predictions kept in memory (one image's labels each)


@dataclass
class PredictionResult:
    """The model's labels (its own class indices) and the image's uncertainty score."""

    image_path: Path
    model_path: Path
    labels: np.ndarray  # (H, W) uint8, model class indices
    score: float  # class-balanced doubt in [0, 1] (model.uncertainty): higher = less sure
    class_names: list[str]


def cache_folder(save_dir, model_path: Path) -> Path:
    name = model_path.name if model_path.is_dir() else model_path.stem
    return Path(save_dir) / STATE_FOLDER / PREDICTIONS_FOLDER / name


def read_scores(folder: Path) -> dict[str, float]:
    try:
        data = json.loads((folder / SCORES_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): float(v) for k, v in data.items() if isinstance(v, (int, float))} if isinstance(data, dict) else {}


class ModelRunner:
    """The loaded model of one path (reloaded when its weights change); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key = None
        self._predictor = None
        self._names: list[str] = []
        self._scores_lock = threading.Lock()

    @staticmethod
    def key_of(model_path: Path) -> tuple[str, float]:
        weights = weights_file(model_path)
        if weights is None:
            raise SegStudioError(f"model {model_path} has no weights file")
        return str(model_path), weights.stat().st_mtime

    def predictor(self, model_path: Path):
        key = self.key_of(model_path)
        with self._lock:
            if self._key != key:
                from segstudio.model.checkpoints import load_model
                from segstudio.model.predictor import Predictor
                self._predictor = None
                model, info = load_model(model_path)
                self._predictor = Predictor(model, info)
                self._names = list(info.class_names)
                self._key = key
            return self._predictor, self._names

    def predict(self, save_dir, model_path: Path, image_path: Path) -> PredictionResult:
        """Cached on disk when fresh, else computed (and cached)."""
        folder = cache_folder(save_dir, model_path)
        cached = folder / f"{image_path.stem}.png"
        model_mtime = self.key_of(model_path)[1]
        try:
            fresh = cached.stat().st_mtime >= max(image_path.stat().st_mtime, model_mtime)
        except OSError:
            fresh = False
        score = read_scores(folder).get(image_path.stem) if fresh else None
        if fresh and score is not None:
            try:
                labels = read_mask(cached)
                return PredictionResult(image_path, model_path, labels, score, self._names_for(model_path))
            except SegStudioError:
                pass  # unreadable: predict again
        predictor, names = self.predictor(model_path)
        prediction = predictor.predict(load_image(image_path), uncertainty=True)
        result = PredictionResult(image_path, model_path, prediction.labels, prediction.score, names)
        self._store(folder, image_path.stem, result)
        return result

    def _names_for(self, model_path: Path) -> list[str]:
        if self._key is not None and self._key[0] == str(model_path):
            return list(self._names)
        config = model_path / "config.json" if model_path.is_dir() else model_path.parent / "config.json"
        try:
            return [str(n) for n in json.loads(config.read_text("utf-8")).get("class_names", [])]
        except (OSError, ValueError, AttributeError):
            return self.predictor(model_path)[1]

    def _store(self, folder: Path, stem: str, result: PredictionResult) -> None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            write_mask(folder / f"{stem}.png", result.labels)
            with self._scores_lock:
                scores = read_scores(folder)
                scores[stem] = round(result.score, 6)
                atomic_write_text(folder / SCORES_FILE, json.dumps(scores, indent=1, sort_keys=True))
        except (OSError, SegStudioError):
            pass  # a read-only save folder: predictions still work, only uncached


class PredictionService(QObject):
    """Predicts the image the window shows; only the latest request is delivered."""

    ready = Signal(object)  # PredictionResult
    failed = Signal(str)
    _done = Signal(object)  # (token, future) from the worker thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = ModelRunner()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="segstudio-predict")
        self._memory: OrderedDict = OrderedDict()
        self._token = 0
        self.busy = False
        self._done.connect(self._on_done)

    def request(self, save_dir, model_path: Path, image_path: Path) -> bool:
        """Predict ``image_path``; True when the answer was in memory (``ready`` emitted at once)."""
        self._token += 1
        try:
            key = (str(image_path), ModelRunner.key_of(model_path), image_path.stat().st_mtime)
        except (OSError, SegStudioError) as exc:
            self.failed.emit(str(exc))
            return False
        if key in self._memory:
            self._memory.move_to_end(key)
            self.busy = False
            self.ready.emit(self._memory[key])
            return True
        token = self._token
        self.busy = True
        future = self._pool.submit(self.runner.predict, save_dir, model_path, image_path)
        future.add_done_callback(lambda f: self._done.emit((token, key, f)))
        return False

    def cancel(self) -> None:
        """Forget the pending request (its result is dropped)."""
        self._token += 1
        self.busy = False

    def forget(self) -> None:
        """Drop the memory cache (the model was retrained or deleted)."""
        self._memory.clear()

    def _on_done(self, payload) -> None:
        token, key, future = payload
        error = future.exception()
        if error is None:
            self._memory[key] = future.result()
            while len(self._memory) > MEMORY_CACHE:
                self._memory.popitem(last=False)
        if token != self._token:
            return
        self.busy = False
        if error is not None:
            self.failed.emit(str(error) if isinstance(error, SegStudioError) else f"{type(error).__name__}: {error}")
        else:
            self.ready.emit(future.result())

    def shutdown(self) -> None:
        self.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)


class BatchPredictThread(QThread):
    """Predicts a list of images into the cache (progress, cancel); never touches user masks."""

    progress = Signal(int, int, str)  # done, total, image name
    finished_batch = Signal(int, str)  # images predicted, error message ("" when none)

    def __init__(self, runner: ModelRunner, save_dir, model_path: Path, image_paths: list[Path], parent=None) -> None:
        super().__init__(parent)
        self.runner, self.save_dir, self.model_path = runner, save_dir, model_path
        self.image_paths = list(image_paths)
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def run(self) -> None:
        done, error = 0, ""
        total = len(self.image_paths)
        for path in self.image_paths:
            if self._cancel.is_set():
                break
            self.progress.emit(done, total, path.name)
            try:
                self.runner.predict(self.save_dir, self.model_path, path)
            except SegStudioError as exc:
                error = str(exc)  # a corrupt image: report it, go on with the others
            except Exception as exc:  # noqa: BLE001
                error = f"{path.name}: {type(exc).__name__}: {exc}"
                break
            done += 1
        self.progress.emit(done, total, "")
        self.finished_batch.emit(done, error)
