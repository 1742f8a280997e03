"""The assist and formats sub-packages of core load neither Qt nor torch (tests/test_layers.py
imports only the top level of each package)."""

from __future__ import annotations

import subprocess
import sys


def test_assist_and_formats_load_neither_qt_nor_torch() -> None:
    code = (
        "import pkgutil, sys, importlib\n"
        "import segstudio.core.assist as a, segstudio.core.formats as f\n"
        "for pkg in (a, f):\n"
        "    for info in pkgutil.iter_modules(pkg.__path__):\n"
        "        importlib.import_module(pkg.__name__ + '.' + info.name)\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'PySide6'})))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
