"""The robustness tests import helper modules by name: those of this folder (cli_helpers,
state_helpers...), those of tests/gui (gui_helpers, gui_project) and of tests/application
(session_harness). The three folders go on sys.path here,
before any test module is imported, so that each test file also runs on its own (it used to depend on
an earlier file of the run having put tests/gui there)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for folder in (HERE.parent / "application", HERE.parent / "gui", HERE):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
