"""The "good enough" record: for each image opened with a prediction and then saved, the share of
the prediction the user kept (``core.kept_prediction``), in the order the images were labelled.

The prediction compared is the first one shown after the image was opened (the pre-fill the user
saw: the active model's, or live mode's), held for the last :data:`RECENT` images opened, since
moving on writes the mask while the next image opens; each save of that image (autosaves included)
updates its record, so the last save counts, while its place in the order is that of its first save. The
records live in ``<save_dir>/.segstudio/kept_predictions.json`` (written atomically on a worker,
the last :data:`MAX_RECORDS` kept, through no link); a read-only window never writes them.
"""

from __future__ import annotations

import json
import os
import time
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from psygnal import Signal

from segstudio.application.pools import Pools
from segstudio.application.review.controller import ReviewController, ShownPrediction
from segstudio.application.session.controller import ProjectSession
from segstudio.core.atomic import atomic_write_text
from segstudio.core.errors import SegStudioError
from segstudio.core.kept_prediction import kept_share, plateau_sentence
from segstudio.core.paths import STATE_FOLDER, own_path
from segstudio.core.project import Project
from segstudio.core.safe_read import read_json

KEPT_FILE = "kept_predictions.json"
MAX_RECORDS = 5000
READ_LIMIT = 4 * 1024 * 1024
RECENT = 8  # images whose opening prediction is held for their save


@dataclass(frozen=True)
class KeptRecord:
    """One labelled image: its stem, place in the labelling order, the share kept (overall and by
    class index), and which model's prediction it was."""

    stem: str
    order: int
    overall: float
    per_class: dict[str, float]
    source: str
    time: float


def read_records(save_dir: str | os.PathLike) -> list[KeptRecord]:
    """The records of a project in labelling order; [] when there are none or they are unreadable."""
    path = Path(save_dir) / STATE_FOLDER / KEPT_FILE
    if not os.path.lexists(path):
        return []
    try:
        data = read_json(path, READ_LIMIT, SegStudioError, "kept predictions")
        records = [KeptRecord(str(r["stem"]), int(r["order"]), float(r["overall"]),
                              {str(k): float(v) for k, v in dict(r["per_class"]).items()},
                              str(r.get("source", "")), float(r.get("time", 0.0)))
                   for r in data.get("records", [])]
    except (SegStudioError, AttributeError, KeyError, TypeError, ValueError):
        return []
    return sorted(records, key=lambda r: r.order)


def write_records(save_dir: str | os.PathLike, records: list[KeptRecord]) -> None:
    """Write the records (the last MAX_RECORDS) atomically in the project's own state folder."""
    folder = own_path(save_dir, STATE_FOLDER, create=True)
    kept = [asdict(r) for r in records[-MAX_RECORDS:]]
    atomic_write_text(folder / KEPT_FILE, json.dumps({"records": kept}, indent=1))


class KeptRecorder:
    """Follows the images opened, the predictions shown and the masks saved of one session."""

    changed = Signal(object)  # list[KeptRecord], in labelling order
    not_written = Signal(str)  # the record file could not be written (why)

    def __init__(self, session: ProjectSession, review: ReviewController, pools: Pools) -> None:
        self._session = session
        self._pool = pools.pool("kept")
        # the prediction shown at the opening of each recent image: its save may answer after the
        # user moved on (navigating writes the mask, and the next image opens meanwhile)
        self._shown: OrderedDict[Path, tuple[np.ndarray, str]] = OrderedDict()
        self.records: list[KeptRecord] = []
        session.project_opened.connect(self._project_opened)
        # before the review's own handler, which may show a cached prediction of the image at once
        session.image_loaded.connect(lambda loaded: self._image_opened(), priority=10)
        session.mask_saved.connect(self._saved)
        review.prediction_changed.connect(self._prediction)
        self._project_opened()

    def sentence(self) -> str | None:
        """The plateau sentence (``core.kept_prediction``) once the shares have settled."""
        return plateau_sentence([r.overall for r in self.records])

    def _project_opened(self) -> None:
        project = self._session.project
        self.records = read_records(project.save_dir) if project is not None else []
        self._shown.clear()
        self.changed.emit(list(self.records))

    def _on_screen(self) -> Path | None:
        current = self._session.current
        return current.entry.image_path if current is not None else None

    def _image_opened(self) -> None:
        """An image opened (anew): its first prediction from now on is the one compared."""
        path = self._on_screen()
        if path is not None:
            self._shown.pop(path, None)

    def _prediction(self, shown: ShownPrediction | None) -> None:
        if shown is None or shown.image_path != self._on_screen() or shown.image_path in self._shown:
            return
        self._shown[shown.image_path] = (shown.labels.copy(), shown.source)
        while len(self._shown) > RECENT:
            self._shown.popitem(last=False)

    def _saved(self, index: int, label: np.ndarray | None = None) -> None:
        session = self._session
        project = session.project
        if project is None or session.read_only or label is None or not 0 <= index < len(project.entries):
            return
        entry = project.entries[index]
        held = self._shown.get(entry.image_path)
        if held is None:
            return  # opened without a prediction on screen
        labels, source = held
        self._pool.submit(kept_share, labels, label,
                          on_done=lambda f: self._measured(project, entry.stem, source, f))

    def _measured(self, project: Project, stem: str, source: str, future: Future) -> None:
        if project is not self._session.project or future.cancelled() or future.exception() is not None:
            return
        share = future.result()
        if share is None:
            return
        before = next((r for r in self.records if r.stem == stem), None)
        order = before.order if before is not None else max((r.order for r in self.records), default=-1) + 1
        record = KeptRecord(stem, order, round(share.overall, 4),
                            {str(k): round(v, 4) for k, v in share.per_class.items()}, source, time.time())
        self.records = sorted([r for r in self.records if r.stem != stem] + [record], key=lambda r: r.order)
        self.records = self.records[-MAX_RECORDS:]
        self.changed.emit(list(self.records))
        if not self._session.read_only:
            self._pool.submit(write_records, Path(project.save_dir), list(self.records),
                              on_done=self._written)

    def _written(self, future: Future) -> None:
        error = None if future.cancelled() else future.exception()
        if error is not None:
            self.not_written.emit(f"The record of kept predictions was not saved: {error}")
