"""Entry point of the desktop app: ``segstudio [image_dir] [class_file] [save_dir]``."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Start the labelling window (built in segstudio.gui)."""
    print("segstudio: the labelling window is not built yet; use segstudio-cli", file=sys.stderr)
    return 1
