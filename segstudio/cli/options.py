"""Checks shared by the subcommands: option values, devices and the files a command may replace.

Every check raises :class:`OptionError` (or another :class:`SegStudioError`) with one line, which
``segstudio.cli.main`` prints before exiting with status 1, as it does for argparse's own usage
errors: a value that parses yet cannot work (``--tile 0``, ``--device cuda`` without a GPU) is a
user error like a bad file or a misspelt option.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from segstudio.core.errors import OptionError

MODEL_HELP = ("model folder, checkpoint file, variant name (b0..b5), catalogue name (fetch-model --list) "
              "or any SegFormer on the hub: owner/name[@revision]")
PRECISION_HELP = ("float32 throughout (default: bf16 on a CPU with native bf16, autocast on CUDA; the labels "
                  "differ on a few pixels in ten thousand)")


def help_text(doc: str, skip_title: bool = True) -> str:
    """A module docstring as ``--help`` shows it: without its title line (``skip_title``) and without
    the reStructuredText marks (````code````, ``:func:`x```) that read as noise in a terminal."""
    text = doc.split("\n\n", 1)[1] if skip_title and "\n\n" in doc else doc
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"\1", text)
    return text.replace("``", "").strip()


def check_positive(option: str, value: float | None, upper: float | None = None) -> None:
    """``value`` (when given) is a finite number above zero and at most ``upper``."""
    if value is None:
        return
    if not math.isfinite(value) or value <= 0:
        raise OptionError(f"{option} must be a positive number (got {value})")
    if upper is not None and value > upper:
        raise OptionError(f"{option} {value} is out of range (at most {upper})")


def check_range(option: str, value: float | None, low: float, high: float, below_high: bool = False) -> None:
    """``value`` (when given) is a finite number from ``low`` to ``high`` (excluded when
    ``below_high``). argparse's ``float`` accepts ``inf``, ``nan`` and ``1e308``, which no option
    means and which reach OpenCV or torch as a traceback, or pass a ``< 0`` check; the training
    options have the same rule in their table (``model/training/options.py``)."""
    if value is None:
        return
    inside = value < high if below_high else value <= high
    if not math.isfinite(value) or not low <= value or not inside:
        bound = f"below {high:g}" if below_high else f"{high:g}"
        raise OptionError(f"{option} must be a number from {low:g} to {bound} (got {value})")


def check_device(name: str) -> str:
    """``name`` if this machine has that device; one line naming what it has otherwise."""
    from segstudio.model.device import pick_device

    try:
        pick_device(name)
    except ValueError as exc:
        raise OptionError(str(exc)) from None
    return name


def same_file(a: Path, b: Path) -> bool:
    """True when ``a`` and ``b`` name the same file or folder (symlinks and ``..`` resolved)."""
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def examples(paths: list[Path], limit: int = 3) -> str:
    """"a.png, b.png and 4 more": a short list of file names for a one-line message."""
    names = [p.name for p in paths[:limit]]
    more = len(paths) - limit
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")
