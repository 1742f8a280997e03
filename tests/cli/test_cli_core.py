"""``segstudio-cli import-labelme`` and ``evaluate``: in-process runs and one real subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from segstudio.cli.main import main
from segstudio.core.masks import write_mask


def masks(folder, maps: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for stem, label in maps.items():
        write_mask(folder / f"{stem}.png", np.asarray(label, np.uint8))


@pytest.fixture
def scored(tmp_path):
    (tmp_path / "classes.txt").write_text("background\ncat\ndog\n")
    masks(tmp_path / "gt", {"a": [[0, 0, 1, 1]], "b": [[2, 2, 255, 0]]})
    masks(tmp_path / "pred", {"a": [[0, 1, 1, 1]], "b": [[2, 0, 1, 0]]})
    return tmp_path


def test_evaluate_table(scored, capsys) -> None:
    status = main(["evaluate", str(scored / "gt"), str(scored / "pred"), "--classes", str(scored / "classes.txt")])
    out = capsys.readouterr().out
    assert status == 0
    # background: tp 2, gt 3, pred 3 -> IoU 1/2 ; cat: tp 2, gt 2, pred 3 -> 2/3 ; dog: tp 1, gt 2, pred 1 -> 1/2
    # (the pixel whose ground truth is 255 is not counted, whatever was predicted there)
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()}
    assert rows["background"] == ["50.00", "66.67", "66.67", "3"]
    assert rows["cat"] == ["66.67", "100.00", "80.00", "2"]
    assert rows["dog"] == ["50.00", "50.00", "66.67", "2"]
    assert rows["mIoU"] == ["55.56"] and rows["fwIoU"] == ["54.76"]


def test_evaluate_json(scored, capsys) -> None:
    main(["evaluate", str(scored / "gt"), str(scored / "pred"), "--classes", str(scored / "classes.txt"), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in data["classes"]] == ["background", "cat", "dog"]
    assert data["classes"][1]["iou"] == pytest.approx(2 / 3)
    assert data["pixel_accuracy"] == pytest.approx(5 / 7) and data["images"] == 2


def test_evaluate_missing_prediction_names_the_file(scored, capsys) -> None:
    (scored / "pred" / "b.png").unlink()
    status = main(["evaluate", str(scored / "gt"), str(scored / "pred"), "--classes", str(scored / "classes.txt")])
    err = capsys.readouterr().err
    assert status == 1 and "b.png" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_evaluate_flag_combinations(scored, capsys) -> None:
    classes = str(scored / "classes.txt")
    assert main(["evaluate", str(scored / "gt"), "--classes", classes]) == 1
    assert main(["evaluate", str(scored / "gt"), str(scored / "pred"), "--model", "b0", "--classes", classes]) == 1
    assert "PRED_DIR" in capsys.readouterr().err


def test_import_labelme_then_evaluate_against_labelme2voc(shared_fixtures, tmp_path, capsys) -> None:
    root = shared_fixtures / "labelme_semantic"
    out = tmp_path / "out"
    status = main(["import-labelme", str(root / "data_annotated"), str(out), "--classes", str(root / "labels.txt")])
    assert status == 0 and "3 mask(s)" in capsys.readouterr().out
    assert len(list(out.glob("*.png"))) == 3 and len(list(out.glob("*.xml"))) == 3
    assert (out / "classes.txt").read_text().splitlines()[16] == "potted plant"
    reference = root / "data_dataset_voc" / "SegmentationClass"
    main(["evaluate", str(reference), str(out), "--classes", str(out / "classes.txt"), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert data["pixel_accuracy"] > 0.9999 and data["miou"] > 0.999
    assert data["classes"][1]["iou"] is None  # aeroplane is in neither


def test_import_labelme_broken_file_exits_1(tmp_path, capsys) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "x.json").write_text("{")
    assert main(["import-labelme", str(tmp_path / "src"), str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "x.json" in err and "Traceback" not in err
    assert main(["import-labelme", str(tmp_path / "nothere"), str(tmp_path / "out")]) == 1


def test_subprocess_smoke(scored) -> None:
    exe = shutil.which("segstudio-cli")
    command = [exe] if exe else [sys.executable, "-m", "segstudio.cli.main"]
    result = subprocess.run(
        command + ["evaluate", str(scored / "gt"), str(scored / "pred"), "--classes", str(scored / "classes.txt")],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "mIoU" in result.stdout
    bad = subprocess.run(command + ["evaluate", str(scored / "gt"), str(scored / "nope"), "--classes",
                                    str(scored / "classes.txt")], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "nope" in bad.stderr and "Traceback" not in bad.stderr


def test_predict_says_when_given_a_file_or_an_empty_folder(tmp_path, capsys) -> None:
    from segstudio.cli.main import main

    (tmp_path / "empty").mkdir()
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"not read")
    assert main(["predict", "b0", str(tmp_path / "empty"), str(tmp_path / "out")]) == 1
    assert "no images in" in capsys.readouterr().err
    assert main(["predict", "b0", str(photo), str(tmp_path / "out2")]) == 1
    assert "is a file: predict reads a folder" in capsys.readouterr().err


def test_help_has_no_restructuredtext_marks(capsys) -> None:
    from segstudio.cli.main import main

    for command in ("train", "predict", "export", "import", "boxes-to-masks", "evaluate", "fetch-model"):
        assert main([command, "--help"]) == 0
        text = capsys.readouterr().out
        assert "``" not in text and ":func:" not in text and ":class:" not in text, command
