"""Predictions off the GUI thread: the current image on request, and every unlabelled image in a batch.

One :class:`PredictionService` per window. Its worker runs ``application.model_runner.ModelRunner``
(the model loaded once, predictions with uncertainty, the disk cache of
``application.prediction_cache``) and it keeps the latest results in memory keyed by (image path,
model, image mtime). User masks are never written here.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal

from segstudio.application.model_runner import ModelRunner, model_key
from segstudio.core.errors import SegStudioError

MEMORY_CACHE = 12  # predictions kept in memory (one image's labels each)


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
            key = (str(image_path), model_key(model_path), image_path.stat().st_mtime)
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
