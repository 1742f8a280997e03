"""``segstudio-cli boxes-to-masks BOXES_DIR SAVE_DIR --images IMAGE_DIR``: labelImg boxes to masks.

Every labelImg/VOC XML and YOLO txt in BOXES_DIR becomes a mask in SAVE_DIR: each box filled with
its class, refined by GrabCut inside the box with --grabcut, or by a Segment Anything model with
--sam (the box is its prompt). Classes are mapped by name onto
SAVE_DIR/classes.txt (YOLO indices through --classes, default BOXES_DIR/classes.txt); boxes past
the image edge are clipped; broken or unsafe XML is reported and skipped. Existing masks are kept
and listed unless --overwrite. The project's lock is held for the whole run: a window open on
SAVE_DIR makes the command exit 1.
"""

from __future__ import annotations

import argparse

from segstudio.cli.options import help_text


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "boxes-to-masks",
        help="turn labelImg/VOC XML or YOLO box files into masks (filled or GrabCut)",
        description=help_text(__doc__),
    )
    parser.add_argument("boxes_dir", metavar="BOXES_DIR", help="folder of *.xml / *.txt box files")
    parser.add_argument("save_dir", metavar="SAVE_DIR", help="the project's save folder for masks and classes.txt")
    parser.add_argument("--images", metavar="IMAGE_DIR", required=True, help="folder of the images")
    parser.add_argument("--classes", metavar="FILE", help="YOLO class names (classes.txt or data.yaml)")
    parser.add_argument("--grabcut", action="store_true", help="refine each box with GrabCut instead of filling it")
    parser.add_argument("--sam", nargs="?", const="", default=None, metavar="MODEL_DIR",
                        help="find the object in each box with a Segment Anything model (a SAM / SAM 2 folder; "
                             "default: SAM 2.1 Hiera-tiny from the Hugging Face cache); needs segstudio[assist]")
    parser.add_argument("--overwrite", action="store_true", help="replace existing masks")
    return parser


def run(args: argparse.Namespace) -> int:
    from segstudio.cli.batch_output import print_report
    from segstudio.core import exclusive
    from segstudio.core.errors import OptionError
    from segstudio.core.formats.boxes import boxes_to_masks

    if args.grabcut and args.sam is not None:
        raise OptionError("choose --grabcut or --sam, not both")
    method = "grabcut" if args.grabcut else "fill"
    with exclusive.locked(args.save_dir, f"write into {args.save_dir}"):  # not while a window edits an image
        refine = _sam_refiner(args.sam) if args.sam is not None else None
        report = boxes_to_masks(args.boxes_dir, args.save_dir, args.images, args.classes, method, args.overwrite,
                                refine=refine)
    return print_report("boxes-to-masks", report, f"{len(report.written)} mask(s) written to {args.save_dir}")


def _sam_refiner(folder: str):
    """The boxes-to-masks refiner of a SAM model: every box of an image as a prompt, one embedding."""
    from pathlib import Path

    from segstudio.core.errors import CheckpointError
    from segstudio.model.sam import DEFAULT
    from segstudio.model.sam.box_masks import sam_refiner
    from segstudio.model.weights import hub_cache

    path = Path(folder) if folder else hub_cache.cached_snapshot(DEFAULT.hub_id)
    if path is None:
        raise CheckpointError(f"--sam needs a model: segstudio-cli fetch-model {DEFAULT.hub_id}, or --sam MODEL_DIR")
    return sam_refiner(path)
