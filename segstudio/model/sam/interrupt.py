"""Stopping an embedding in flight, so that a click never waits behind the next image's.

The window embeds the next image ahead while the user works on the one on screen; on two cores
that run took the CPU from the clicks (a click's preview went from 74 ms to 178 ms median while it
ran). A click therefore sets the :class:`Interrupt` of the embedding ahead: under ONNX Runtime the
run ends after the operator in progress (``RunOptions.terminate``) and raises
:class:`Interrupted`, and the window starts it again once the clicks pause. Eager PyTorch cannot be
stopped mid-run; there the interrupt is only seen before the run starts.
"""

from __future__ import annotations

import threading


class Interrupted(RuntimeError):
    """An embedding was stopped by its interrupt; nothing was cached, it is computed when needed."""


class Interrupt:
    """Set from any thread to stop the embeddings it was given to (one-shot)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._set = False
        self._runs: list = []  # onnxruntime.RunOptions of runs in flight

    def set(self) -> None:
        with self._lock:
            self._set = True
            runs = list(self._runs)
        for run in runs:
            run.terminate = True

    def is_set(self) -> bool:
        return self._set

    def run_options(self):
        """ONNX Runtime run options that this interrupt terminates (already, when it is set)."""
        import onnxruntime as ort

        options = ort.RunOptions()
        with self._lock:
            self._runs.append(options)
            options.terminate = self._set
        return options

    def check(self) -> None:
        """Raise :class:`Interrupted` when set."""
        if self._set:
            raise Interrupted("the embedding was interrupted")
