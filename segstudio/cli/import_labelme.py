"""``segstudio-cli import-labelme SRC_DIR SAVE_DIR [--classes FILE] [--overwrite]``: labelme JSON to masks.

Images stay in SRC_DIR; masks (``<image stem>.png``), VOC XML and ``classes.txt`` go to SAVE_DIR, so
``segstudio SRC_DIR SAVE_DIR/classes.txt SAVE_DIR`` opens the result. Importing into an existing
project keeps it intact: its classes.txt is only extended (new labels appended, never reordered,
so its masks keep their meaning; labels map onto its indices by name), and an image that already
has a mask or XML there is kept and named, unless --overwrite (a read-only one is kept even then).
Exit status 0 when every JSON was imported or kept, 1 when some could not be read (each named; the
others are still imported). The project's lock is held for the whole run.
"""

from __future__ import annotations

import argparse
import sys

from segstudio.cli.options import help_text


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "import-labelme",
        help="convert a folder of labelme JSON files into masks, VOC XML and classes.txt",
        description=help_text(__doc__),
    )
    parser.add_argument("src_dir", metavar="SRC_DIR", help="folder with labelme *.json (and their images)")
    parser.add_argument("save_dir", metavar="SAVE_DIR", help="folder for the masks, XML and classes.txt")
    parser.add_argument(
        "--classes",
        metavar="FILE",
        help="class file seeding the indices of a new project (e.g. labelme's labels.txt); "
             "an existing SAVE_DIR/classes.txt keeps its order and only gains the missing names",
    )
    parser.add_argument("--overwrite", action="store_true",
                        help="replace masks and XML that already exist in SAVE_DIR")
    return parser


def run(args: argparse.Namespace) -> int:
    from segstudio.core import exclusive
    from segstudio.core.classes import load_class_file
    from segstudio.core.labelme import import_labelme_folder

    classes = None
    if args.classes:
        classes, warnings = load_class_file(args.classes)
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)
    with exclusive.locked(args.save_dir, f"write into {args.save_dir}"):  # not while a window edits an image
        report = import_labelme_folder(args.src_dir, args.save_dir, classes, overwrite=args.overwrite)
    for warning in report.class_warnings:
        print(f"warning: {warning}", file=sys.stderr)
    why = "it is read-only" if args.overwrite else "it exists (--overwrite replaces it)"  # all --overwrite keeps
    for path in report.kept:
        print(f"kept {path}: {why}", file=sys.stderr)
    print(f"{len(report.masks)} mask(s) written to {args.save_dir}"
          + (f"; {len(report.kept)} existing kept" if report.kept else ""))
    if report.images_written:
        print(f"{len(report.images_written)} image(s) written from embedded imageData")
    if report.added_classes:
        print("classes added: " + ", ".join(report.added_classes))
    print(f"classes: {report.class_file}")
    for error in report.errors:
        print(f"segstudio-cli import-labelme: error: {error}", file=sys.stderr)
    return 1 if report.errors else 0
