"""Predictions off the GUI thread: the current image on request, and every unlabelled image in a batch.

One :class:`PredictionService` per window. Its jobs run ``application.model_runner.ModelRunner``
(the model loaded once, predictions with uncertainty, the disk cache of
``application.prediction_cache``) on a :class:`BackgroundPool`, and it keeps the latest results
in memory keyed by (image path, model, image mtime). :class:`BatchPrediction` fills the cache for
a list of images on a pool of its own, so the image on screen is not queued behind a whole
folder. User masks are never written here.

The pools come from the window (its ``BackgroundPools``, shut down once when it closes); without
one, each object makes its own and shuts it down in :meth:`shutdown` / when the batch ends.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import CancelledError, Future
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from segstudio.application.review.model_runner import ModelRunner, model_key
from segstudio.core.errors import SegStudioError
from segstudio.gui.workers.background import BackgroundPool

MEMORY_CACHE = 12  # predictions kept in memory (one image's labels each)


def _error_text(error: BaseException) -> str:
    return str(error) if isinstance(error, SegStudioError) else f"{type(error).__name__}: {error}"


class PredictionService(QObject):
    """Predicts the image the window shows; only the latest request is delivered."""

    ready = Signal(object)  # PredictionResult
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None, pool: BackgroundPool | None = None) -> None:
        super().__init__(parent)
        self.runner = ModelRunner()
        self._own_pool = pool is None
        self._pool = pool if pool is not None else BackgroundPool("predict", 1, self)
        self._memory: OrderedDict = OrderedDict()
        self._token = 0

    def request(self, save_dir, model_path: Path, image_path: Path, store: bool = True) -> bool:
        """Predict ``image_path``; True when the answer was in memory (``ready`` emitted at once).
        ``store``: write the prediction into the disk cache (not for a read-only project)."""
        self._token += 1
        try:
            key = (str(image_path), model_key(model_path), image_path.stat().st_mtime)
        except (OSError, SegStudioError) as exc:
            self.failed.emit(str(exc))
            return False
        if key in self._memory:
            self._memory.move_to_end(key)
            self.ready.emit(self._memory[key])
            return True
        token = self._token
        self._pool.submit(self.runner.predict, save_dir, model_path, image_path, store,
                          on_done=lambda future: self._on_done(token, key, future))
        return False

    def cancel(self) -> None:
        """Forget the pending request (its result is dropped)."""
        self._token += 1

    def forget(self) -> None:
        """Drop the memory cache (the model was retrained or deleted)."""
        self._memory.clear()

    def _on_done(self, token: int, key, future: Future) -> None:
        if future.cancelled():
            return
        error = future.exception()
        if error is None:
            self._memory[key] = future.result()
            while len(self._memory) > MEMORY_CACHE:
                self._memory.popitem(last=False)
        if token != self._token:
            return
        if error is not None:
            self.failed.emit(_error_text(error))
        else:
            self.ready.emit(future.result())

    def shutdown(self) -> None:
        """Drop the pending request; the pool is shut down here only when this service made it."""
        self.cancel()
        if self._own_pool:
            self._pool.shutdown(wait=True)


class BatchPrediction(QObject):
    """Predicts a list of images into the cache (progress, cancel); never touches user masks."""

    progress = Signal(int, int, str)  # images done (predicted or failed), total, image name
    finished_batch = Signal(int, str)  # images predicted, last error message ("" when none)

    def __init__(self, runner: ModelRunner, save_dir, model_path: Path, image_paths: list[Path],
                 parent: QObject | None = None, pool: BackgroundPool | None = None) -> None:
        super().__init__(parent)
        self.runner, self.save_dir, self.model_path = runner, save_dir, model_path
        self.image_paths = list(image_paths)
        self._cancel = threading.Event()
        self._own_pool = pool is None
        self._pool = pool if pool is not None else BackgroundPool("predict-all", 1, self)
        self._future: Future | None = None

    def start(self) -> None:
        self._future = self._pool.submit(self._run, on_done=self._done)

    def cancel(self) -> None:
        """Stop after the image being predicted."""
        self._cancel.set()

    def wait(self, timeout_ms: int | None = None) -> bool:
        """Block until the batch has ended (True) or ``timeout_ms`` passed (False)."""
        if self._future is None or self._future.cancelled():
            return True
        try:
            self._future.exception(None if timeout_ms is None else timeout_ms / 1000)
        except TimeoutError:
            return False
        except CancelledError:  # dropped from the queue by a shutdown: it will never run
            pass
        return True

    def _run(self) -> tuple[int, str]:
        """The batch on the worker thread; progress goes to the GUI thread through the pool."""
        position, predicted, error = 0, 0, ""
        total = len(self.image_paths)
        for path in self.image_paths:
            if self._cancel.is_set():
                break
            self._pool.call_soon(self.progress.emit, position, total, path.name)
            try:
                self.runner.predict(self.save_dir, self.model_path, path)
                predicted += 1
            except SegStudioError as exc:
                error = str(exc)  # a corrupt image: report it, go on with the others
            except Exception as exc:  # noqa: BLE001 - anything else stops the batch, reported
                error = f"{path.name}: {_error_text(exc)}"
                break
            position += 1
        self._pool.call_soon(self.progress.emit, position, total, "")
        return predicted, error

    def _done(self, future: Future) -> None:
        if self._own_pool:
            self._pool.shutdown()
        if future.cancelled():
            return
        error = future.exception()
        done, message = (0, _error_text(error)) if error is not None else future.result()
        self.finished_batch.emit(done, message)
