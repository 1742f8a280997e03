"""Entry point of ``segstudio-cli``.

Each subcommand lives in its own module of this package and exposes ``add_parser(subparsers)`` and
``run(args) -> int``. Modules import core/model inside ``run`` so that ``--help`` and core-only
commands start without loading torch. User errors (:class:`SegStudioError`) print one line and exit
with status 1; there is no traceback for them.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from segstudio import __version__
from segstudio.core.errors import SegStudioError

# Module names under segstudio.cli, in the order they appear in --help.
COMMANDS: tuple[str, ...] = (
    "import_labelme",
    "import_dataset",
    "boxes_to_masks",
    "export",
    "evaluate",
    "predict",
    "model_info",
    "fetch_model",
    "export_onnx",
    "train",
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="segstudio-cli",
        description="segstudio headless tools: import, evaluate, train, predict, export.",
    )
    parser.add_argument("--version", action="version", version=f"segstudio {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMANDS:
        module = importlib.import_module(f"segstudio.cli.{name}")
        sub = module.add_parser(subparsers)
        sub.set_defaults(_run=module.run)
    return parser


def one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line (library messages quoted in ours may span several)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    """Run ``segstudio-cli`` with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except SegStudioError as exc:
        print(f"segstudio-cli {args.command}: error: {one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"segstudio-cli {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
