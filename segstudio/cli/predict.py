"""``segstudio-cli predict MODEL IMAGE_DIR OUT_DIR``: write a palette PNG mask per image.

Predictions never replace a user's file silently. OUT_DIR may not be the image folder, nor hold a
file that a prediction would replace, unless ``--overwrite`` is given; even then a file that is
one of the images being predicted (``photo.png`` when OUT_DIR is the image folder) is never
written over: that image is skipped and named. An image that cannot be read is skipped and named
too; the rest is predicted and the exit status is 1 when anything was skipped, else 0.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from segstudio.cli.options import MODEL_HELP, PRECISION_HELP, help_text
from segstudio.core.words import count


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "predict", help="predict masks for a folder of images",
        description=help_text(__doc__))
    parser.add_argument("model", help=MODEL_HELP)
    parser.add_argument("image_dir", help="folder of images")
    parser.add_argument("out_dir", help="folder for the masks (created)")
    parser.add_argument("--device", default="auto", help="auto, cuda, mps or cpu (default: auto)")
    parser.add_argument("--mode", choices=("whole", "slide"), default=None,
                        help="whole image resized to the model size, or sliding tiles at native size "
                             "(default: a public checkpoint's recipe, else whole)")
    parser.add_argument("--tile", type=int, default=None, help="tile size in slide mode")
    parser.add_argument("--scale", default=None, metavar="native|N",
                        help="whole mode: 'native' runs the image at its own size, N resizes its long side to N "
                             "(default: a public checkpoint's recipe, else the model's training size)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace files already in OUT_DIR (never the images being predicted)")
    parser.add_argument("--no-amp", dest="amp", action="store_false", help=PRECISION_HELP)
    return parser


def plan_outputs(images: list[Path], image_dir: Path, out_dir: Path, overwrite: bool
                 ) -> tuple[list[tuple[Path, Path]], list[str]]:
    """(image, mask path) pairs to predict, and one line per image left out.

    Raises OptionError when OUT_DIR is the image folder, or already holds files that would be
    replaced, and ``overwrite`` is off. Left out even with ``overwrite``: an image whose mask path
    is one of the input images, and the second of two images sharing a stem (one mask path; stems
    that differ only by case are one on Windows and macOS).
    """
    from segstudio.core.errors import OptionError
    from segstudio.core.portable_names import name_key

    from .options import examples, same_file

    if not overwrite and out_dir.exists() and same_file(out_dir, image_dir):
        raise OptionError(f"OUT_DIR {out_dir} is the image folder: predictions would sit among (and "
                          "could replace) your images and masks; choose another folder or pass --overwrite")
    inputs = {p.resolve() for p in images}
    pairs, skipped, taken = [], [], {}
    for image in images:
        target = out_dir / f"{image.stem}.png"
        if target.exists() and target.resolve() in inputs:
            skipped.append(f"skipped {image.name}: its mask {target} would replace an image being predicted")
        elif name_key(image.stem) in taken:  # Cat.png and cat.png: one file on Windows and macOS
            skipped.append(f"skipped {image.name}: {taken[name_key(image.stem)]} already writes {target.name}")
        else:
            taken[name_key(image.stem)] = image.name
            pairs.append((image, target))
    existing = [target for _, target in pairs if target.exists() or target.is_symlink()]
    if existing and not overwrite:
        raise OptionError(f"OUT_DIR {out_dir} already holds {len(existing)} file(s) that prediction "
                          f"would replace ({examples(existing)}); choose an empty folder or pass --overwrite")
    return pairs, skipped


def run(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from segstudio.core.errors import ImageLoadError, SaveError
    from segstudio.core.images import IMAGE_EXTENSIONS, list_images, load_image, without_masks
    from segstudio.core.masks import write_mask
    from segstudio.model.predictor import Predictor
    from segstudio.model.weights.checkpoints import load_model

    from .fetch_model import resolve_model
    from .options import check_device, check_positive

    image_dir, out_dir = Path(args.image_dir), Path(args.out_dir)
    check_positive("--tile", args.tile, upper=8192)
    check_device(args.device)
    if image_dir.is_file():
        raise ImageLoadError(f"{image_dir} is a file: predict reads a folder of images (put the image in a folder)")
    if not image_dir.is_dir():
        raise ImageLoadError(f"image folder {image_dir} does not exist")
    if out_dir.exists() and not out_dir.is_dir():
        raise SaveError(f"OUT_DIR {out_dir} is a file, not a folder")
    images = without_masks(list_images(image_dir))  # masks saved beside their photos are no input
    if not images:
        raise ImageLoadError(f"no images in {image_dir} (looked for {', '.join(IMAGE_EXTENSIONS)})")
    pairs, skipped = plan_outputs(images, image_dir, out_dir, args.overwrite)
    model, info = load_model(resolve_model(args.model))
    options = prediction_options(args, info)
    predictor = Predictor(model, info, device=args.device, amp=args.amp, **options)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SaveError(f"cannot create {out_dir}: {exc.strerror or exc}") from exc
    colours = np.asarray(info.colours, np.uint8).reshape(-1, 3)
    precision = str(predictor.amp_dtype or torch.float32).removeprefix("torch.")
    print(f"{count(len(pairs), 'image')}, model {info.variant or 'custom'} on {predictor.device} in {precision}"
          + (" (--no-amp for float32)" if predictor.amp_dtype is not None else ""), file=sys.stderr)
    for line in skipped:
        print(line, file=sys.stderr)
    start, failed = time.perf_counter(), len(skipped)
    for i, (path, target) in enumerate(pairs, 1):
        try:
            labels = predictor.predict(load_image(path)).labels
        except ImageLoadError as exc:
            print(f"[{i}/{len(pairs)}] skipped: {exc}", file=sys.stderr)
            failed += 1
            continue
        write_mask(target, labels, colours)
        print(f"[{i}/{len(pairs)}] {path.name}", file=sys.stderr)
    print(f"done in {time.perf_counter() - start:.1f} s; masks in {out_dir}"
          + (f"; {count(failed, 'image')} skipped" if failed else ""), file=sys.stderr)
    return 1 if failed else 0


def prediction_options(args: argparse.Namespace, info=None) -> dict:
    """Mode, scale, tile and stride: what was typed, else the catalogue checkpoint's recipe (an ADE20K
    model sees a 512-short-side image, a Cityscapes one 1024-pixel windows), else the defaults, which
    follow the model's size and normalisation (a hub checkpoint's preprocessor_config.json, else
    segstudio's rule); a note says which."""
    from segstudio.core.errors import OptionError
    from segstudio.model.weights import catalogue

    scale = args.scale
    if scale is not None and scale != "native":
        if not scale.isdigit() or not 32 <= int(scale) <= 8192:
            raise OptionError(f"--scale must be 'native' or a size from 32 to 8192 (got {scale!r})")
        scale = int(scale)
    entry = catalogue.find(str(args.model)) or catalogue.entry_for_path(str(args.model))
    recipe = entry.recipe if entry is not None else None
    typed = args.mode is not None or scale is not None or args.tile is not None
    if recipe is None or typed:
        if info is not None and info.preprocessing:
            print(f"note: {info.preprocessing}" + ("; mode, tile and scale as typed" if typed else ""),
                  file=sys.stderr)
        return {"mode": args.mode or "whole", "tile": args.tile, "scale": scale}
    print(f"note: following {entry.id}'s evaluation recipe ({recipe.mode}, scale {recipe.scale[0]}x{recipe.scale[1]}"
          + (f", {recipe.crop[0]} px windows" if recipe.crop else "") + ")", file=sys.stderr)
    return catalogue.recipe_options(entry)
