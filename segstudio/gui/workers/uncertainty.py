"""What to label next: order the file list by the model's uncertainty on each image.

The score of an image is the model's class-balanced doubt in [0, 1] (``Prediction.score``, see
``segstudio.model.uncertainty``), saved by the prediction worker in the active model's cache folder. Images
with a score come first, least certain first; the others follow in file order.
"""

from __future__ import annotations

from pathlib import Path

from segstudio.gui.workers.prediction_worker import cache_folder, read_scores


def scores_by_index(project, model_path: Path | None) -> dict[int, float]:
    """Score of each entry index that has one for ``model_path``."""
    if project is None or model_path is None:
        return {}
    scores = read_scores(cache_folder(project.save_dir, model_path))
    return {i: scores[e.stem] for i, e in enumerate(project.entries) if e.stem in scores}


def uncertainty_order(count: int, scores: dict[int, float]) -> list[int]:
    """Indices, scored ones first by decreasing score (ties in file order), then the rest."""
    scored = sorted(scores, key=lambda i: (-scores[i], i))
    return scored + [i for i in range(count) if i not in scores]


def score_suffix(score: float) -> str:
    return f"   ({score:.2f})"


def apply_to_file_dock(file_dock, project, model_path: Path | None, sort: bool) -> dict[int, float]:
    """Show the scores after the names and, with ``sort``, the least certain images first."""
    scores = scores_by_index(project, model_path)
    count = len(project.entries) if project is not None else 0
    order = uncertainty_order(count, scores) if sort else None
    file_dock.set_order(order, {i: score_suffix(s) for i, s in scores.items()})
    return scores
