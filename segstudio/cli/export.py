"""``segstudio-cli export {voc,coco,yolo,hf} SAVE_DIR OUT --images IMAGE_DIR``: datasets for other tools.

Exports every labelled image of the project (images in IMAGE_DIR, masks and classes.txt in
SAVE_DIR) to OUT, which must lie outside the project and be empty unless --overwrite is given.
voc: Pascal VOC segmentation folder; coco: COCO JSON (polygons, or RLE with --rle); yolo:
Ultralytics segmentation labels and data.yaml; hf: Hugging Face image folder of image/mask pairs.
"""

from __future__ import annotations

import argparse

FORMATS = ("voc", "coco", "yolo", "hf")


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "export",
        help="export the labelled images as a VOC, COCO, YOLO or Hugging Face dataset",
        description=__doc__.split("\n\n", 1)[1].strip(),
    )
    parser.add_argument("format", choices=FORMATS, help="dataset format")
    parser.add_argument("save_dir", metavar="SAVE_DIR", help="the project's save folder (masks, classes.txt)")
    parser.add_argument("out", metavar="OUT", help="folder to write the dataset to (outside the project)")
    parser.add_argument("--images", metavar="IMAGE_DIR", help="the project's image folder (default: SAVE_DIR)")
    parser.add_argument("--rle", action="store_true", help="coco: masks as RLE (exact) instead of polygons")
    parser.add_argument("--val", type=float, default=0.0, metavar="FRACTION", help="share of images for validation (e.g. 0.2)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the train/val draw (default 0)")
    parser.add_argument(
        "--simplify", type=float, default=0.0, metavar="PX",
        help="coco/yolo polygons: drop vertices within PX pixels of the outline (default 0: exact)",
    )
    parser.add_argument("--overwrite", action="store_true", help="write into a non-empty OUT (files there are replaced)")
    return parser


def run(args: argparse.Namespace) -> int:
    from segstudio.cli.batch_output import print_report
    from segstudio.core.errors import SegStudioError
    from segstudio.core.formats import coco, hf_folder, voc_folder, yolo
    from segstudio.core.formats.export_target import export_source

    if args.rle and args.format != "coco":
        raise SegStudioError("--rle applies to the coco format only")
    if args.simplify < 0:
        raise SegStudioError("--simplify must be 0 or more pixels")
    source = export_source(args.save_dir, args.images or args.save_dir)
    if not source.entries:
        raise SegStudioError(f"no labelled images: no mask in {args.save_dir} matches an image of {args.images or args.save_dir}")
    common = {"val": args.val, "seed": args.seed, "overwrite": args.overwrite}
    if args.format == "voc":
        report = voc_folder.export_voc(source, args.out, **common)
    elif args.format == "coco":
        report = coco.export_coco(source, args.out, use_rle=args.rle, simplify=args.simplify, **common)
    elif args.format == "yolo":
        report = yolo.export_yolo(source, args.out, simplify=args.simplify, **common)
    else:
        report = hf_folder.export_hf(source, args.out, **common)
    exported = len(source.entries) - len(report.errors)
    return print_report("export", report, f"{exported} labelled image(s) exported as {args.format} to {args.out}")
