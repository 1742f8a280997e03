"""``segstudio-cli export {voc,coco,yolo,hf} SAVE_DIR OUT --images IMAGE_DIR``: datasets for other tools.

Exports every labelled image of the project (images in IMAGE_DIR, masks and classes.txt in
SAVE_DIR) to OUT, which must lie outside the project and be empty unless --overwrite is given.
voc: Pascal VOC segmentation folder; coco: COCO JSON (polygons, or RLE with --rle); yolo:
Ultralytics segmentation labels and data.yaml; hf: Hugging Face image folder of image/mask pairs.
"""

from __future__ import annotations

import argparse

from segstudio.cli.options import help_text
from segstudio.core.words import count

FORMATS = ("voc", "coco", "yolo", "hf")


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "export",
        help="export the labelled images as a VOC, COCO, YOLO or Hugging Face dataset",
        description=help_text(__doc__),
    )
    parser.add_argument("format", choices=FORMATS, help="dataset format")
    parser.add_argument("save_dir", metavar="SAVE_DIR", help="the project's save folder (masks, classes.txt)")
    parser.add_argument("out", metavar="OUT", help="folder to write the dataset to (outside the project)")
    parser.add_argument("--images", metavar="IMAGE_DIR", help="the project's image folder (default: SAVE_DIR)")
    parser.add_argument("--rle", action="store_true", help="coco: masks as RLE (exact) instead of polygons")
    parser.add_argument("--val", type=float, default=0.0, metavar="FRACTION",
                        help="share of images for validation (e.g. 0.2)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the train/val draw (default 0)")
    parser.add_argument(
        "--simplify", type=float, default=0.0, metavar="PX",
        help="coco/yolo polygons: drop vertices within PX pixels of the outline (default 0: exact)",
    )
    parser.add_argument("--overwrite", action="store_true",
                        help="write into a non-empty OUT (files there are replaced)")
    return parser


def run(args: argparse.Namespace) -> int:
    from segstudio.application.dataset_jobs import ExportOptions, run_export
    from segstudio.cli.batch_output import print_report

    options = ExportOptions(val=args.val, seed=args.seed, rle=args.rle, simplify=args.simplify,
                            overwrite=args.overwrite)
    report = run_export(args.format, args.save_dir, args.images or args.save_dir, args.out, options)
    done = count(report.done, "labelled image")
    return print_report("export", report, f"{done} exported as {args.format} to {args.out}")
