"""A Hugging Face ``datasets`` image folder of (image, mask) pairs.

Layout: ``<split>/images/<stem>.<ext>``, ``<split>/masks/<stem>.png`` (palette PNG, value = class
index, 255 = ignore) and ``<split>/metadata.jsonl`` with one row per pair,
``{"file_name": "images/a.jpg", "mask_file_name": "masks/a.png"}``, for splits ``train`` and
``validation``. ``file_name`` is the image column of the ``imagefolder`` builder, and recent
``datasets`` versions read every ``*_file_name`` column as another image, so
``load_dataset("imagefolder", data_dir=OUT)`` yields ``image`` and ``mask``. ``id2label.json`` at
the top (``{"0": "background", ...}``) is what ``transformers`` segmentation models take.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..atomic import atomic_write_text
from ..batch import BatchReport, Progress, StopFlag, run_batch
from ..errors import AnnotationFormatError
from ..masks import read_mask, write_mask
from ..project import ImageEntry
from .export_target import ExportSource, export_image, out_folder, split_entries
from .import_target import ImportTarget, plain_stem, relative_inside

SPLITS = ("train", "validation")
ID2LABEL = "id2label.json"
MAX_METADATA_BYTES = 256 * 1024 * 1024


def export_hf(
    source: ExportSource,
    out: str | os.PathLike,
    val: float = 0.0,
    seed: int = 0,
    overwrite: bool = False,
    on_progress: Progress | None = None,
    should_stop: StopFlag | None = None,
) -> BatchReport:
    """Write the labelled images of ``source`` as an image folder of pairs at ``out``."""
    root = source.out_root(out, overwrite)
    train, validation = split_entries(source.entries, val, seed)
    split_of = {e.stem: SPLITS[0] for e in train} | {e.stem: SPLITS[1] for e in validation}
    rows: dict[str, list[str]] = {split: [] for split in SPLITS}
    folders = {(split, kind): out_folder(root, split, kind)
               for split in set(split_of.values()) for kind in ("images", "masks")}
    report = BatchReport()

    def one(entry: ImageEntry) -> None:
        label = source.mask(entry)
        split = split_of[entry.stem]
        name = export_image(entry.image_path, folders[split, "images"], entry.stem)
        mask_path = folders[split, "masks"] / f"{entry.stem}.png"
        write_mask(mask_path, label)
        row = {"file_name": f"images/{name}", "mask_file_name": f"masks/{entry.stem}.png"}
        rows[split].append(json.dumps(row, ensure_ascii=False))
        report.written.append(mask_path)

    run_batch(source.entries, one, report, on_progress, should_stop)
    for split, lines in rows.items():
        if lines:
            atomic_write_text(root / split / "metadata.jsonl", "".join(f"{line}\n" for line in lines))
    id2label = {str(index): name for index, name in enumerate(source.classes.names)}
    atomic_write_text(root / ID2LABEL, json.dumps(id2label, indent=2, ensure_ascii=False) + "\n")
    return report


def _names(src: Path) -> list[str]:
    path = src / ID2LABEL
    try:
        data = json.loads(path.read_text("utf-8"))
        pairs = sorted((int(key), str(value)) for key, value in data.items())
    except FileNotFoundError as exc:
        raise AnnotationFormatError(f"{src}: no {ID2LABEL} naming the classes") from exc
    except (OSError, ValueError, TypeError, AttributeError, RecursionError) as exc:
        raise AnnotationFormatError(f"{path}: not a {{\"index\": \"name\"}} JSON object ({exc})") from exc
    if [index for index, _ in pairs] != list(range(len(pairs))):
        raise AnnotationFormatError(f"{path}: indices must be 0, 1, 2 ... without gaps")
    return [name for _, name in pairs]


def _rows(src: Path) -> list[tuple[Path, dict]]:
    """(split folder, metadata row) of every split, in file order."""
    rows = []
    for folder in sorted(p for p in src.iterdir() if p.is_dir()):
        metadata = folder / "metadata.jsonl"
        if not metadata.is_file():
            continue
        if metadata.stat().st_size > MAX_METADATA_BYTES:
            raise AnnotationFormatError(f"{metadata}: too large")
        for number, line in enumerate(metadata.read_text("utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    row = json.loads(line)
                except (ValueError, RecursionError):
                    row = None
                rows.append((folder, row if isinstance(row, dict) else {"_line": f"{metadata}:{number}"}))
    return rows


def import_hf(
    src: str | os.PathLike,
    save_dir: str | os.PathLike,
    overwrite: bool = False,
    on_progress: Progress | None = None,
    should_stop: StopFlag | None = None,
) -> BatchReport:
    """Import an image folder of pairs (as :func:`export_hf` writes it) into ``save_dir``."""
    src = Path(src)
    if not src.is_dir():
        raise AnnotationFormatError(f"not a folder: {src}")
    names = _names(src)
    target = ImportTarget(save_dir, overwrite, names)

    def one(item: tuple[Path, dict]) -> None:
        folder, row = item
        image_name, mask_name = row.get("file_name"), row.get("mask_file_name")
        if not isinstance(image_name, str) or not isinstance(mask_name, str):
            where = row.get("_line", folder / "metadata.jsonl")
            raise AnnotationFormatError(f"{where}: a row needs file_name and mask_file_name")
        where = f"{folder / 'metadata.jsonl'}: {image_name}"
        stem = plain_stem(image_name, where)
        image_path = relative_inside(folder, image_name, where)
        mask_path = relative_inside(folder, mask_name, where)
        if target.should_skip(stem, image_path):
            return
        label = target.remap(read_mask(mask_path), names, str(mask_path))
        target.write(stem, label, image_path, where)

    run_batch(_rows(src), one, target.report, on_progress, should_stop)
    return target.finish()
