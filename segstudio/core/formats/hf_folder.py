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
from ..safe_read import SMALL_JSON_LIMIT, read_json, read_text
from ..words import not_a_folder
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


def _names(src: Path) -> list[object]:
    """id2label's names in index order (a name that cannot be a class keeps its index and is
    refused where a mask uses it)."""
    path = src / ID2LABEL
    data = read_json(path, SMALL_JSON_LIMIT, AnnotationFormatError, "id2label file", expect=dict)
    try:
        pairs = sorted((int(key), value) for key, value in data.items())
    except ValueError as exc:
        raise AnnotationFormatError(f"{path}: keys must be class indices \"0\", \"1\" ...") from exc
    if not pairs or [index for index, _ in pairs] != list(range(len(pairs))):
        raise AnnotationFormatError(f"{path}: indices must be 0, 1, 2 ... without gaps")
    return [name for _, name in pairs]


Row = tuple[Path, object, str]  # split folder, the JSON value of one metadata line, "file:line"


def _rows(src: Path) -> list[Row]:
    """The metadata rows of every split, in file order (each checked when it is imported)."""
    rows: list[Row] = []
    for folder in sorted(p for p in src.iterdir() if p.is_dir()):
        metadata = folder / "metadata.jsonl"
        if not os.path.lexists(metadata):
            continue
        text = read_text(metadata, MAX_METADATA_BYTES, AnnotationFormatError, "metadata file")
        for number, line in enumerate(text.split("\n"), start=1):  # JSON strings may hold U+2028
            if line.strip():
                rows.append((folder, _json_row(line), f"{metadata}:{number}"))
    return rows


def _json_row(line: str) -> object:
    try:
        return json.loads(line)
    except (ValueError, RecursionError):
        return None


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
        raise AnnotationFormatError(not_a_folder(src))
    names = _names(src)
    target = ImportTarget(save_dir, overwrite, names, str(src / ID2LABEL))

    def one(item: Row) -> None:
        folder, row, line = item
        if not isinstance(row, dict) or not isinstance(row.get("file_name"), str) \
                or not isinstance(row.get("mask_file_name"), str):
            raise AnnotationFormatError(f"{line}: a row must be a JSON object with file_name and mask_file_name")
        image_name, mask_name = row["file_name"], row["mask_file_name"]
        where = f"{line}: {image_name}"
        stem = plain_stem(image_name, where)
        image_path = relative_inside(folder, image_name, where)
        mask_path = relative_inside(folder, mask_name, where)
        if target.should_skip(stem, image_path):
            return
        label = target.remap(read_mask(mask_path), names, str(mask_path))
        target.write(stem, label, image_path, where)

    run_batch(_rows(src), one, target.report, on_progress, should_stop)
    return target.finish()
