"""The CLI's error contract on hostile input: one line on stderr, exit status 1, no traceback.

Before: argparse's usage errors exited 2 with the usage text (several lines), and a path the file
system refuses (a name longer than 255 bytes) ended predict, export-onnx, export, evaluate and train
with an OSError traceback.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from segstudio.cli.main import main

LONG = "x" * 300  # longer than any file system's name limit (255 bytes)


def _one_error_line(capsys, status: int, command: str) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert status == 1, captured.err
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"segstudio-cli {command}".rstrip() + ": error: ") and "Traceback" not in captured.err
    return lines[0]


@pytest.fixture
def images(tmp_path: Path) -> Path:
    folder = tmp_path / "images"
    folder.mkdir()
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(folder / "a.png")
    return folder


def _sums(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("argv, command, words", [
    (["predict", "b0", "IMG", "OUT", "--mode", "bogus"], "predict", "invalid choice: 'bogus'"),
    (["train", "SAVE", "--images", "IMG", "--steps", "abc"], "train", "invalid int value: 'abc'"),
    (["train", "SAVE", "--images", "IMG", "--steps", "1", "--epochs", "2"], "train", "not allowed with"),
    (["train", "SAVE"], "train", "--images"),
    (["evaluate", "GT", "--classes", "c.txt", "--unknown"], "", "unrecognized arguments: --unknown"),
    (["export-onnx", "b0", "o.onnx", "--opset", "x"], "export-onnx", "invalid int value"),
    (["no-such-command"], "", "invalid choice"),
    ([], "", "required: COMMAND"),
])
def test_usage_errors_are_one_line_and_status_1(capsys, argv, command, words) -> None:
    line = _one_error_line(capsys, main(argv), command)
    assert words in line


def test_help_and_version_still_exit_0(capsys) -> None:
    assert main(["train", "--help"]) == 0 and "--steps" in capsys.readouterr().out
    assert main(["--version"]) == 0


@pytest.mark.parametrize("argv, command", [
    (["predict", "b0", "{images}", "{tmp}/" + LONG], "predict"),
    (["export-onnx", "b0", "{tmp}/" + LONG + ".onnx"], "export-onnx"),
    (["export", "voc", "{tmp}/save", "{tmp}/" + LONG, "--images", "{images}"], "export"),
    (["evaluate", "{images}", "{tmp}/" + LONG, "--classes", "{tmp}/classes.txt"], "evaluate"),
    (["train", "{tmp}/save", "--images", "{images}", "--out", LONG, "--steps", "1", "--size", "32"], "train"),
])
def test_a_path_the_file_system_refuses_is_one_line(tmp_path, images, capsys, argv, command) -> None:
    (tmp_path / "save").mkdir()
    Image.fromarray(np.ones((32, 32), np.uint8)).save(tmp_path / "save" / "a.png")
    (tmp_path / "classes.txt").write_text("background\nthing\n")
    before = _sums(tmp_path)
    status = main([a.format(tmp=tmp_path, images=images) for a in argv])
    line = _one_error_line(capsys, status, command)
    assert "too long" in line.lower()
    assert _sums(tmp_path) == before  # nothing written, nothing replaced


def test_the_real_process_keeps_the_contract(tmp_path) -> None:
    """The installed entry point's way: a process whose status and stderr a script sees."""
    result = subprocess.run([sys.executable, "-m", "segstudio.cli.main", "predict", "b0", str(tmp_path),
                             str(tmp_path / "out"), "--mode", "bogus"], capture_output=True, text=True)
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
