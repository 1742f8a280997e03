"""What a training run has learnt so far: its validation points, the best score, the model's score.

Each validation point becomes an :class:`.types.EpochSummary` (the mean training loss since the
previous point, the metrics, the learning rate, when) and an entry of history.json. The run keeps
two scores: ``best``, the best validation mIoU so far, and ``kept``, the mIoU of the weights that
are the model -- the best point's, or the last point's when the recipe trusts too few validation
images to pick a best one (:mod:`.recipe`). Both and the entries go into the state file, so a
resumed run continues the same record.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

import torch

from .types import EpochSummary, history_entry, nan_to_none, summary_from_dict


class RunRecord:
    """The validation points of one run and the training loss since the last one."""

    def __init__(self) -> None:
        self.history: list[dict[str, Any]] = []
        self.best = -math.inf     # the best validation mIoU of the run
        self.kept = -math.inf     # the validation mIoU of the weights that are the model
        self.loss_sum: torch.Tensor | None = None  # on the device: read back only at a point
        self.since = (0.0, 0)     # (clock, step) of the last point, or of the start of this session

    def start(self, now: float, step: int, device: torch.device) -> None:
        """The session's steps begin at ``step``."""
        self.since = (now, step)
        self.loss_sum = torch.zeros((), device=device)

    def add_loss(self, loss: torch.Tensor) -> None:
        self.loss_sum += loss

    def point(self, metrics: Any, step: int, steps_per_epoch: int, lr: float, started: float,
              elapsed: float, keep_best: bool) -> tuple[EpochSummary, bool]:
        """Record the validation ``metrics`` at ``step`` (the validation ``started`` then, ``elapsed``
        seconds into the session): the point's summary, and whether the weights now are the model
        (better than every point before, or the recipe keeps the last)."""
        since_t, since_step = self.since
        steps = max(1, step - since_step)
        summary = EpochSummary(math.ceil(step / steps_per_epoch), float(self.loss_sum) / steps,
                               float(metrics.miou), float(metrics.pixel_accuracy),
                               nan_to_none(metrics.iou.tolist()), started - since_t,
                               float(lr), step, elapsed)
        self.loss_sum.zero_()
        self.history.append(asdict(summary))
        miou = metrics.miou if not math.isnan(metrics.miou) else -1.0
        improved = miou > self.best
        self.best = max(self.best, miou)
        if improved or not keep_best:
            self.kept = miou
            return summary, True
        return summary, False

    def restart(self, now: float, step: int) -> None:
        """The next point's loss and seconds count from here (after a validation)."""
        self.since = (now, step)

    def model_score(self) -> float:
        """The validation mIoU of the saved weights (``best_miou`` in history.json and results:
        what the Models dock compares; the best point unless the recipe keeps the last)."""
        return self.kept if self.kept > -math.inf else float("nan")

    def summaries(self) -> list[EpochSummary]:
        return [summary_from_dict(h) for h in self.history]

    def state(self) -> dict[str, Any]:
        """The record as the state file stores it."""
        return {"best": self.best, "kept": self.kept, "history": self.history}

    def restore(self, state: dict[str, Any]) -> None:
        """Continue the record of a state file; its entries are checked (see types.history_entry)."""
        self.best, self.history = float(state["best"]), [history_entry(h) for h in state["history"]]
        self.kept = float(state.get("kept", self.best))
