"""What the session's helper modules (``team_session``, ``repair_step``) use of a :class:`ProjectSession`.

They work on the session's state but must not import the controller, which imports
it (no import cycle, not even for type hints: tests/tools/import_cycles.py). This protocol names
the parts it uses; the controller has them all.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import Protocol

import numpy as np
from psygnal import SignalInstance

from segstudio.application.pools import Pool
from segstudio.application.session.load_queue import LoadQueue
from segstudio.application.session.loading import LoadedImage, LoadJob
from segstudio.application.session.open_project import OpenProject
from segstudio.application.session.save_queue import SaveBook, SaveJob
from segstudio.application.session.teamwork import Teamwork
from segstudio.core.document import Document
from segstudio.core.project import ImageEntry, Project


class SessionParts(Protocol):
    """The parts of a project session that ``team_session`` reads and drives."""

    index: int
    current: LoadedImage | None
    document: Document | None
    verified: bool
    taken: str | None
    reopen: Callable[[], None]
    ask_reload_classes: Callable[[], bool]
    _team: Teamwork
    _open: OpenProject | None
    _queue: LoadQueue
    _book: SaveBook
    _rewriter: Pool

    @property
    def project(self) -> Project | None: ...

    @property
    def read_only(self) -> str | None: ...

    @property
    def dirty(self) -> bool: ...

    @property
    def mask_blocked(self) -> bool: ...

    @property
    def loading(self) -> bool: ...

    @property
    def loading_started(self) -> SignalInstance: ...

    @property
    def claims_changed(self) -> SignalInstance: ...

    @property
    def models_changed(self) -> SignalInstance: ...

    @property
    def save_conflict(self) -> SignalInstance: ...

    @property
    def entry_changed(self) -> SignalInstance: ...

    def project_wide(self, what: str) -> contextlib.AbstractContextManager[None]: ...

    def open_project(self, image_dir: str | os.PathLike, class_file: str | os.PathLike | None = None,
                     save_dir: str | os.PathLike | None = None) -> Project: ...

    def load_index(self, index: int) -> bool: ...

    def taken_indices(self) -> set[int]: ...

    def masks_rewritten(self, lut: np.ndarray | None = None) -> None: ...

    def hold_writes(self, then: Callable[[], None]) -> None: ...

    def release_writes(self) -> None: ...

    def _submit(self, job: SaveJob) -> None: ...

    def _shown(self) -> tuple[OpenProject, ImageEntry]: ...

    def _set_document(self, document: Document | None) -> None: ...

    def _job(self, index: int) -> LoadJob: ...

    def _emit_state(self, error: str | None = None) -> None: ...
