"""Every import command holds the project's lock for its whole run: while another project-wide change
runs (another process holds the lock) or a window edits an image, the command exits 1 with one line
and writes nothing, since the class list could change meanwhile and the imported pixels would
silently change class."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from segstudio.core import project_lock
from segstudio.core.masks import read_mask

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cli_helpers import checksums  # noqa: E402
from import_helpers import boxes, coco, error_lines, hf, run_cli, voc, yolo  # noqa: E402
from session_harness import changed_elsewhere  # noqa: E402


def command(kind: str, tmp_path: Path, save: Path) -> list:
    """The command line of import ``kind`` from a small dataset made under ``tmp_path``."""
    src = tmp_path / "src"
    if kind == "voc":
        return ["import", "voc", voc(src), save]
    if kind == "coco":
        return ["import", "coco", coco(src), save]
    if kind == "yolo":
        return ["import", "yolo", yolo(src), save]
    if kind == "hf":
        return ["import", "hf", hf(src), save]
    box_dir, images = boxes(src)
    return ["boxes-to-masks", box_dir, save, "--images", images]


@pytest.mark.parametrize("kind", ["voc", "coco", "yolo", "hf", "boxes"])
def test_import_into_a_project_open_elsewhere_writes_nothing(kind, tmp_path, capsys) -> None:
    save = tmp_path / "project"
    save.mkdir()
    (save / "classes.txt").write_text("background\ndog\n")
    args = command(kind, tmp_path, save)
    with changed_elsewhere(save) as lock:
        before = checksums(tmp_path)
        status, _, err = run_cli(args, capsys)
        assert status == 1
        lines = error_lines(err)
        assert len(lines) == 1 and "a project-wide change runs" in lines[0] and str(save) in lines[0], err
        assert checksums(tmp_path) == before
        assert lock.is_file()
    status, _, err = run_cli(args, capsys)  # the window closed: the same command now imports
    assert status == 0, err
    assert read_mask(save / "a.png")[0, 0] == 2  # cat appended after the project's dog
    assert not project_lock.lock_path(save).exists()
