"""Entry point of ``segstudio-cli``.

Each subcommand lives in its own module of this package and exposes ``add_parser(subparsers)`` and
``run(args) -> int``. Modules import core/model inside ``run`` so that ``--help`` and core-only
commands start without loading torch.

The error contract: every user mistake (a :class:`SegStudioError`, an option argparse cannot parse,
a file the system refuses) prints ONE line on stderr, ``segstudio-cli COMMAND: error: ...``, and
exits with status 1; there is no traceback for them. argparse's own habit (usage text, status 2) is
replaced by :class:`OneLineParser` so that scripts see one status for every user error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn

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


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors keep the CLI's contract: one line, exit status 1."""

    def error(self, message: str) -> NoReturn:
        self.exit(1, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every subcommand registered."""
    parser = OneLineParser(
        prog="segstudio-cli",
        description="segstudio headless tools: import, evaluate, train, predict, export.",
    )
    parser.add_argument("--version", action="version", version=f"segstudio {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    subparsers.required = True
    for name in COMMANDS:
        module = importlib.import_module(f"segstudio.cli.{name}")
        sub = module.add_parser(subparsers)
        sub.set_defaults(_run=module.run)
    return parser


def one_line(exc: BaseException | str) -> str:
    """The message of ``exc`` on one line (library messages quoted in ours may span several)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def os_error_line(exc: OSError) -> str:
    """"cannot use PATH: Permission denied" rather than "[Errno 13] Permission denied: 'PATH'"."""
    reason = exc.strerror or one_line(exc)
    return f"cannot use {exc.filename}: {reason}" if exc.filename else reason


def main(argv: list[str] | None = None) -> int:
    """Run ``segstudio-cli`` with ``argv`` (default: ``sys.argv[1:]``); returns the exit status
    (also for ``--help`` and usage errors, which argparse ends with SystemExit)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    try:
        return int(args._run(args) or 0)
    except SegStudioError as exc:
        print(f"segstudio-cli {args.command}: error: {one_line(exc)}", file=sys.stderr)
        return 1
    except OSError as exc:  # a file the system refuses (permissions, a full disk) that no check foresaw
        print(f"segstudio-cli {args.command}: error: {os_error_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"segstudio-cli {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
