"""``segstudio-cli evaluate`` with a class file that does not fit the masks: refused in one line when
it contradicts the list recorded in GT_DIR's ``.segstudio/project.json`` (an index naming another
class) or when a mask holds a value it does not name; never scores under wrong names or drops pixels."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from segstudio.cli.main import main
from segstudio.core.masks import write_mask

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from cli_helpers import checksums, error_line, photo, tiny_model  # noqa: E402

NAMES = ["background", "cat", "dog"]


@pytest.fixture
def project(tmp_path):
    """GT_DIR (a save folder with its recorded class list), predictions, images and a model."""
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    gt.mkdir(), pred.mkdir()
    label = np.zeros((40, 48), np.uint8)
    label[5:15, 5:15], label[20:30, 20:30] = 1, 2
    for stem in ("a", "b"):
        write_mask(gt / f"{stem}.png", label)
        write_mask(pred / f"{stem}.png", label)
        photo(tmp_path / "images" / f"{stem}.jpg", size=(40, 48))
    (gt / "classes.txt").write_text("".join(f"{n}\n" for n in NAMES))
    (gt / ".segstudio").mkdir()
    (gt / ".segstudio" / "project.json").write_text(json.dumps({"class_list": NAMES}))
    tiny_model(tmp_path / "model", names=tuple(NAMES))
    return tmp_path


def evaluate(root: Path, class_lines: list[str], mode: str) -> int:
    (root / "given.txt").write_text("".join(f"{n}\n" for n in class_lines))
    source = [str(root / "pred")] if mode == "folders" else [
        "--model", str(root / "model"), "--images", str(root / "images"), "--device", "cpu"]
    return main(["evaluate", str(root / "gt"), *source, "--classes", str(root / "given.txt"), "--json"])


@pytest.mark.parametrize("mode", ["folders", "model"])
@pytest.mark.parametrize("lines, message", [
    (["background", "dog", "cat"], "contradicts"),         # indices 1 and 2 name other classes
    (["background", "dog"], "contradicts"),                # index 1 names another class
    (["background", "cat"], "holds class value(s) 2"),     # agrees, but dog's pixels would drop out
])
def test_a_class_file_that_does_not_fit_the_masks_is_refused(project, capsys, mode, lines, message):
    before = checksums(project)
    assert evaluate(project, lines, mode) == 1
    captured = capsys.readouterr()
    line = error_line(captured.err)
    assert message in line and "given.txt" in line and captured.out == ""
    assert {k: v for k, v in checksums(project).items() if not k.endswith("given.txt")} == \
        {k: v for k, v in before.items() if not k.endswith("given.txt")}


@pytest.mark.parametrize("mode", ["folders", "model"])
def test_without_a_record_missing_values_are_still_refused(project, capsys, mode):
    (project / "gt" / ".segstudio" / "project.json").unlink()
    assert evaluate(project, ["background", "cat"], mode) == 1
    assert "holds class value(s) 2" in error_line(capsys.readouterr().err)


@pytest.mark.parametrize("mode", ["folders", "model"])
@pytest.mark.parametrize("lines", [NAMES, NAMES + ["bird"]])
def test_the_recorded_list_or_an_appended_one_is_scored(project, capsys, mode, lines):
    assert evaluate(project, lines, mode) == 0
    data = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in data["classes"]] == lines
    assert [c["gt_pixels"] for c in data["classes"]][1:3] == [200, 200]
