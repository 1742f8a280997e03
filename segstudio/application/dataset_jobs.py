"""Imports, exports and boxes-to-masks as jobs: one table of formats for the window and the command line.

Each job is a plain call into :mod:`segstudio.core.formats` that reports progress as
``on_progress(done, total)``, stops between two files when ``should_stop()`` turns true, and returns
a :class:`~segstudio.core.batch.BatchReport`. The window runs them on a worker thread with a
progress dialog; ``segstudio-cli import/export`` prints the same report. Keeping the format table
here means a format added once appears in both.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from segstudio.core.batch import BatchReport, Progress, StopFlag
from segstudio.core.errors import OptionError, SegStudioError


@dataclass(frozen=True)
class DatasetFormat:
    """One dataset format as the menus and the command line name it."""

    key: str  # the CLI's name: voc, coco, yolo, hf, labelme
    title: str  # the menu's words
    source: str  # "folder" or "file": what an import asks for


IMPORT_FORMATS = (
    DatasetFormat("labelme", "labelme JSON folder", "folder"),
    DatasetFormat("voc", "VOC segmentation folder", "folder"),
    DatasetFormat("coco", "COCO JSON file", "file"),
    DatasetFormat("yolo", "YOLO segmentation folder", "folder"),
    DatasetFormat("hf", "Hugging Face image folder", "folder"),
)
EXPORT_FORMATS = (
    DatasetFormat("voc", "VOC segmentation folder", "folder"),
    DatasetFormat("coco", "COCO JSON (polygons)", "folder"),
    DatasetFormat("yolo", "YOLO segmentation (Ultralytics)", "folder"),
    DatasetFormat("hf", "Hugging Face image folder", "folder"),
)


MAX_SIMPLIFY_PX = 10_000.0  # a tolerance wider than any image leaves nothing of its outlines


@dataclass(frozen=True)
class ExportOptions:
    """How an export splits and encodes; the defaults are the command line's. Checked when made,
    before any file is written, for the window and the command line alike: ``inf``, ``nan`` and
    ``1e308`` pass a ``< 0`` test and reach OpenCV as a traceback."""

    val: float = 0.0
    seed: int = 0
    rle: bool = False
    simplify: float = 0.0
    overwrite: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.simplify) and 0 <= self.simplify <= MAX_SIMPLIFY_PX):
            raise OptionError(f"--simplify must be a number from 0 to {MAX_SIMPLIFY_PX:g} pixels (got {self.simplify})")
        if not (math.isfinite(self.val) and 0 <= self.val < 1):
            raise OptionError(f"--val must be a number from 0 to below 1 (got {self.val})")


def run_import(
    key: str,
    src: str | os.PathLike,
    save_dir: str | os.PathLike,
    images: str | os.PathLike | None = None,
    classes: str | os.PathLike | None = None,
    overwrite: bool = False,
    on_progress: Progress | None = None,
    should_stop: StopFlag | None = None,
) -> BatchReport:
    """Masks from another tool's dataset into ``save_dir``; existing masks are kept unless ``overwrite``."""
    from segstudio.core.formats import coco, hf_folder, voc_folder, yolo

    if key == "voc":
        return voc_folder.import_voc(src, save_dir, classes, overwrite,
                                     on_progress=on_progress, should_stop=should_stop)
    if key == "coco":
        return coco.import_coco(src, save_dir, images, overwrite, on_progress=on_progress, should_stop=should_stop)
    if key == "yolo":
        return yolo.import_yolo(src, save_dir, classes, overwrite, on_progress=on_progress, should_stop=should_stop)
    if key == "hf":
        return hf_folder.import_hf(src, save_dir, overwrite, on_progress=on_progress, should_stop=should_stop)
    if key == "labelme":
        return _import_labelme(src, save_dir, overwrite)
    raise SegStudioError(f"unknown import format {key!r}")


def _import_labelme(src: str | os.PathLike, save_dir: str | os.PathLike, overwrite: bool) -> BatchReport:
    """labelme's folder import, its report in the shared shape."""
    from segstudio.core.labelme import import_labelme_folder

    result = import_labelme_folder(src, save_dir, None, overwrite=overwrite)
    report = BatchReport(written=list(result.masks), errors=list(result.errors),
                         warnings=list(result.class_warnings), added_classes=list(result.added_classes))
    why = "it is read-only" if overwrite else "it exists (choose overwrite to replace it)"  # all overwrite keeps
    report.skipped.extend(f"{Path(path).name}: {why}" for path in result.kept)
    return report


def run_export(
    key: str,
    save_dir: str | os.PathLike,
    image_dir: str | os.PathLike,
    out: str | os.PathLike,
    options: ExportOptions | None = None,
    on_progress: Progress | None = None,
    should_stop: StopFlag | None = None,
) -> BatchReport:
    """Every labelled image of the project as a dataset in ``out`` (outside the project)."""
    options = options or ExportOptions()
    from segstudio.core.formats import coco, hf_folder, voc_folder, yolo
    from segstudio.core.formats.export_target import export_source

    if options.rle and key != "coco":
        raise SegStudioError("--rle applies to the coco format only")
    source = export_source(save_dir, image_dir)
    if not source.entries:
        raise SegStudioError(f"no labelled images: no mask in {save_dir} matches an image of {image_dir}")
    val, seed, overwrite = options.val, options.seed, options.overwrite
    exporters: dict[str, Callable[[], BatchReport]] = {
        "voc": lambda: voc_folder.export_voc(source, out, val=val, seed=seed, overwrite=overwrite,
                                             on_progress=on_progress, should_stop=should_stop),
        "coco": lambda: coco.export_coco(source, out, use_rle=options.rle, val=val, seed=seed,
                                         simplify=options.simplify, overwrite=overwrite,
                                         on_progress=on_progress, should_stop=should_stop),
        "yolo": lambda: yolo.export_yolo(source, out, val=val, seed=seed, simplify=options.simplify,
                                         overwrite=overwrite, on_progress=on_progress, should_stop=should_stop),
        "hf": lambda: hf_folder.export_hf(source, out, val=val, seed=seed, overwrite=overwrite,
                                          on_progress=on_progress, should_stop=should_stop),
    }
    if key not in exporters:
        raise SegStudioError(f"unknown export format {key!r}")
    report = exporters[key]()
    report.warnings[:0] = source.project.listing_warnings  # images left out, by name, every export
    return report


def summary(action: str, report: BatchReport) -> str:
    """A few lines for the window: counts first, then at most ten problems."""
    lines = [f"{action}: {len(report.written)} file(s) written"
             + (f", {len(report.skipped)} skipped" if report.skipped else "")
             + (f", {len(report.errors)} failed" if report.errors else "")
             + (" — stopped before the end" if report.stopped else "")]
    if report.added_classes:
        lines.append("Classes added: " + ", ".join(report.added_classes))
    problems = report.errors + report.warnings + report.skipped
    lines += problems[:10]
    if len(problems) > 10:
        lines.append(f"… and {len(problems) - 10} more")
    return "\n".join(lines)
