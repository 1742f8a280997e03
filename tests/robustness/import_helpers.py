"""Helpers of the import robustness tests (not a test module): tiny datasets of each format, written
the way the tools that make them write them, and the command run as a user runs it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from segstudio.cli.main import main
from segstudio.core.masks import write_mask

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cli_helpers import photo  # noqa: E402
from core_hostile import call_with_timeout  # noqa: E402

SIZE = (10, 12)  # (height, width) of every photo


def mask(path: Path, value: int = 1) -> Path:
    """A mask file at ``path`` (folders made): :func:`label` of ``value``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_mask(path, label(value))
    return path


def label(value: int = 1) -> np.ndarray:
    """A mask of SIZE: ``value`` in the top-left 4×4 pixels."""
    mask = np.zeros(SIZE, np.uint8)
    mask[:4, :4] = value
    return mask


def voc(root: Path, stems=("a", "b"), names="background\ncat\n") -> Path:
    """A VOC segmentation folder (JPEGImages, SegmentationClass, class_names.txt)."""
    for stem in stems:
        photo(root / "JPEGImages" / f"{stem}.jpg", size=SIZE)
        mask(root / "SegmentationClass" / f"{stem}.png")
    (root / "class_names.txt").write_text(names)
    return root


def coco_document(stems=("a", "b"), names=("cat",)) -> dict:
    """A COCO document: one 4×4 square of category 1 per image."""
    images = [{"id": i, "file_name": f"{stem}.jpg", "width": SIZE[1], "height": SIZE[0]}
              for i, stem in enumerate(stems, start=1)]
    square = [0, 0, 4, 0, 4, 4, 0, 4]
    notes = [{"id": i, "image_id": i, "category_id": 1, "segmentation": [square], "area": 16, "iscrowd": 0}
             for i in range(1, len(stems) + 1)]
    categories = [{"id": i, "name": name} for i, name in enumerate(names, start=1)]
    return {"images": images, "annotations": notes, "categories": categories}


def coco(root: Path, document: dict | None = None, stems=("a", "b")) -> Path:
    """``root/annotations.json`` and its photos beside it; returns the JSON's path."""
    for stem in stems:
        photo(root / f"{stem}.jpg", size=SIZE)
    path = root / "annotations.json"
    path.write_text(json.dumps(document if document is not None else coco_document(stems)))
    return path


def yolo(root: Path, stems=("a", "b"), names_yaml="names:\n  0: cat\n", line="0 0 0 0.3 0 0.3 0.4 0 0.4\n") -> Path:
    """An Ultralytics folder: images/, labels/ and data.yaml (None: no data.yaml)."""
    for stem in stems:
        photo(root / "images" / f"{stem}.jpg", size=SIZE)
        (root / "labels").mkdir(parents=True, exist_ok=True)
        (root / "labels" / f"{stem}.txt").write_text(line)
    if names_yaml is not None:
        (root / "data.yaml").write_text(names_yaml)
    return root


def hf(root: Path, stems=("a", "b"), id2label=None) -> Path:
    """A Hugging Face image folder of pairs (train split) with id2label.json."""
    rows = []
    for stem in stems:
        photo(root / "train" / "images" / f"{stem}.jpg", size=SIZE)
        mask(root / "train" / "masks" / f"{stem}.png")
        rows.append(json.dumps({"file_name": f"images/{stem}.jpg", "mask_file_name": f"masks/{stem}.png"}))
    (root / "train" / "metadata.jsonl").write_text("".join(f"{row}\n" for row in rows))
    (root / "id2label.json").write_text(json.dumps({"0": "background", "1": "cat"} if id2label is None else id2label))
    return root


def boxes(root: Path, stems=("a", "b"), name="cat") -> tuple[Path, Path]:
    """(boxes folder of labelImg XML, images folder)."""
    (root / "boxes").mkdir(parents=True, exist_ok=True)
    for stem in stems:
        photo(root / "images" / f"{stem}.jpg", size=SIZE)
        (root / "boxes" / f"{stem}.xml").write_text(box_xml(f"{stem}.jpg", [(name, 1, 1, 4, 4)]))
    return root / "boxes", root / "images"


def box_xml(filename: str, objects) -> str:
    """labelImg's XML with ``objects`` = [(name, xmin, ymin, xmax, ymax)]."""
    items = "".join(
        f"<object><name>{name}</name><pose>Unspecified</pose><truncated>0</truncated><difficult>0</difficult>"
        f"<bndbox><xmin>{x0}</xmin><ymin>{y0}</ymin><xmax>{x1}</xmax><ymax>{y1}</ymax></bndbox></object>"
        for name, x0, y0, x1, y1 in objects
    )
    return (f"<annotation><folder>images</folder><filename>{filename}</filename><size><width>{SIZE[1]}</width>"
            f"<height>{SIZE[0]}</height><depth>3</depth></size><segmented>0</segmented>{items}</annotation>")


def run_cli(args: list[str], capsys, fifo: Path | None = None) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``segstudio-cli ARGS``; fails the test if it hangs."""
    kind, status = call_with_timeout(lambda: main([str(a) for a in args]), fifo=fifo)
    captured = capsys.readouterr()
    assert kind == "ok", (status, captured.err)
    assert "Traceback" not in captured.err, captured.err
    return status, captured.out, captured.err


def error_lines(err: str) -> list[str]:
    """The ``error:`` lines of stderr."""
    return [line for line in err.splitlines() if "error:" in line]

