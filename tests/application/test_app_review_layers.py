"""The review half of the application layer loads neither Qt nor torch when imported."""

from __future__ import annotations

import subprocess
import sys

MODULES = ["review.prediction_cache", "review.model_runner", "review.review_rules", "review.review_metrics",
           "class_rewrite"]


def test_review_modules_import_neither_qt_nor_torch():
    code = ("import sys\n" + "".join(f"import segstudio.application.{m}\n" for m in MODULES)
            + "print(' '.join(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'PySide6'})))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == []
