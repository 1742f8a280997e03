"""What the window says when a training run starts and ends (no Qt, no torch).

Why here: the words are rules too. After a Stop the dock used to fall back to "step 0 / 1" with no
summary, although the run had kept a model and a resumable state; the text of every ending
(finished, stopped, failed), where the progress line stays, and what was kept are decided here,
once, and tested without a window.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from segstudio.application.training.active_choice import ActiveChoice
from segstudio.core.words import count
from segstudio.model.training.types import TrainProgress, TrainResult
from segstudio.model.weights.model_files import STATE_FILE

_STEPS = re.compile(r"(?:at step (\d+) of (\d+))|(?:finished (\d+) steps?)")


@dataclass(frozen=True)
class RunStarted:
    """A run has been handed to its worker: its name, how many labelled images it learns from, and
    the class names of its per-class tables."""

    name: str
    images: int
    class_names: tuple[str, ...]

    @property
    def text(self) -> str:
        return f"Training {self.name} on {count(self.images, 'labelled image')}…"


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended and what the window shows of it.

    ``text`` is the message (``error`` when it failed); ``line`` the progress line under the bar;
    ``step`` / ``total_steps`` where the bar stays (None: unknown, the bar is left alone);
    ``activated`` the model folder made the active model (None: the active model stays);
    ``choice`` the question to ask when the new model scored lower than the active one.
    """

    result: TrainResult
    text: str
    error: bool
    line: str
    step: int | None
    total_steps: int | None
    activated: Path | None
    choice: ActiveChoice | None = None

    @property
    def status(self) -> str:
        return self.result.status

    @property
    def message(self) -> str:
        """The engine's own words (the result's message)."""
        return self.result.message


def format_eta(seconds: float) -> str:
    """``m:ss`` (``h:mm:ss`` from an hour); "?" when unknown."""
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def steps_reached(result: TrainResult, last: TrainProgress | None) -> tuple[int | None, int | None]:
    """(steps done, steps planned) of an ended run: from its message when it says them (a stop
    names the exact step), else from the last progress report (None, None when there was none)."""
    found = _STEPS.search(result.message)
    if found is not None and found.group(1) is not None:
        return int(found.group(1)), int(found.group(2))
    if found is not None and found.group(3) is not None:
        return int(found.group(3)), int(found.group(3))
    if last is not None:
        return last.step, last.total_steps
    return None, None


def where(folder: Path | None, save_dir: Path) -> str:
    """A model folder as the user knows it: ``models/NAME`` inside the project, else its path."""
    if folder is None:
        return ""
    try:
        return Path(folder).resolve().relative_to(Path(save_dir).resolve()).as_posix()
    except ValueError:
        return str(folder)


def state_size(folder: Path | None) -> int | None:
    """Bytes of the resumable state a run kept in ``folder``; None when it kept none."""
    if folder is None:
        return None
    try:
        return (Path(folder) / STATE_FILE).stat().st_size
    except OSError:
        return None


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def _miou(value: float) -> str:
    return "not validated yet" if math.isnan(value) else f"val mIoU {value:.3f}"


def _notes(result: TrainResult) -> str:
    return "".join(f"\n{note}" for note in result.notes)


def outcome(result: TrainResult, elapsed_s: float, save_dir: Path, last: TrainProgress | None,
            activated: Path | None, why: str, choice: ActiveChoice | None = None) -> RunOutcome:
    """The outcome of ``result``; ``why`` says why the new model did not become the active one,
    ``choice`` asks which should be when it scored lower."""
    step, total = steps_reached(result, last)
    elapsed = format_eta(elapsed_s)
    extra = f"\n{why}" if why else ""
    extra += f"\n{choice.question}" if choice is not None else ""
    if result.status == "finished":
        text = f"Finished in {elapsed}: {result.message.removeprefix('finished ')}{_notes(result)}{extra}"
        line = f"{count(step, 'step')} · model {_miou(result.best_miou)}" if step is not None else ""
        return RunOutcome(result, text, False, line, step, total, activated, choice)
    if result.status == "stopped":
        text, line = _stopped(result, elapsed, save_dir, step, total)
        return RunOutcome(result, text + _notes(result) + extra, False, line, step, total, activated, choice)
    return RunOutcome(result, f"Training failed: {result.message}", True, "", step, total, activated)


def _stopped(result: TrainResult, elapsed: str, save_dir: Path, step: int | None,
             total: int | None) -> tuple[str, str]:
    """What a stopped run kept: the steps done, the model's validation, where it is, and the
    resumable state with its size (the progress line says it in short)."""
    at = f" at step {step} of {total}" if step is not None else ""
    folder = result.model_dir
    if folder is None or not Path(folder).is_dir():
        return f"Stopped after {elapsed}{at}, before a model was saved.", f"stopped{at}"
    place, size = where(folder, save_dir), state_size(folder)
    kept = f"the model ({_miou(result.best_miou)})"
    if size is not None:
        kept += (f" and a resumable state ({STATE_FILE}, {_megabytes(size)}): "
                 f"segstudio-cli train … --resume --name {Path(folder).name} continues the run")
    line = f"stopped{at} · {_miou(result.best_miou)} · kept in {place}"
    if size is not None:
        line += f" with its state ({_megabytes(size)})"
    return f"Stopped after {elapsed}{at}. Kept in {place}: {kept}.", line
