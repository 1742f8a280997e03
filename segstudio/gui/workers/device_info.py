"""Which device a training choice means ("CUDA 0: NVIDIA H100 …", "CPU (2 training threads)").

Finding out needs torch, and importing torch holds the GIL for about a second: done on any thread of
the window, it would freeze the GUI. So until torch is loaded anyway (by a run or a prediction),
the answer comes from a short child process (QProcess: asynchronous, nothing blocks), at most once
per device choice and application run. The probe itself (the child's script, reading its answer,
answering in-process once torch is in) is :mod:`segstudio.application.runtime`'s; this module runs
the child the Qt way and words the answer for the dock.
"""

from __future__ import annotations

import atexit
import sys
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QProcess

from segstudio.application.runtime import describe_device_here, probe_answer, probe_arguments
from segstudio.application.training.train_run import gui_thread_count

_cache: dict[str, str] = {}
_pending: dict[str, tuple[QProcess, list]] = {}
_pending_hooked: list[bool] = []


def _format(choice: str, answer: str) -> str:
    kind, _, text = answer.partition("|")
    if kind == "cpu":
        threads = gui_thread_count()
        return f"CPU ({threads} training thread{'' if threads == 1 else 's'})"
    return text or "unknown device"


def describe_now(choice: str) -> str | None:
    """The description if it is known without starting anything (cached, or torch loaded)."""
    if choice in _cache:
        return _cache[choice]
    answer = describe_device_here(choice)
    if answer is not None:
        _cache[choice] = _format(choice, answer)
        return _cache[choice]
    return None


def describe_async(choice: str, done: Callable[[str], None]) -> None:
    """Call ``done(text)`` with the description of ``choice``, at once or when the child process ends.

    One child process per choice at a time, owned by this module (not by a widget, which may be
    gone before the answer comes: ``done`` raising RuntimeError for a deleted receiver is ignored).
    """
    text = describe_now(choice)
    if text is not None:
        done(text)
        return
    if choice in _pending:
        _pending[choice][1].append(done)
        return
    process = QProcess()
    _pending[choice] = (process, [done])

    def finished(*_args) -> None:
        if choice not in _pending:
            return
        try:
            output = bytes(process.readAllStandardOutput()).decode("utf-8", "replace")
        except RuntimeError:  # the application is going away
            _pending.pop(choice, None)
            return
        _cache[choice] = _format(choice, probe_answer(output))
        _, callbacks = _pending.pop(choice)
        for callback in callbacks:
            try:
                callback(_cache[choice])
            except RuntimeError:  # the dock was deleted meanwhile
                pass
        process.deleteLater()

    process.finished.connect(finished)
    process.errorOccurred.connect(lambda error: error == QProcess.ProcessError.FailedToStart and finished())
    app = QCoreApplication.instance()
    if app is not None and not _pending_hooked:
        app.aboutToQuit.connect(_kill_pending)
        atexit.register(_kill_pending)  # also without an event loop (scripts, tests)
        _pending_hooked.append(True)
    process.start(sys.executable, probe_arguments(choice))


def _kill_pending() -> None:
    """Stop the probes still running, and wait for them, so no child outlives the window."""
    for process, _ in list(_pending.values()):
        try:
            process.kill()
            process.waitForFinished(1000)
        except RuntimeError:  # already deleted by Qt
            pass
    _pending.clear()
