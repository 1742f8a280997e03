"""Tools > Prepare the whole folder for click to segment: the Qt side of
:mod:`segstudio.application.prepare_folder`.

Every image of the project is embedded in the background, on the click tool's "segment-ahead"
worker, into the project's ``.segstudio/sam-embeddings``
(:class:`~segstudio.core.assist.embedding_store.EmbeddingStore`); the first click on a prepared
image then runs only the prompt decoder. It steps aside while the user works: a drag over the
image (a stroke) and every embedding, click or hover decode of the image on screen pause it,
and it goes on after a quiet moment. Progress is in the status bar; the same menu entry stops it.
Nothing is written for a read-only project (the entry says so instead of starting).

The entry below it deletes the stored embeddings (after asking; refused in a read-only window),
through :meth:`~segstudio.core.assist.embedding_store.EmbeddingStore.clear`: only its own files,
never through a link. A preparation in progress is stopped first.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from segstudio.application.prepare_folder import PrepareFolder, Progress
from segstudio.core import words
from segstudio.core.assist.embedding_store import EmbeddingStore
from segstudio.core.errors import SegStudioError
from segstudio.gui.canvas.segment_tool import SegmentTool, image_key
from segstudio.gui.window import dialogs
from segstudio.gui.window.actions import Spec
from segstudio.gui.window.feature_host import FeatureHost
from segstudio.gui.workers.background import qt_timer

START_TEXT = "Prepare the &whole folder for click to segment"
CLEAR_TITLE = "Delete the stored click-to-segment embeddings"


def project_store(session) -> EmbeddingStore | None:
    """The open project's embedding store (None without a project); it writes only while that
    project is still the open one and may be written."""
    project = session.project
    if project is None:
        return None
    return EmbeddingStore(project.save_dir, lambda: session.project is project and not session.read_only
                          and not project.read_only)


class PrepareEmbeddings:
    """The menu entry, the progress line and the pauses of one window."""

    def __init__(self, host: FeatureHost, segment: SegmentTool) -> None:
        self.host = host
        self.segment = segment
        self._project = None  # the project being prepared
        self._measured: list[float] = []  # seconds of the images computed, not yet counted
        self._store: EmbeddingStore | None = None
        self.action = host.actions.add(Spec("segment_prepare", START_TEXT,
                                            tip="Embed every image ahead, in the background, kept in .segstudio: "
                                                "the first click on each then answers at once"))
        self.action.triggered.connect(lambda checked=False: self.toggle())
        host.actions.menu("Tools").addAction(self.action)
        self.clear_action = host.actions.add(Spec("segment_clear", CLEAR_TITLE.replace("Delete", "&Delete", 1) + "…",
                                                  tip="Free the disk space of .segstudio/sam-embeddings; "
                                                      "click to segment computes an image's again when needed"))
        self.clear_action.triggered.connect(lambda checked=False: self.clear())
        host.actions.menu("Tools").addAction(self.clear_action)
        self.folder: PrepareFolder = PrepareFolder(host.pools.pool("segment-ahead"), qt_timer(host.parent),
                                                   self._prepare_one, self._report, make_stop=_interrupt,
                                                   describe=lambda entry: entry.image_path.name)
        segment.embedding_store = lambda: project_store(host.session)
        segment.on_busy = self.folder.pause
        host.canvas.cursor_moved.connect(self._moved)

    def _moved(self, point) -> None:
        """A drag over the image (a stroke, a box, a polygon): the user is working."""
        if point is not None and QGuiApplication.mouseButtons() != Qt.MouseButton.NoButton:
            self.folder.pause()

    def toggle(self) -> None:
        """Start preparing the open project's images, or stop a preparation in progress."""
        if self.folder.running:
            self.folder.cancel()
            return
        session = self.host.session
        if session.project is None:
            self.host.show_status("Open a folder first", 5000)
            return
        if session.read_only:
            self.host.show_status(f"Not preparing: the project is read-only ({session.read_only})", 10000)
            return
        self._project = session.project
        self._store = project_store(session)
        self.folder.start(list(self._project.entries))

    def clear(self) -> None:
        """Delete the open project's stored embeddings, after asking (never in a read-only window)."""
        session, window = self.host.session, self.host.parent
        if session.project is None:
            self.host.show_status("Open a folder first", 5000)
            return
        if session.read_only or session.project.read_only:
            reason = session.read_only or "read-only project"
            dialogs.error(window, CLEAR_TITLE, f"This window is read-only ({reason}): the stored embeddings stay.")
            return
        store = project_store(session)
        assert store is not None
        try:
            count, size = store.usage()
        except (OSError, SegStudioError) as exc:
            dialogs.error(window, CLEAR_TITLE, f"Cannot read the stored embeddings: {exc}")
            return
        if not count:
            self.host.show_status("No stored embeddings in this project", 5000)
            return
        if not dialogs.confirm(window, CLEAR_TITLE, f"Delete the {words.count(count, 'stored image embedding')} "
                               f"({_megabytes(size)}) in .segstudio/sam-embeddings? Click to segment computes an "
                               "image's again when it is needed (seconds each); the preparation can be run again."):
            return
        if self.folder.running:
            self.folder.cancel()
        try:
            count, size = store.clear()
        except (OSError, SegStudioError) as exc:
            dialogs.error(window, CLEAR_TITLE, f"Could not delete them all: {exc}")
            return
        self.host.show_status(f"Deleted {words.count(count, 'stored embedding')}, {_megabytes(size)}", 10000)

    def _prepare_one(self, entry, stop) -> bool:  # worker: one image into the store
        project = self._project
        if project is None or self.host.session.project is not project:
            raise RuntimeError("another project is open")
        image = project.load_image(entry)
        segmenter = self.segment.segmenter()
        segmenter.disk = self._store
        start = time.perf_counter()
        computed = segmenter.prepare(image_key(image), image, stop)
        if computed:  # this machine's embedding time, for the status line (kept on the GUI thread)
            self._measured.append(time.perf_counter() - start)
        return computed

    def _report(self, progress: Progress) -> None:
        while self._measured:
            self.segment.embed_times().add(self._measured.pop(0))
        if self._project is not self.host.session.project and not progress.finished:
            self.folder.cancel()
            return
        counted = f"{progress.done}/{progress.total}"
        if progress.finished:
            self.action.setText(START_TEXT)
            failed = f"; {len(progress.failed)} unreadable: {progress.failed[0]}" if progress.failed else ""
            done = "Stopped preparing:" if progress.cancelled else "Click to segment ready on"
            self.host.show_status(f"{done} {counted} images{failed}", 20000)
            return
        self.action.setText(f"Stop preparing the &whole folder ({counted})")
        if progress.paused:
            state = " (paused while you work)"
        elif progress.current:
            state = f": embedding {progress.current} ({self.segment.embed_times().phrase()})…"
        else:
            state = "…"
        self.host.show_status(f"Preparing click to segment {counted}{state}", 0)


def _megabytes(size: int) -> str:
    return f"{size / 2**20:.1f} MB"


def _interrupt():
    from segstudio.model.sam.interrupt import Interrupt  # no torch: the window may not have loaded it

    return Interrupt()
