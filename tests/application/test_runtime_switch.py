"""application/runtime.py: one gc.freeze per load (not one per training start), the switch that
turns the start-up tricks off, and the device probe's answer. The loading checks run in a fresh
interpreter: the test process imported torch long ago."""

from __future__ import annotations

import os
import subprocess
import sys

from segstudio.application.runtime import PLAIN_IMPORTS_ENV, probe_answer


def _run(code: str, **env: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env})
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_the_optimiser_machinery_is_loaded_and_frozen_once_not_per_training_start() -> None:
    out = _run(
        "import gc\n"
        "from segstudio.application.runtime import load_optimiser_machinery\n"
        "load_optimiser_machinery()\n"
        "first = gc.get_freeze_count()\n"
        "run = []; run.append(run)  # what a training run leaves behind: not to be frozen\n"
        "load_optimiser_machinery()\n"
        "print(first > 0, gc.get_freeze_count() == first, gc.isenabled())\n",
        **{PLAIN_IMPORTS_ENV: ""})
    assert out == "True True True"


def test_the_switch_imports_torch_plainly_and_defers_nothing() -> None:
    out = _run(
        "import gc, sys\n"
        "from segstudio.application.runtime import collections_deferred, import_torch, load_optimiser_machinery\n"
        "import_torch(); load_optimiser_machinery()\n"
        "with collections_deferred():\n"
        "    inside = gc.isenabled()\n"
        "print('torch' in sys.modules, inside, gc.get_freeze_count())\n",
        **{PLAIN_IMPORTS_ENV: "1"})
    assert out == "True True 0"


def test_a_probe_answer_is_its_last_line_or_an_error() -> None:
    assert probe_answer("a warning\ncuda|CUDA 0: NVIDIA H100\n") == "cuda|CUDA 0: NVIDIA H100"
    assert probe_answer("") == "error|could not detect the device"
