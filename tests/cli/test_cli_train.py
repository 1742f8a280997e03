"""``segstudio-cli train`` on a tiny synthetic project: JSON lines, files, errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from segstudio.cli.main import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "model"))
from train_synth import make_project  # noqa: E402


def test_cli_train_json(tmp_path, capsys):
    image_dir, save_dir = make_project(tmp_path, count=4)
    status = main(["train", str(save_dir), "--images", str(image_dir), "--model", "b0", "--steps", "2",
                   "--size", "64", "--batch", "2", "--workers", "0", "--json", "--out", "m"])
    out = capsys.readouterr().out.strip().splitlines()
    events = [json.loads(line) for line in out]
    assert status == 0, events[-1]
    assert events[-1]["event"] == "result" and events[-1]["status"] == "finished"
    assert any(e["event"] == "epoch" for e in events)
    assert (save_dir / "models" / "m" / "model.safetensors").is_file()


def test_cli_train_plain_and_errors(tmp_path, capsys):
    image_dir, save_dir = make_project(tmp_path, count=3)
    status = main(["train", str(save_dir), "--images", str(image_dir), "--model", "b0", "--steps", "1",
                   "--size", "64", "--batch", "2", "--workers", "0"])
    err = capsys.readouterr().err
    assert status == 0 and "mIoU" in err and "finished" in err
    for mask in save_dir.glob("img_*.png"):
        mask.unlink()
    assert main(["train", str(save_dir), "--images", str(image_dir), "--steps", "1"]) == 1
    assert "no labelled images" in capsys.readouterr().err
