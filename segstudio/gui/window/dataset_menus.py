"""File > Import, File > Export and File > Boxes to masks: the dataset formats of other tools, in the window.

Every job runs on a worker thread behind a progress dialog with Cancel (see
:mod:`segstudio.gui.workers.progress_job`) and ends with a short report. Imports and boxes to masks
write into the open project's save folder: the window first saves what is on screen, existing masks
are kept (replacing them is a second, explicit question), and the project is read again afterwards
so the new masks and classes show. Exports write only into a folder outside the project.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from segstudio.application.dataset_jobs import (
    EXPORT_FORMATS,
    IMPORT_FORMATS,
    DatasetFormat,
    ExportOptions,
    run_export,
    run_import,
    summary,
)
from segstudio.application.runtime import import_torch
from segstudio.core.errors import SegStudioError
from segstudio.core.formats.boxes import boxes_to_masks
from segstudio.gui.window import dialogs
from segstudio.gui.window.actions import Spec
from segstudio.gui.window.feature_host import FeatureHost
from segstudio.gui.workers.progress_job import start_job


class DatasetMenus:
    """The import, export and boxes-to-masks actions of one window."""

    def __init__(self, host: FeatureHost, segment_model: Callable[[], Path | None]) -> None:
        """``segment_model()``: the click-to-segment model folder, for boxes refined by SAM."""
        self.host, self._segment_model = host, segment_model
        self.pool = host.pools.pool("datasets")
        self.running = False
        actions = host.actions
        file_menu = actions.menus["File"]
        before = actions["save"]
        import_menu = file_menu.addMenu("&Import masks")
        export_menu = file_menu.addMenu("E&xport dataset")
        file_menu.insertMenu(before, import_menu)
        file_menu.insertMenu(before, export_menu)
        for fmt in IMPORT_FORMATS:
            action = actions.add(Spec(f"import_{fmt.key}", f"{fmt.title}…",
                                             tip=f"Import masks from a {fmt.title}"))
            action.triggered.connect(lambda checked=False, f=fmt: self.ask_import(f))
            import_menu.addAction(action)
        import_menu.addSeparator()
        boxes = actions.add(Spec("boxes_to_masks", "&Boxes to masks (VOC XML / YOLO)…",
                                        tip="Turn labelImg box files into masks, filled or refined by GrabCut"))
        boxes.triggered.connect(lambda checked=False: self.ask_boxes())
        import_menu.addAction(boxes)
        for fmt in EXPORT_FORMATS:
            action = actions.add(Spec(f"export_{fmt.key}", f"{fmt.title}…", tip=f"Export as a {fmt.title}"))
            action.triggered.connect(lambda checked=False, f=fmt: self.ask_export(f))
            export_menu.addAction(action)
        file_menu.insertSeparator(before)

    # --- questions -------------------------------------------------------------------------------
    def _project(self, writes: bool):
        session = self.host.session
        if session.project is None:
            dialogs.error(self.host.parent, "No project", "Open a folder first.")
            return None
        if writes and session.read_only:
            dialogs.error(self.host.parent, "Read-only project", f"The project is {session.read_only}.")
            return None
        if self.running:
            self.host.show_status("Another import or export is still running", 5000)
            return None
        return session.project

    def ask_import(self, fmt: DatasetFormat, overwrite: bool = False) -> None:
        project = self._project(writes=True)
        if project is None:
            return
        start = str(project.image_dir.parent)
        if fmt.source == "file":
            src = dialogs.ask_file(self.host.parent, f"Import {fmt.title}", start, "COCO JSON (*.json);;All files (*)")
        else:
            src = dialogs.ask_folder(self.host.parent, f"Import {fmt.title}", start)
        if src:
            self._write_job(f"Import {fmt.title}",
                            lambda progress, stop, again=False: run_import(
                                fmt.key, src, project.save_dir, overwrite=overwrite or again,
                                on_progress=progress, should_stop=stop))

    def ask_boxes(self) -> None:
        project = self._project(writes=True)
        if project is None:
            return
        folder = dialogs.ask_folder(self.host.parent, "Folder of box files (VOC XML or YOLO txt)",
                                    str(project.image_dir))
        if not folder:
            return
        method = dialogs.ask_choice(self.host.parent, "Boxes to masks", "How should each box become a mask?",
                                    [("fill", "Fill the box"), ("grabcut", "GrabCut inside the box"),
                                     ("sam", "Segment Anything inside the box (click-to-segment model)")])
        if method is None:
            return
        model = self._segment_model() if method == "sam" else None

        def job(progress, stop, again=False):
            refine = None
            if method == "sam":  # the model (and torch) load on the worker, never on the GUI thread
                import_torch()
                from segstudio.model.sam.box_masks import sam_refiner

                refine = sam_refiner(model)
            return boxes_to_masks(folder, project.save_dir, project.image_dir, None,
                                  "fill" if method == "sam" else method, again,
                                  on_progress=progress, should_stop=stop, refine=refine)

        self._write_job("Boxes to masks", job)

    def ask_export(self, fmt: DatasetFormat) -> None:
        project = self._project(writes=False)
        if project is None:
            return
        out = dialogs.ask_folder(self.host.parent, f"Export {fmt.title} into (an empty folder outside the project)",
                                 str(project.image_dir.parent))
        if not out:
            return
        answer = dialogs.ask_export(self.host.parent, f"Export {fmt.title}", can_rle=fmt.key == "coco")
        if answer is None:
            return
        options = ExportOptions(val=answer[0], rle=answer[1])
        # the masks on disk are what is exported: it starts once the queued saves have answered
        self.host.session.flush(lambda: self._start(
            f"Export {fmt.title}",
            lambda progress, stop: run_export(fmt.key, project.save_dir, project.image_dir, out, options,
                                              progress, stop),
            lambda report: dialogs.info(self.host.parent, "Export", summary(f"Exported to {out}", report))))

    # --- running ---------------------------------------------------------------------------------
    def _write_job(self, title: str, job) -> None:
        """Save what is on screen, run ``job`` into the save folder, then read the project again."""
        self.host.session.flush(lambda: self._start(title, job, lambda report: self._after_write(title, job, report),
                                                    writes=True))

    def _after_write(self, title: str, job, report) -> None:
        self.host.reopen()
        kept = [line for line in report.skipped if "exists" in line]
        text = summary(title, report)
        if kept and dialogs.confirm(self.host.parent, title, f"{text}\n\n{len(kept)} existing mask(s) were kept. "
                                    "Replace them with the imported ones?"):
            def replaced(again) -> None:
                self.host.reopen()
                dialogs.info(self.host.parent, title, summary(title, again))

            self._start(title, lambda progress, stop: job(progress, stop, True), replaced, writes=True)
            return
        dialogs.info(self.host.parent, title, text)

    def _start(self, title: str, job, on_report, writes: bool = False) -> None:
        """Run ``job``; one that ``writes`` into the project holds the project lock meanwhile, and is
        refused while another window edits an image (core.exclusive)."""
        session, lock = self.host.session, None
        if writes:
            try:
                lock = session.take_project(title.lower())
            except SegStudioError as exc:
                dialogs.error(self.host.parent, title, str(exc))
                return
        self.running = True

        def done(future: Future) -> None:
            self.running = False
            if lock is not None:
                session.let_project_go(lock)
            if future.cancelled():
                return
            error = future.exception()
            if error is not None:
                dialogs.error(self.host.parent, title, str(error))
                return
            on_report(future.result())

        start_job(self.host.parent, self.pool, title, job, done)
