"""``segstudio-cli evaluate GT_DIR PRED_DIR --classes FILE [--json]``: score predicted masks.

Masks are matched by file stem (``GT_DIR/<stem>.png`` against ``PRED_DIR/<stem>.png``); one confusion
matrix is summed over all of them. With ``--model MODEL --images IMAGE_DIR`` instead of PRED_DIR, the
model predicts the images first. Prints per-class IoU, accuracy, Dice and pixel count, then mIoU,
pixel accuracy and frequency-weighted IoU; ``--json`` prints the same as JSON. A model's classes
are matched to the class file by name (a line warns about those that do not match). A missing or
unreadable mask or image is skipped and named; the rest is scored and the exit status is then 1.
The class file must agree with the masks: it is refused when GT_DIR records (in
``.segstudio/project.json``) that its masks were written with a list whose indices name other
classes, or when a mask holds a value the file does not name (its pixels would drop out unseen).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path

from segstudio.cli.options import MODEL_HELP, PRECISION_HELP, help_text
from segstudio.core.words import not_a_folder


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "evaluate",
        help="per-class IoU, accuracy and Dice of predicted masks against ground truth",
        description=help_text(__doc__),
    )
    parser.add_argument("gt_dir", metavar="GT_DIR", help="folder of ground-truth masks (<stem>.png)")
    parser.add_argument("pred_dir", metavar="PRED_DIR", nargs="?", help="folder of predicted masks")
    parser.add_argument("--classes", metavar="FILE", required=True, help="class file (classes.txt)")
    parser.add_argument("--model", metavar="MODEL", help="the model to predict with: " + MODEL_HELP)
    parser.add_argument("--images", metavar="IMAGE_DIR", help="images to predict (with --model)")
    parser.add_argument("--device", default="auto", help="auto, cuda, mps or cpu (with --model)")
    parser.add_argument("--no-amp", dest="amp", action="store_false", help=PRECISION_HELP + " (with --model)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser


def _score_folders(gt_dir: Path, pred_dir: Path, num_classes: int, skip: Callable[[str], None],
                   class_file: str):
    """Confusion over the masks of both folders; a missing, unreadable or mis-sized one is skipped,
    a ground truth holding a value the class file does not name ends it (ClassFileError)."""
    from segstudio.core.errors import MaskError
    from segstudio.core.images import natural_key
    from segstudio.core.masks import check_class_file_covers, read_mask
    from segstudio.core.metrics import ConfusionMatrix

    for folder in (gt_dir, pred_dir):
        if not folder.is_dir():
            raise MaskError(not_a_folder(folder))
    gt_files = sorted((p for p in gt_dir.iterdir() if p.suffix.lower() == ".png"), key=lambda p: natural_key(p.name))
    if not gt_files:
        raise MaskError(f"no ground-truth masks (*.png) in {gt_dir}")
    matrix = ConfusionMatrix(num_classes)
    scored = 0
    for gt_path in gt_files:
        pred_path = pred_dir / gt_path.name
        try:
            if not pred_path.is_file():
                raise MaskError(f"no prediction for {gt_path}: {pred_path} is missing")
            gt, pred = read_mask(gt_path), read_mask(pred_path)
            check_class_file_covers(gt, class_file, num_classes, gt_path)  # raised, not skipped
            if gt.shape != pred.shape:
                raise MaskError(f"{pred_path} is {pred.shape[1]}×{pred.shape[0]} but {gt_path} is "
                                f"{gt.shape[1]}×{gt.shape[0]}")
        except MaskError as exc:
            skip(f"skipped {gt_path.name}: {exc}")
            continue
        matrix.update(gt, pred)
        scored += 1
    if not scored:
        raise MaskError(f"none of the {len(gt_files)} mask(s) of {gt_dir} could be scored")
    return matrix.compute(), scored


def check_recorded_classes(gt_dir: Path, names: list[str], class_file: str) -> None:
    """ClassFileError when ``gt_dir`` records (``.segstudio/project.json``) that its masks were
    written with a class list in which an index names another class than ``names`` does: every
    score would be reported under the wrong name. A list that is shorter or longer but agrees
    index by index is accepted (values the file lacks are refused per mask)."""
    from segstudio.core.errors import ClassFileError
    from segstudio.core.project_file import (
        CHANGED,
        compare_class_lists,
        describe_change,
        read_settings,
        recorded_class_names,
        settings_path,
    )

    recorded = recorded_class_names(read_settings(gt_dir)[0])
    if recorded is None or compare_class_lists(recorded[: len(names)], names) != CHANGED:
        return
    raise ClassFileError(f"the class file {class_file} contradicts the class list the masks of {gt_dir} "
                         f"were written with (recorded in {settings_path(gt_dir)}): "
                         f"{describe_change(recorded, names)}; give the class file of those masks")


def _score_model(args: argparse.Namespace, classes, skip: Callable[[str], None]):
    from segstudio.core.errors import SegStudioError

    try:
        from segstudio.model.evaluation import predict_and_score
    except ImportError as exc:
        raise SegStudioError(f"evaluation with --model is unavailable in this installation ({exc})") from exc
    from .fetch_model import resolve_model
    from .options import check_device

    check_device(args.device)
    from segstudio.core.class_mapping import aliases_from_settings
    from segstudio.core.project_file import read_settings

    # GT_DIR is usually a project's save folder: its class aliases apply here as in the window.
    aliases = aliases_from_settings(read_settings(args.gt_dir)[0].get("class_aliases"))
    try:
        result = predict_and_score(resolve_model(args.model), args.images, args.gt_dir, classes, device=args.device,
                                   amp=args.amp,
                                   on_warning=lambda w: print(f"warning: {w}", file=sys.stderr),
                                   on_skip=skip, aliases=aliases, class_file=args.classes,
                                   on_note=lambda n: print(f"note: {n}", file=sys.stderr))
    except ImportError as exc:  # a model dependency missing from this installation
        raise SegStudioError(f"evaluation with --model is unavailable in this installation ({exc})") from exc
    metrics, count = result
    return metrics, count


def _cell(value: float) -> str:
    return "—" if value is None or math.isnan(value) else f"{100 * value:6.2f}"


def _table(metrics, names: list[str], count: int | None) -> str:
    width = max(12, *(len(n) for n in names)) + 2
    lines = [f"{'class':<{width}}{'IoU %':>8}{'Acc %':>8}{'Dice %':>8}{'pixels':>12}"]
    for i, name in enumerate(names):
        lines.append(
            f"{name:<{width}}{_cell(metrics.iou[i]):>8}{_cell(metrics.accuracy[i]):>8}"
            f"{_cell(metrics.dice[i]):>8}{int(metrics.gt_pixels[i]):>12}"
        )
    lines.append("")
    if count is not None:
        lines.append(f"{'images':<{width}}{count:>8}")
    lines.append(f"{'mIoU':<{width}}{_cell(metrics.miou):>8}")
    lines.append(f"{'pixel acc':<{width}}{_cell(metrics.pixel_accuracy):>8}")
    lines.append(f"{'fwIoU':<{width}}{_cell(metrics.fw_iou):>8}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from segstudio.core.classes import load_class_file
    from segstudio.core.errors import SegStudioError

    if args.model or args.images:
        if not (args.model and args.images) or args.pred_dir:
            raise SegStudioError("use either PRED_DIR, or --model MODEL with --images IMAGE_DIR")
    elif not args.pred_dir:
        raise SegStudioError("give PRED_DIR, or --model MODEL with --images IMAGE_DIR")
    classes, warnings = load_class_file(args.classes)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    check_recorded_classes(Path(args.gt_dir), list(classes.names), args.classes)
    skipped: list[str] = []

    def skip(line: str) -> None:
        skipped.append(line)
        print(line, file=sys.stderr)

    if args.model:
        metrics, count = _score_model(args, classes, skip)
    else:
        metrics, count = _score_folders(Path(args.gt_dir), Path(args.pred_dir), len(classes), skip, args.classes)
    names = [classes.name_of(i) for i in range(metrics.num_classes)]
    if args.json:
        data = metrics.to_dict(names)
        if count is not None:
            data["images"] = count
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print(_table(metrics, names, count))
    return 1 if skipped else 0
