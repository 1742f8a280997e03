"""One source for each constant of training: the ignore label, the normalisation, the run's file names,
and one reader of history.json."""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import segstudio
from segstudio.application.training.model_registry import record_for
from segstudio.core.palette import IGNORE_INDEX
from segstudio.model.data import augment
from segstudio.model.training import losses
from segstudio.model.training.history import best_miou, read_history
from segstudio.model.weights import checkpoints, model_files

ROOT = Path(segstudio.__file__).parent


def test_the_ignore_label_and_the_normalisation_have_one_definition() -> None:
    assert augment.IGNORE_INDEX is IGNORE_INDEX and losses.IGNORE_INDEX is IGNORE_INDEX
    assert checkpoints.IMAGENET_MEAN is augment.IMAGENET_MEAN
    assert checkpoints.IMAGENET_STD is augment.IMAGENET_STD
    assert checkpoints.ModelInfo(variant=None, class_names=["a", "b"]).mean == augment.IMAGENET_MEAN


def _string_literals(path: Path) -> list[tuple[int, str]]:
    """String constants of a module, docstrings left out."""
    tree = ast.parse(path.read_text("utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def test_the_run_file_names_are_spelt_only_in_model_files() -> None:
    names = {model_files.STATE_FILE, model_files.HISTORY_FILE}
    found = [f"{path.relative_to(ROOT)}:{line}" for path in ROOT.rglob("*.py") if path.name != "model_files.py"
             for line, text in _string_literals(path) if text in names]
    assert found == []


def test_one_reader_of_history_json_for_the_engine_and_the_models_list(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / model_files.WEIGHTS).write_bytes(b"")
    (folder / model_files.HISTORY_FILE).write_text(
        '{"epochs": [{"epoch": 1, "val_miou": 0.4}, {"epoch": 2, "val_miou": NaN}], "best_miou": -Infinity}')
    history = read_history(folder)
    assert history["epochs"][1]["val_miou"] is None and history["best_miou"] is None
    json.dumps(history, allow_nan=False)  # standard JSON again
    assert best_miou(history) == 0.4
    assert record_for(folder).best_miou == 0.4
    (folder / model_files.HISTORY_FILE).write_text('["not", "a", "history"]')
    assert read_history(folder) is None and math.isnan(record_for(folder).best_miou)
