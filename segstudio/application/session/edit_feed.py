"""The edits of whichever image the session shows, fanned out to every consumer with one policy.

A :class:`~segstudio.core.document.Document` announces its own changes; but the document changes
with every image switch, and each consumer attaching to it by hand (and detaching in time) is how
listeners were lost or left on old images. The feed follows the session's document and gives:

* ``changed(rect)`` after every write, at once: for consumers that only touch that rectangle (the
  canvas repaints it);
* ``settled(rect)`` with the union of the rectangles written since the last one, at most once per
  ``THROTTLE_MS`` while the user paints and once after the last dab: for work on a region or the
  whole image (the error map, metrics): one throttle policy for all of them;
* ``committed(kind)`` once a step is complete (a stroke released, an undo...): class counts,
  autosave (the session listens to the document itself).
"""

from __future__ import annotations

from psygnal import Signal

from segstudio.application.pools import TimerFactory
from segstudio.application.session.controller import ProjectSession
from segstudio.core.document import Document
from segstudio.core.geometry import Rect

THROTTLE_MS = 100


class EditFeed:
    """Follows ``session.document`` and re-announces its changes (see the module docstring)."""

    changed = Signal(object)  # Rect
    settled = Signal(object)  # Rect: the union written since the last ``settled``
    committed = Signal(str)  # Document.EDIT / UNDO / REDO

    def __init__(self, session: ProjectSession, timer: TimerFactory, throttle_ms: int = THROTTLE_MS) -> None:
        self._session = session
        self._document: Document | None = None
        self._pending: Rect | None = None
        self._timer = timer(throttle_ms, self._settle)
        for signal in (session.image_loaded, session.loading_started, session.project_opened, session.load_failed):
            signal.connect(self._follow)

    @property
    def document(self) -> Document | None:
        """The document whose edits are fed now."""
        return self._document

    def _follow(self, *_: object) -> None:
        """The session shows another image (or none): feed that document's edits from now on."""
        document = self._session.document
        if document is self._document:
            return
        if self._document is not None:
            self._document.changed.disconnect(self._on_changed, missing_ok=True)
            self._document.committed.disconnect(self._on_committed, missing_ok=True)
        self._document, self._pending = document, None
        self._timer.stop()
        if document is not None:
            document.changed.connect(self._on_changed)
            document.committed.connect(self._on_committed)

    def _on_changed(self, rect: Rect) -> None:
        self.changed.emit(rect)
        self._pending = rect if self._pending is None else self._pending.union(rect)
        if not self._timer.is_active():
            self._timer.start()

    def _on_committed(self, kind: str) -> None:
        self.committed.emit(kind)

    def _settle(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            self.settled.emit(pending)
