"""Predictions on a pool: the image on screen on request, and every unlabelled image in a batch.

:class:`PredictionService` runs :class:`~.model_runner.ModelRunner` (the model loaded once,
predictions with uncertainty, the disk cache of :mod:`.prediction_cache`) on the pool it is given
and keeps the latest results in memory keyed by (image path, model, image mtime); only the latest
request is delivered. :class:`BatchPrediction` fills the cache for a list of images on a pool of
its own, so the image on screen is not queued behind a whole folder. User masks are never written
here. No Qt: answers arrive as psygnal events on the thread that owns the pools (the window's GUI
thread, or a test's), and the pools are the window's, shut down once when it closes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future
from pathlib import Path

from psygnal import Signal

from segstudio.application.pools import Pool
from segstudio.application.review.model_runner import ModelRunner, PredictionResult, model_key
from segstudio.core.budgets import PREDICTION_BYTES
from segstudio.core.errors import SegStudioError

MEMORY_BYTES = PREDICTION_BYTES  # predictions kept in memory, together (core.budgets): 4 of 24 MP, 80 of 1 MP
_Key = tuple[str, tuple[str, float], float]


def error_text(error: BaseException) -> str:
    """A failure as the user reads it: our own errors say it all, others name their type."""
    return str(error) if isinstance(error, SegStudioError) else f"{type(error).__name__}: {error}"


class PredictionService:
    """Predicts the image the window shows; only the latest request is delivered."""

    ready = Signal(object)  # PredictionResult
    failed = Signal(str)

    def __init__(self, pool: Pool, runner: ModelRunner | None = None) -> None:
        self.runner = runner if runner is not None else ModelRunner()
        self._pool = pool
        self._memory: OrderedDict[_Key, PredictionResult] = OrderedDict()
        self._token = 0
        self.budget_bytes = MEMORY_BYTES

    @property
    def nbytes(self) -> int:
        """Bytes of the predictions kept in memory."""
        return sum(result.labels.nbytes for result in self._memory.values())

    def request(self, save_dir: Path, model_path: Path, image_path: Path, store: bool = True) -> bool:
        """Predict ``image_path``; True when the answer was in memory (``ready`` emitted at once).
        ``store``: write the prediction into the disk cache (never for a read-only project)."""
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

    def _on_done(self, token: int, key: _Key, future: Future) -> None:
        if future.cancelled():
            return
        error = future.exception()
        if error is None:
            self._memory[key] = future.result()
            while len(self._memory) > 1 and self.nbytes > self.budget_bytes:
                self._memory.popitem(last=False)  # the oldest first; the answer just made stays
        if token != self._token:
            return
        if error is not None:
            self.failed.emit(error_text(error))
        else:
            self.ready.emit(future.result())


class BatchPrediction:
    """Predicts a list of images into the cache (progress, cancel); never touches user masks."""

    progress = Signal(int, int, str)  # images done (predicted or failed), total, image name
    finished = Signal(int, str)  # images predicted, last error message ("" when none)

    def __init__(self, runner: ModelRunner, save_dir: Path, model_path: Path, image_paths: list[Path],
                 pool: Pool) -> None:
        self.runner, self.save_dir, self.model_path = runner, save_dir, model_path
        self.image_paths = list(image_paths)
        self._cancel = threading.Event()
        self._pool = pool
        self.running = False

    def start(self) -> None:
        """Begin on the pool; ``finished`` comes once, also when the pool is already shut."""
        self.running = True
        future = self._pool.submit(self._run, on_done=self._done)
        if future.cancelled():
            self._done(future)

    def cancel(self) -> None:
        """Stop after the image being predicted."""
        self._cancel.set()

    def _run(self) -> tuple[int, str]:
        """The batch on the worker thread; progress goes to the owner's thread through the pool."""
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
                error = f"{path.name}: {error_text(exc)}"
                break
            position += 1
        self._pool.call_soon(self.progress.emit, position, total, "")
        return predicted, error

    def _done(self, future: Future) -> None:
        self.running = False
        if future.cancelled():
            self.finished.emit(0, "the window is closing")
            return
        error = future.exception()
        done, message = (0, error_text(error)) if error is not None else future.result()
        self.finished.emit(done, message)
