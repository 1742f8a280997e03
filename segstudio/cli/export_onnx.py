"""``segstudio-cli export-onnx MODEL OUT.onnx``: ONNX graph with dynamic batch/height/width."""

from __future__ import annotations

import argparse
import sys


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "export-onnx", help="export a model to ONNX",
        description="Export MODEL to ONNX (input pixel_values (B,3,H,W) normalised; output logits "
                    "at 1/4 resolution) and check it against PyTorch with onnxruntime if installed.")
    parser.add_argument("model", help="model folder, checkpoint file, or variant name (b0..b5)")
    parser.add_argument("output", help="path of the .onnx file to write")
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    parser.add_argument("--no-verify", action="store_true", help="skip the onnxruntime check")
    return parser


def run(args: argparse.Namespace) -> int:
    from segstudio.model.checkpoints import load_model
    from segstudio.model.onnx_export import export_onnx

    model, info = load_model(args.model)
    diff = export_onnx(model, args.output, opset=args.opset, verify=not args.no_verify)
    note = "not verified" if diff is None else f"onnxruntime matches torch (max diff {diff:.2e})"
    print(f"wrote {args.output} ({info.num_labels} classes); {note}", file=sys.stderr)
    return 0
