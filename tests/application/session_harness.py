"""A project session with no window for the tests of tests/application (not a test module): queued
pools that run jobs and answers when told, manual timers, and a record of the session's events."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import time

import numpy as np
from PIL import Image

from segstudio.application.pools import ManualTimer, QueuedPools
from segstudio.application.session.controller import ProjectSession
from segstudio.core import project_lock
from segstudio.core.classes import ClassList, save_class_file

W, H = 40, 30


def make_project(folder, count=3):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        Image.fromarray(np.full((H, W, 3), 40 * i, np.uint8)).save(folder / f"img{i + 1}.jpg")
    save_class_file(folder / "classes.txt", ClassList(["background", "cat", "dog"]))
    return folder


class Harness:
    """A session with its queued pools and manual timer, and what its events said."""

    def __init__(self):
        self.pools = QueuedPools()
        self.timers: list[ManualTimer] = []
        self.session = ProjectSession(self.pools, self._timer)
        self.events: list[tuple] = []
        s = self.session
        s.loading_started.connect(lambda i: self.events.append(("loading", i)))
        s.image_loaded.connect(lambda loaded: self.events.append(("loaded", loaded.index)))
        s.save_failed.connect(lambda message: self.events.append(("failed", message)))
        s.load_failed.connect(lambda message: self.events.append(("load failed", message)))
        self.states: list[str] = []
        s.save_state.connect(self.states.append)

    def _timer(self, interval, callback):
        self.timers.append(ManualTimer(interval, callback))
        return self.timers[-1]

    def run(self):
        self.pools.run_pending()

    def show(self, index):
        assert self.session.load_index(index)
        self.run()
        assert self.session.index == index and self.session.document is not None


def paint(session, value=1):
    session.document.fill_rect(2, 2, 10, 8, value)  # the document's "committed" arms autosave


@contextlib.contextmanager
def changed_elsewhere(save_dir):
    """The project lock held by a live process of this host (a ``sleep``), as a project-wide change
    in another window or command holds it: a window opening meanwhile is read-only."""
    holder = subprocess.Popen(["sleep", "30"])
    try:
        path = project_lock.lock_path(save_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"pid": holder.pid, "host": socket.gethostname(),
                                    "started": time.time(), "token": "other"}))
        yield path
    finally:
        holder.kill()
        holder.wait()
