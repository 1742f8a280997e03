"""``segstudio-cli import-labelme SRC_DIR SAVE_DIR [--classes FILE] [--overwrite]``: labelme JSON to masks.

Images stay in SRC_DIR; masks (``<image stem>.png``), VOC XML and ``classes.txt`` go to SAVE_DIR, so
``segstudio SRC_DIR SAVE_DIR/classes.txt SAVE_DIR`` opens the result. Masks already in SAVE_DIR are
kept (and listed) unless --overwrite.
"""

from __future__ import annotations

import argparse
import sys


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "import-labelme",
        help="convert a folder of labelme JSON files into masks, VOC XML and classes.txt",
        description=__doc__.split("\n\n", 1)[1].strip(),
    )
    parser.add_argument("src_dir", metavar="SRC_DIR", help="folder with labelme *.json (and their images)")
    parser.add_argument("save_dir", metavar="SAVE_DIR", help="folder for the masks, XML and classes.txt")
    parser.add_argument(
        "--classes",
        metavar="FILE",
        help="class file fixing the indices (e.g. labelme's labels.txt); new labels are appended",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace masks that already exist in SAVE_DIR")
    return parser


def run(args: argparse.Namespace) -> int:
    from segstudio.core.classes import load_class_file
    from segstudio.core.labelme import import_labelme_folder

    classes = None
    if args.classes:
        classes, warnings = load_class_file(args.classes)
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)
    report = import_labelme_folder(args.src_dir, args.save_dir, classes, overwrite=args.overwrite)
    for warning in report.class_warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"{len(report.masks)} mask(s) written to {args.save_dir}")
    if report.images_written:
        print(f"{len(report.images_written)} image(s) written from embedded imageData")
    if report.added_classes:
        print("classes added: " + ", ".join(report.added_classes))
    print(f"classes: {report.class_file}")
    for line in report.skipped:
        print(f"skipped: {line}")
    for error in report.errors:
        print(f"segstudio-cli import-labelme: error: {error}", file=sys.stderr)
    return 1 if report.errors else 0
