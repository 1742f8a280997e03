"""``segstudio-cli export-onnx MODEL OUT.onnx``: ONNX graph with dynamic batch/height/width.

An existing OUT.onnx is refused unless --overwrite; the model's own files (its weights,
config.json, training state and history) are never written over, whatever the options.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from segstudio.cli.options import MODEL_HELP


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "export-onnx", help="export a model to ONNX",
        description="Export MODEL to ONNX (input pixel_values (B,3,H,W) normalised; output logits "
                    "at 1/4 resolution) and check it against PyTorch with onnxruntime if installed. "
                    + __doc__.split("\n\n", 1)[1].strip())
    parser.add_argument("model", help=MODEL_HELP)
    parser.add_argument("output", help="path of the .onnx file to write")
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    parser.add_argument("--no-verify", action="store_true", help="skip the onnxruntime check")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    return parser


def model_files(source: str) -> list[Path]:
    """The files that make up the model ``source`` (none for a variant name)."""
    from segstudio.core.errors import CheckpointError
    from segstudio.model.weights.model_files import CONFIG, HF_WEIGHTS, HISTORY_FILE, STATE_FILE, WEIGHTS, locate

    path = Path(source)
    if not path.exists():
        return []
    folder = path if path.is_dir() else path.parent
    files = [path] if path.is_file() else []
    try:
        weights, config = locate(path)
        files += [weights] + ([config] if config else [])
    except CheckpointError:
        pass
    if path.is_dir() or path.name in (WEIGHTS, HF_WEIGHTS):
        files += [folder / CONFIG, folder / STATE_FILE, folder / HISTORY_FILE]
    return files


def check_output(output: Path, source: str, overwrite: bool) -> None:
    """OptionError for an output that is one of the model's files, a folder, or exists (unless
    ``overwrite``)."""
    from segstudio.core.errors import OptionError

    from .options import same_file

    for own in model_files(source):
        if same_file(output, own):
            raise OptionError(f"{output} is a file of the model {source}: export to another path")
    if output.is_dir():
        raise OptionError(f"{output} is a folder: give the path of the .onnx file to write")
    if (output.exists() or output.is_symlink()) and not overwrite:
        raise OptionError(f"{output} exists: choose another path or pass --overwrite to replace it")


def run(args: argparse.Namespace) -> int:
    from segstudio.model.onnx_export import export_onnx
    from segstudio.model.weights.checkpoints import load_model

    from .fetch_model import resolve_model

    output = Path(args.output)
    check_output(output, args.model, args.overwrite)
    model, info = load_model(resolve_model(args.model))
    diff = export_onnx(model, output, opset=args.opset, verify=not args.no_verify, class_names=info.class_names)
    note = "not verified" if diff is None else f"onnxruntime matches torch (max diff {diff:.2e})"
    print(f"wrote {output} ({info.num_labels} classes); {note}", file=sys.stderr)
    return 0
