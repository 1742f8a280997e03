"""The window's background pools: answers arrive on the GUI thread, and shutdown happens once."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject

from segstudio.gui.workers.background import BackgroundPool, BackgroundPools


def test_answer_and_progress_arrive_on_the_gui_thread(qtbot) -> None:
    pool = BackgroundPool("test")
    seen: list[tuple[str, object, bool]] = []
    gui = threading.current_thread()

    def job(n: int) -> int:
        pool.call_soon(lambda step: seen.append(("progress", step, threading.current_thread() is gui)), n)
        return n * 2

    pool.submit(job, 21, on_done=lambda f: seen.append(("done", f.result(), threading.current_thread() is gui)))
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=5000)
    assert seen == [("progress", 21, True), ("done", 42, True)]
    pool.shutdown(wait=True)


def test_failure_reaches_on_done(qtbot) -> None:
    pool = BackgroundPool("test")
    errors: list[BaseException | None] = []
    pool.submit(lambda: 1 / 0, on_done=lambda f: errors.append(f.exception()))
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert isinstance(errors[0], ZeroDivisionError)
    pool.shutdown()


def test_shutdown_once_drops_queued_jobs_and_refuses_new_ones(qtbot) -> None:
    pools = BackgroundPools()
    pool = pools.pool("slow")
    started, release = threading.Event(), threading.Event()
    ran: list[int] = []

    def slow(n: int) -> None:
        started.set()
        release.wait(10)
        ran.append(n)

    pool.submit(slow, 1)
    queued = pool.submit(slow, 2)
    queued.add_done_callback(lambda future: release.set())  # job 1 runs until the shutdown drops job 2
    assert started.wait(5)
    pools.shutdown(wait_for=("slow",))
    pools.shutdown()  # a second call does nothing
    assert ran == [1] and queued.cancelled()
    assert pool.closed and pools.shut_down
    late = pool.submit(slow, 3)
    assert late.cancelled() and ran == [1]
    assert pools.pool("new").closed  # a pool asked for after the close is born closed


def test_answers_for_a_deleted_owner_are_dropped(qtbot) -> None:
    owner = QObject()
    pool = BackgroundPool("test", parent=owner)
    seen: list[int] = []
    gate = threading.Event()
    pool.submit(gate.wait, on_done=lambda f: seen.append(1))
    with qtbot.waitSignal(owner.destroyed, timeout=5000):
        owner.deleteLater()
    gate.set()
    pool.shutdown(wait=True)
    qtbot.wait(50)
    assert seen == []
