"""Assisted labelling in the window: the GrabCut and wand tools, and the mask clean-ups of Edit.

Built by the window's assembly from a :class:`FeatureHost`. The tools' gestures live in
:class:`~segstudio.gui.canvas.assist_tools.AssistTools`; the clean-ups (fill holes, remove small
islands, smooth boundaries) compute the cleaned mask with :mod:`segstudio.core.assist.cleanup`,
show the pixels that would change in the proposal layer, and apply them as one undo step only
when the user says yes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from segstudio.application import mask_cleanup
from segstudio.application.dataset_jobs import summary
from segstudio.application.embed_times import EmbedTimes
from segstudio.core.assist.preview import changes
from segstudio.core.errors import SegStudioError
from segstudio.gui.canvas.assist_tools import AssistTools
from segstudio.gui.window import dialogs
from segstudio.gui.window.actions import Spec
from segstudio.gui.window.feature_host import FeatureHost
from segstudio.gui.window.prepare_embeddings import PrepareEmbeddings
from segstudio.gui.workers.progress_job import start_job

CLEANUPS = (
    Spec("clean_fill_holes", "Fill &holes in the current class", tip="Fill background enclosed by the current class"),
    Spec("clean_islands", "Remove small &islands…", tip="Regions smaller than N pixels take their surroundings' class"),
    Spec("clean_smooth", "S&mooth boundaries…", tip="Round off jagged class boundaries"),
)


class AssistFeatures:
    """Wires the assisted tools and the clean-ups into one window."""

    def __init__(self, host: FeatureHost) -> None:
        self.host = host
        session, pools, actions = host.session, host.pools, host.actions
        self.pool = pools.pool("assist")
        self.tools = AssistTools(self.pool, pools.pool("segment"), host.parent, ahead_pool=pools.pool("segment-ahead"))
        self.tools.segment.images_ahead = session.images_ahead
        self.tools.segment.image_name = lambda: session.entry.image_path.name if session.entry else "the image"
        self.tools.segment.times = lambda model: settings_times(host.settings, model)
        session.ahead_loaded.connect(self.tools.segment.embed_ahead)
        self.tools.segment.use_model(host.settings.get_str("assist/segment_model", "") or None)
        choose = actions.add(Spec("segment_model", "Click-to-segment &model…",
                                  tip="A SAM or SAM 2 model folder (config.json + model.safetensors)"))
        choose.triggered.connect(lambda checked=False: self.choose_segment_model())
        actions.menu("Tools").addAction(choose)
        self.prepare = PrepareEmbeddings(host, self.tools.segment)  # its entry follows the model's
        host.tools.assist = self.tools
        host.canvas.add_layer(self.tools.layer)
        self.tools.message.connect(lambda text: host.show_status(text, 20000))
        self.tools.segment.working.connect(lambda working: host.canvas.set_working(bool(working)))
        host.canvas.cursor_moved.connect(lambda point: point is None and self.tools.segment.leave())
        self.tools.preview_changed.connect(host.canvas.viewport().update)
        menu = actions.menu("Edit").addMenu("&Clean up mask")
        handlers: dict[str, Callable[[], None]] = {
            "clean_fill_holes": self.fill_holes,
            "clean_islands": self.remove_islands,
            "clean_smooth": self.smooth,
        }
        for spec in CLEANUPS:
            action = actions.add(spec)
            action.triggered.connect(lambda checked=False, run=handlers[spec.name]: run())
            menu.addAction(action)
        menu.addSeparator()
        every = actions.add(Spec("clean_project", "Clean up &every mask of the project…",
                                        tip="One clean-up on all labelled masks; originals kept in .segstudio/backups"))
        every.triggered.connect(lambda checked=False: self.clean_project())
        menu.addAction(every)

    def choose_segment_model(self) -> None:
        """Pick the click-to-segment model folder (kept in the settings)."""
        folder = dialogs.ask_folder(self.host.parent, "Click-to-segment model (SAM or SAM 2 folder)")
        if folder:
            self.tools.segment.use_model(Path(folder))
            self.host.settings.set("assist/segment_model", folder)
            if self.host.tools.tool.value == "segment":
                self.tools.segment.prepare()

    # --- clean-ups ---------------------------------------------------------------------------------
    def fill_holes(self) -> None:
        value = self.host.tools.current_class
        self._offer("Fill holes", mask_cleanup.operation("holes", value=value))

    def remove_islands(self) -> None:
        self._ask_and_offer(mask_cleanup.CLEANUPS["islands"])

    def smooth(self) -> None:
        self._ask_and_offer(mask_cleanup.CLEANUPS["smooth"])

    def _ask_and_offer(self, chosen: mask_cleanup.Cleanup) -> None:
        amount = dialogs.ask_number(self.host.parent, chosen.title, chosen.question, chosen.default, chosen.low,
                                    chosen.high)
        if amount is not None:
            self._offer(chosen.title, mask_cleanup.operation(chosen.key, amount))

    def clean_project(self) -> None:
        """One clean-up over every labelled mask, in the background; originals backed up first."""
        window, session = self.host.parent, self.host.session
        if session.project is None or session.read_only:
            dialogs.error(window, "Clean up every mask", "Open a project you can write to first.")
            return
        key = dialogs.ask_choice(window, "Clean up every mask", "Which clean-up, on every labelled mask?",
                                 [(c.key, c.title) for c in mask_cleanup.CLEANUPS.values()])
        if key is None:
            return
        chosen = mask_cleanup.CLEANUPS[key]
        amount = 0
        if chosen.question is not None:
            amount = dialogs.ask_number(window, chosen.title, chosen.question, chosen.default, chosen.low, chosen.high)
            if amount is None:
                return
        count = len(session.project.labelled_entries())
        if not dialogs.confirm(window, chosen.title, f"{chosen.title} on {count} labelled mask(s)? Each mask that "
                               "changes is copied to .segstudio/backups first."):
            return
        project = session.project
        try:  # every mask changes: not while another window edits one (core.exclusive)
            lock = session.take_project(f"run {chosen.title.lower()} on every mask")
        except SegStudioError as exc:
            dialogs.error(window, chosen.title, str(exc))
            return
        # the masks on disk are what gets cleaned: it starts once the queued saves have answered
        session.flush(lambda: start_job(
            window, self.pool, chosen.title,
            lambda progress, stop: mask_cleanup.clean_project(project, key, amount, progress, stop),
            lambda future: self._cleaned(chosen.title, future, lock)))

    def _cleaned(self, title: str, future, lock=None) -> None:
        if lock is not None:
            self.host.session.let_project_go(lock)
        if future.cancelled():
            return
        if future.exception() is not None:
            dialogs.error(self.host.parent, title, str(future.exception()))
            return
        report, backups = future.result()
        self.host.reopen()
        dialogs.info(self.host.parent, title, summary(title, report) + f"\nOriginals of the changed masks: {backups}")

    def _offer(self, title: str, operation: Callable[[np.ndarray], np.ndarray]) -> bool:
        """Preview what ``operation`` changes on the current mask; apply it (one undo step) on yes."""
        host = self.host
        document = host.tools.document
        if document is None:
            host.show_status("No editable mask on screen", 5000)
            return False
        host.tools.cancel()
        cleaned = operation(document.label)
        changed, count = changes(document.label, cleaned)
        if count == 0:
            host.show_status(f"{title}: nothing to change", 5000)
            return False
        self.tools.show_region(changed)
        try:
            apply = dialogs.confirm(host.parent, title, f"{count:,} pixels change (outlined on the image). Apply?")
        finally:
            self.tools.cancel()
        if apply and document is host.tools.document and document.set_label(cleaned) is not None:
            host.show_status(f"{title}: {count:,} pixels changed (Ctrl+Z undoes)", 10000)
            return True
        return False


def settings_times(settings, model: str) -> EmbedTimes:
    """A model's measured embedding times, kept in the user's settings (this machine's, not the project's)."""
    key = f"assist/embed_seconds/{model}"
    return EmbedTimes(lambda: settings.get_str(key, ""), lambda text: settings.set(key, text))
