"""The session's application modules load neither Qt nor torch (the window only wires them)."""

from __future__ import annotations

import subprocess
import sys

MODULES = ["segstudio.application.session.navigation", "segstudio.application.session.open_project",
           "segstudio.application.session.recovery_store", "segstudio.application.session.save_queue"]


def test_session_modules_import_neither_qt_nor_torch():
    code = "".join(f"import {name}\n" for name in MODULES) + (
        "import sys\nprint(' '.join(m for m in sys.modules if m.split('.')[0] in ('torch', 'PySide6')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == []
