"""``segstudio-cli predict MODEL IMAGE_DIR OUT_DIR``: write a palette PNG mask per image."""

from __future__ import annotations

import argparse
import sys
import time


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "predict", help="predict masks for a folder of images",
        description="Run a model on every image of IMAGE_DIR and write <stem>.png palette masks "
                    "(the model's class colours) into OUT_DIR.")
    parser.add_argument("model", help="model folder, checkpoint file, or variant name (b0..b5)")
    parser.add_argument("image_dir", help="folder of images")
    parser.add_argument("out_dir", help="folder for the masks (created)")
    parser.add_argument("--device", default="auto", help="auto, cuda, mps or cpu (default: auto)")
    parser.add_argument("--mode", choices=("whole", "slide"), default="whole",
                        help="whole image resized to the model size, or sliding tiles at native size")
    parser.add_argument("--tile", type=int, default=None, help="tile size in slide mode")
    return parser


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import numpy as np

    from segstudio.core.errors import ImageLoadError, SaveError
    from segstudio.core.images import list_images, load_image, without_masks
    from segstudio.core.masks import write_mask
    from segstudio.model.checkpoints import load_model
    from segstudio.model.predictor import Predictor

    image_dir, out_dir = Path(args.image_dir), Path(args.out_dir)
    if not image_dir.is_dir():
        raise ImageLoadError(f"image folder {image_dir} does not exist")
    try:
        model, info = load_model(args.model)
        predictor = Predictor(model, info, device=args.device, mode=args.mode, tile=args.tile)
    except ValueError as exc:  # bad --device
        print(f"segstudio-cli predict: error: {exc}", file=sys.stderr)
        return 2
    images = without_masks(list_images(image_dir))  # masks saved beside their photos are no input
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SaveError(f"cannot create {out_dir}: {exc.strerror or exc}") from exc
    colours = np.asarray(info.colours, np.uint8).reshape(-1, 3)
    print(f"{len(images)} images, model {info.variant or 'custom'} on {predictor.device}",
          file=sys.stderr)
    start, failed = time.perf_counter(), 0
    for i, path in enumerate(images, 1):
        try:
            labels = predictor.predict(load_image(path)).labels
        except ImageLoadError as exc:
            print(f"[{i}/{len(images)}] skipped: {exc}", file=sys.stderr)
            failed += 1
            continue
        write_mask(out_dir / f"{path.stem}.png", labels, colours)
        print(f"[{i}/{len(images)}] {path.name}", file=sys.stderr)
    print(f"done in {time.perf_counter() - start:.1f} s; masks in {out_dir}", file=sys.stderr)
    return 1 if failed else 0
