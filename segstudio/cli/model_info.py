"""``segstudio-cli model-info MODEL``: variant, classes, parameter count and source format."""

from __future__ import annotations

import argparse

from segstudio.cli.options import MODEL_HELP


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "model-info", help="describe a model folder or checkpoint",
        description="Print the variant, classes, parameter count and source format of MODEL.")
    parser.add_argument("model", help=MODEL_HELP)
    return parser


def run(args: argparse.Namespace) -> int:
    from segstudio.model.segformer import count_parameters
    from segstudio.model.weights.checkpoints import load_model

    from .fetch_model import resolve_model

    model, info = load_model(resolve_model(args.model))
    cfg = model.config
    print(f"model:          {info.source}")
    print(f"source format:  {info.source_format}")
    print(f"variant:        {info.variant or 'custom'}")
    print(f"architecture:   hidden {list(cfg.hidden_sizes)}, depths {list(cfg.depths)}, "
          f"decoder {cfg.decoder_hidden_size}")
    print(f"parameters:     {count_parameters(model):,}")
    print(f"image size:     {info.image_size}")
    if info.preprocessing:
        print(f"preprocessing:  {info.preprocessing}")
    print(f"classes ({info.num_labels}):")
    for i, (name, colour) in enumerate(zip(info.class_names, info.colours)):
        print(f"  {i:3d}  {name}  #{colour[0]:02x}{colour[1]:02x}{colour[2]:02x}")
    return 0
