"""``segstudio-cli import {voc,coco,yolo,hf} SRC SAVE_DIR``: masks from another tool's dataset.

SRC is a VOC segmentation folder (JPEGImages, SegmentationClass, class_names.txt), a COCO JSON
file (polygons or RLE; images in --images, default the JSON's folder or ../images), a YOLO
segmentation folder (data.yaml or classes.txt) or a Hugging Face image folder as `export hf`
writes it. Masks (<image stem>.png), VOC XML and classes.txt go to SAVE_DIR; images stay where
they are. Existing masks are kept and listed unless --overwrite; classes.txt is only extended and
imported labels take the existing index of their name. The project's lock is held for the whole
run: a window open on SAVE_DIR (which could add a class meanwhile) makes the command exit 1.
"""

from __future__ import annotations

import argparse

from segstudio.cli.options import help_text

FORMATS = ("voc", "coco", "yolo", "hf")


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "import",
        help="import masks from a VOC, COCO, YOLO or Hugging Face dataset into a save folder",
        description=help_text(__doc__),
    )
    parser.add_argument("format", choices=FORMATS, help="dataset format")
    parser.add_argument("src", metavar="SRC", help="dataset folder (coco: the JSON file)")
    parser.add_argument("save_dir", metavar="SAVE_DIR", help="the project's save folder for masks and classes.txt")
    parser.add_argument("--images", metavar="IMAGE_DIR", help="coco: folder of the images")
    parser.add_argument("--classes", metavar="FILE", help="voc: class names file; yolo: data.yaml or classes.txt")
    parser.add_argument("--overwrite", action="store_true", help="replace existing masks")
    return parser


def run(args: argparse.Namespace) -> int:
    from segstudio.application.dataset_jobs import run_import
    from segstudio.cli.batch_output import print_report
    from segstudio.core import exclusive
    from segstudio.core.errors import SegStudioError

    if args.images and args.format != "coco":
        raise SegStudioError("--images applies to the coco format only")
    if args.classes and args.format not in ("voc", "yolo"):
        raise SegStudioError("--classes applies to the voc and yolo formats only")
    with exclusive.locked(args.save_dir, f"write into {args.save_dir}"):  # not while a window edits an image
        report = run_import(args.format, args.src, args.save_dir, args.images, args.classes, args.overwrite)
    return print_report("import", report, f"{len(report.written)} mask(s) written to {args.save_dir}")
