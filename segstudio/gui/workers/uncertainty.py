"""What to label next: order the file list by the model's uncertainty on each image.

The scores and the order are ``application.prediction_cache``'s; this module only shows them in
the file dock: each score after its image's name and, when sorting, the least certain images first.
"""

from __future__ import annotations

from pathlib import Path

from segstudio.application.review.prediction_cache import scores_by_index, uncertainty_order


def score_suffix(score: float) -> str:
    """The score as the file list shows it after an image's name."""
    return f"   ({score:.2f})"


def apply_to_file_dock(file_dock, project, model_path: Path | None, sort: bool,
                       scores: dict[int, float] | None = None) -> dict[int, float]:
    """Show the scores after the names and, with ``sort``, the least certain images first.

    The scores are the prediction cache's for ``model_path``, or ``scores`` when given (live mode's).
    """
    if scores is None:
        scores = scores_by_index(project, model_path)
    count = len(project.entries) if project is not None else 0
    order = uncertainty_order(count, scores) if sort else None
    file_dock.set_order(order, {i: score_suffix(s) for i, s in scores.items()})
    return scores
