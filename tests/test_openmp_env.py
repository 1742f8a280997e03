"""Importing segstudio sets libgomp's spin count before torch loads, and leaves a user's own."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

CODE = "import os, segstudio; print(os.environ.get('GOMP_SPINCOUNT'))"


@pytest.mark.parametrize(("preset", "expected"), [(None, "1000"), ("300000", "300000")])
def test_spin_count(preset: str | None, expected: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "SEGSTUDIO_PLAIN_IMPORTS")}
    if preset is not None:
        env["GOMP_SPINCOUNT"] = preset
    out = subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == expected


def test_not_set_once_torch_is_loaded() -> None:
    """Too late to matter then: nothing is set, so nobody believes it took effect."""
    env = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "SEGSTUDIO_PLAIN_IMPORTS")}
    code = "import torch, os, segstudio; print(os.environ.get('GOMP_SPINCOUNT'))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "None"


def test_the_plain_imports_switch_leaves_it_unset() -> None:
    env = {k: v for k, v in os.environ.items() if k != "GOMP_SPINCOUNT"} | {"SEGSTUDIO_PLAIN_IMPORTS": "1"}
    out = subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "None"
