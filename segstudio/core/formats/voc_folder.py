"""Pascal VOC segmentation folders, the layout of VOC2012 and of labelme's ``labelme2voc``.

Export writes ``JPEGImages/<stem>.jpg``, ``SegmentationClass/<stem>.png`` (palette PNG, VOC colour
map, value = class index, 255 = ignore), ``SegmentationClassVisualization/<stem>.jpg`` (the
classes over the photo), ``ImageSets/Segmentation/{train,val,trainval}.txt`` and
``class_names.txt`` (line = index). Import reads the same layout into a project's save folder;
without ``class_names.txt`` (or a class file given) the 21 Pascal VOC names are assumed.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image

from ..atomic import atomic_write_bytes, atomic_write_text
from ..batch import BatchReport, Progress, StopFlag, run_batch
from ..classes import ClassList
from ..errors import AnnotationFormatError
from ..images import load_image, natural_key
from ..import_classes import read_name_lines
from ..masks import read_mask, write_mask
from ..overlay import colour_lut, colourize
from ..project import ImageEntry
from .export_target import ExportSource, export_image, out_folder, split_entries
from .import_target import ImportTarget, image_for_stem

CLASS_NAMES = "class_names.txt"


def _visualization(image: np.ndarray, label: np.ndarray) -> bytes:
    """JPEG of the photo with the classes blended over it (background left as is)."""
    rgba = colourize(label, colour_lut(ClassList(["background"]).colour_table(), opacity=0.5))
    alpha = rgba[:, :, 3:4].astype(np.float32) / 255.0
    blended = image.astype(np.float32) * (1 - alpha) + rgba[:, :, :3].astype(np.float32) * alpha
    buffer = io.BytesIO()
    Image.fromarray(blended.astype(np.uint8)).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def export_voc(
    source: ExportSource,
    out: str | os.PathLike,
    val: float = 0.0,
    seed: int = 0,
    overwrite: bool = False,
    on_progress: Progress | None = None,
    should_stop: StopFlag | None = None,
) -> BatchReport:
    """Write the labelled images of ``source`` as a VOC segmentation folder at ``out``."""
    root = source.out_root(out, overwrite)
    folders = {name: out_folder(root, name)
               for name in ("JPEGImages", "SegmentationClass", "SegmentationClassVisualization")}
    sets = out_folder(root, "ImageSets", "Segmentation")
    report = BatchReport()
    done: list[ImageEntry] = []

    def one(entry: ImageEntry) -> None:
        label = source.mask(entry)
        export_image(entry.image_path, folders["JPEGImages"], entry.stem, jpeg=True)
        write_mask(folders["SegmentationClass"] / f"{entry.stem}.png", label)
        visual = _visualization(load_image(entry.image_path), label)
        atomic_write_bytes(folders["SegmentationClassVisualization"] / f"{entry.stem}.jpg", visual)
        report.written.append(folders["SegmentationClass"] / f"{entry.stem}.png")
        done.append(entry)

    run_batch(source.entries, one, report, on_progress, should_stop)
    train, validation = split_entries(done, val, seed)
    for name, part in (("train", train), ("val", validation), ("trainval", done)):
        atomic_write_text(sets / f"{name}.txt", "".join(f"{e.stem}\n" for e in part))
    atomic_write_text(root / CLASS_NAMES, "".join(f"{name}\n" for name in source.classes.names))
    return report


def _class_names(src: Path, class_file: str | os.PathLike | None, report: BatchReport) -> list[str]:
    """The dataset's names, line = mask value (a line that cannot be a class keeps its place and
    is refused where a mask uses its value)."""
    path = Path(class_file) if class_file is not None else src / CLASS_NAMES
    if class_file is not None or os.path.lexists(path):  # a pipe or a folder there is named, not skipped
        return read_name_lines(path, "VOC class file")
    report.warnings.append(f"no {CLASS_NAMES} in {src}: the 21 Pascal VOC class names are assumed")
    return ClassList.default().names


def import_voc(
    src: str | os.PathLike,
    save_dir: str | os.PathLike,
    class_file: str | os.PathLike | None = None,
    overwrite: bool = False,
    on_progress: Progress | None = None,
    should_stop: StopFlag | None = None,
) -> BatchReport:
    """Import ``src/SegmentationClass/*.png`` (images in ``src/JPEGImages``) into ``save_dir``."""
    src = Path(src)
    masks_dir, images_dir = src / "SegmentationClass", src / "JPEGImages"
    if not masks_dir.is_dir():
        raise AnnotationFormatError(f"{src} is not a VOC segmentation folder (no SegmentationClass/)")
    warnings = BatchReport()
    names = _class_names(src, class_file, warnings)
    target = ImportTarget(save_dir, overwrite, names, str(Path(class_file) if class_file else src / CLASS_NAMES))
    target.report.warnings.extend(warnings.warnings)
    files = sorted((p for p in masks_dir.glob("*.png") if not p.name.startswith(".")),
                   key=lambda p: natural_key(p.name))

    def one(mask_path: Path) -> None:
        image_path = image_for_stem(images_dir, mask_path.stem)
        if image_path is None:
            raise AnnotationFormatError(f"{mask_path}: no image {mask_path.stem}.* in {images_dir}")
        if target.should_skip(mask_path.stem, image_path):
            return
        label = target.remap(read_mask(mask_path), names, str(mask_path))
        target.write(mask_path.stem, label, image_path, str(mask_path))

    run_batch(files, one, target.report, on_progress, should_stop)
    return target.finish()
