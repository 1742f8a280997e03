"""An account with no home folder (``HOME`` unset and no account entry: a service, a container user;
on Windows no ``USERPROFILE``): ``Path.home()`` raises there. The command line still runs, the model
caches say where they would be, and nothing is written into a folder named ``~``."""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

import numpy as np
import pytest

from segstudio.cli.main import main
from segstudio.core import platform_io
from segstudio.core.errors import CheckpointError
from segstudio.core.masks import write_mask
from segstudio.model.sam import onnx_cache
from segstudio.model.weights import hub_cache


@pytest.fixture
def homeless(monkeypatch, tmp_path) -> Path:
    """No home: ``~`` does not expand (what ``os.path.expanduser`` does without HOME and account
    entry), so ``Path.home()`` raises and huggingface_hub's default cache is ``~/.cache/...``."""
    for name in ("HOME", "USERPROFILE", "HOMEDRIVE", "HOMEPATH", "XDG_CACHE_HOME", "SEGSTUDIO_CACHE"):
        monkeypatch.delenv(name, raising=False)
    real = posixpath.expanduser

    def expanduser(path):
        text = os.fspath(path)
        return text if text[:1] in ("~", b"~") else real(path)
    monkeypatch.setattr(posixpath, "expanduser", expanduser)
    from huggingface_hub import constants
    monkeypatch.setattr(constants, "HF_HUB_CACHE", "~/.cache/huggingface/hub")  # its default, unexpanded
    onnx_cache._process_cache.cache_clear()
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    onnx_cache._process_cache.cache_clear()
    assert not (tmp_path / "~").exists()  # nothing written into a folder named "~"


def test_no_home_is_none_not_an_error(homeless):
    with pytest.raises(RuntimeError):
        Path.home()  # the precondition: what the code must not call unguarded
    assert platform_io.home_folder() is None


def test_model_caches_without_home(homeless):
    with pytest.raises(CheckpointError, match="no home folder.*HF_HOME"):
        hub_cache.hf_cache_dir()
    assert hub_cache.cached_snapshot("nvidia/mit-b0") is None  # nothing cached where there is no cache
    assert "HF_HOME" in hub_cache.cache_location()
    folder = onnx_cache.onnx_cache_dir()
    assert folder.is_absolute() and folder == onnx_cache.onnx_cache_dir()  # one folder for the process
    assert not folder.is_relative_to(homeless)


def test_commands_run_without_home(homeless, capsys):
    assert main(["fetch-model", "--list"]) == 0
    out, err = capsys.readouterr()
    assert "b0-ade" in out and "no home folder" in err and "Traceback" not in err
    assert main(["model-info", "b0-ade"]) == 1  # offline in the tests: one line, no traceback
    err = capsys.readouterr().err
    assert "Traceback" not in err and len([line for line in err.splitlines() if "error:" in line]) == 1
    (homeless / "gt").mkdir()
    (homeless / "classes.txt").write_text("background\ncat\n")
    write_mask(homeless / "gt" / "a.png", np.array([[0, 1], [1, 1]], np.uint8))
    assert main(["evaluate", str(homeless / "gt"), str(homeless / "gt"), "--classes",
                 str(homeless / "classes.txt")]) == 0


def test_a_model_path_with_a_tilde_is_not_found_rather_than_a_crash(homeless, capsys):
    assert main(["model-info", "~/models/mine"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "RuntimeError" not in err
