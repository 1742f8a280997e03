"""segstudio-cli export / import / boxes-to-masks from the real entry point: round trips, and bad
input answered with one line on stderr and status 1, user files untouched."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from segstudio.cli.main import main
from segstudio.core.masks import read_mask

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
from interop_project import checksums, make_project, scene_masks  # noqa: E402


def _one_error_line(capsys, command: str) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith(f"segstudio-cli {command}: error:")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize(("fmt", "extra", "src"), [
    ("voc", [], "."), ("coco", ["--rle"], "annotations/instances_train.json"), ("yolo", [], "."), ("hf", [], "."),
])
def test_export_then_import_round_trips(fmt, extra, src, tmp_path, capsys) -> None:
    image_dir, save_dir = make_project(tmp_path / "project")
    before = checksums(image_dir, save_dir)
    out = tmp_path / "out"
    assert main(["export", fmt, str(save_dir), str(out), "--images", str(image_dir), *extra]) == 0
    assert "3 labelled images exported" in capsys.readouterr().out
    back = tmp_path / "back"
    assert main(["import", fmt, str(out / src), str(back)]) == 0
    assert "3 mask(s) written" in capsys.readouterr().out
    for stem, label in scene_masks().items():
        expected = label if fmt in ("voc", "hf") else np.where(label == 255, 0, label)
        assert np.array_equal(read_mask(back / f"{stem}.png"), expected)
    assert checksums(image_dir, save_dir) == before


def test_export_refusals_are_one_line(tmp_path, capsys) -> None:
    image_dir, save_dir = make_project(tmp_path / "project")
    before = checksums(tmp_path)
    assert main(["export", "voc", str(save_dir), str(save_dir / "voc"), "--images", str(image_dir)]) == 1
    assert "overlaps the project" in _one_error_line(capsys, "export")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    before = checksums(tmp_path)
    assert main(["export", "coco", str(save_dir), str(tmp_path / "out"), "--images", str(image_dir)]) == 1
    assert "not empty" in _one_error_line(capsys, "export")
    assert main(["export", "yolo", str(save_dir), str(tmp_path / "y"), "--images", str(image_dir), "--rle"]) == 1
    assert "coco format only" in _one_error_line(capsys, "export")
    assert main(["export", "hf", str(tmp_path / "nowhere"), str(tmp_path / "h")]) == 1
    _one_error_line(capsys, "export")
    assert checksums(tmp_path) == before


def test_import_keeps_existing_masks(tmp_path, capsys) -> None:
    image_dir, save_dir = make_project(tmp_path / "project")
    assert main(["export", "voc", str(save_dir), str(tmp_path / "voc"), "--images", str(image_dir)]) == 0
    before = checksums(save_dir)
    assert main(["import", "voc", str(tmp_path / "voc"), str(save_dir)]) == 0
    out = capsys.readouterr().out
    assert out.count("exists: kept") == 3 and "0 mask(s) written" in out
    assert checksums(save_dir) == before


def test_boxes_to_masks_command(shared_fixtures, tmp_path, capsys) -> None:
    src = shared_fixtures / "labelimg"
    save = tmp_path / "save"
    assert main(["boxes-to-masks", str(src), str(save), "--images", str(src)]) == 0
    captured = capsys.readouterr()
    assert "1 mask(s) written" in captured.out and "clipped" in captured.err
    assert set(np.unique(read_mask(save / "demo.png")).tolist()) == {0, 1, 2, 3}


def test_boxes_to_masks_reports_hostile_xml_and_goes_on(tmp_path, capsys) -> None:
    from PIL import Image

    folder = tmp_path / "boxes"
    folder.mkdir()
    for stem in ("bad", "good"):
        Image.new("RGB", (16, 8)).save(folder / f"{stem}.png")
    (folder / "bad.xml").write_text(
        '<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><annotation><object><name>&x;</name></object></annotation>'
    )
    (folder / "good.xml").write_text(
        "<annotation><object><name>cat</name><bndbox><xmin>2</xmin><ymin>2</ymin><xmax>5</xmax>"
        "<ymax>5</ymax></bndbox></object></annotation>"
    )
    assert main(["boxes-to-masks", str(folder), str(tmp_path / "save"), "--images", str(folder)]) == 1
    assert "DOCTYPE" in _one_error_line(capsys, "boxes-to-masks")
    assert (read_mask(tmp_path / "save" / "good.png") == 1).sum() == 16


def test_cli_subprocess_exit_status_and_no_traceback(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "segstudio.cli.main", "import", "coco", str(tmp_path / "missing.json"),
         str(tmp_path / "s")],
        capture_output=True, text=True,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"segstudio-cli import: error: COCO file not found: {tmp_path / 'missing.json'}"
    ]


def test_import_labelme_keeps_a_painted_mask_unless_overwrite(tmp_path, capsys) -> None:
    import json

    from PIL import Image

    from segstudio.core.masks import write_mask

    src, save = tmp_path / "src", tmp_path / "save"
    src.mkdir()
    save.mkdir()
    Image.new("RGB", (12, 10)).save(src / "p.jpg")
    shape = {"label": "zebra", "points": [[1, 1], [8, 8]], "shape_type": "rectangle"}
    (src / "p.json").write_text(json.dumps({"shapes": [shape], "imagePath": "p.jpg"}))
    write_mask(save / "p.png", np.full((10, 12), 1, np.uint8))
    (save / "classes.txt").write_text("background\nhorse\n")
    before = checksums(save)
    assert main(["import-labelme", str(src), str(save)]) == 0
    assert "kept " in capsys.readouterr().err
    assert checksums(save) == before  # neither the mask nor classes.txt (no unused 'zebra') changed
    assert main(["import-labelme", str(src), str(save), "--overwrite"]) == 0
    assert (save / "classes.txt").read_text().splitlines() == ["background", "horse", "zebra"]
    assert (read_mask(save / "p.png") == 2).sum() == 64
