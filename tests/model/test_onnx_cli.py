"""ONNX export (dynamic sizes, checked in onnxruntime) and the model subcommands of segstudio-cli."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from segstudio.cli.main import main
from segstudio.core.masks import read_mask, write_mask
from segstudio.model.device import autocast_dtype, describe_device, pick_device
from segstudio.model.onnx_export import export_onnx, verify_onnx
from segstudio.model.segformer import SegFormer
from segstudio.model.weights.checkpoints import ModelInfo, save_model


@pytest.fixture
def model_dir(tmp_path: Path, tiny_config, randomised) -> Path:
    model = randomised(SegFormer(tiny_config)).eval()
    info = ModelInfo(variant=None, class_names=["bg", "a", "b", "c", "d"], image_size=64)
    save_model(tmp_path / "model", model, info)
    return tmp_path / "model"


def test_onnx_dynamic_sizes_match_torch(tmp_path: Path, tiny_config, randomised) -> None:
    ort = pytest.importorskip("onnxruntime")
    model = randomised(SegFormer(tiny_config)).eval()
    path = tmp_path / "m.onnx"
    export_onnx(model, path, verify=False)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for shape in [(1, 3, 64, 64), (2, 3, 97, 250)]:
        x = torch.randn(*shape)
        with torch.no_grad():
            expected = model(x).numpy()
        got = session.run(None, {"pixel_values": x.numpy()})[0]
        assert got.shape == expected.shape
        assert np.abs(got - expected).max() <= 1e-3
    assert verify_onnx(model, path, sample_size=(40, 72)) <= 1e-3


def test_cli_model_info(model_dir: Path, capsys) -> None:
    assert main(["model-info", str(model_dir)]) == 0
    out = capsys.readouterr().out
    assert "segstudio-segformer" in out and "custom" in out and "  4  d" in out
    assert "parameters:" in out


def test_cli_predict_writes_palette_masks(model_dir: Path, tmp_path: Path, capsys) -> None:
    images = tmp_path / "images"
    images.mkdir()
    rng = np.random.default_rng(0)
    for name, size in [("one.png", (70, 50)), ("two.jpg", (45, 90))]:
        Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(images / name)
    (images / "notes.txt").write_text("not an image")
    for mode in ("whole", "slide"):
        out = tmp_path / f"out_{mode}"
        assert main(["predict", str(model_dir), str(images), str(out), "--device", "cpu",
                     "--mode", mode]) == 0
        assert sorted(p.name for p in out.iterdir()) == ["one.png", "two.png"]
        with Image.open(out / "one.png") as mask:
            assert mask.mode == "P" and mask.size == (50, 70)
        assert read_mask(out / "two.png").shape == (45, 90)
    assert "[2/2]" in capsys.readouterr().err


def test_cli_no_amp_predicts_and_evaluates_in_float32(model_dir: Path, tmp_path: Path, monkeypatch,
                                                      capsys) -> None:
    """``--no-amp`` reaches the predictor of ``predict`` and ``evaluate --model``; the default
    asks for the hardware's reduced precision; ``predict`` says which it runs in."""
    from segstudio.model import predictor
    seen = []
    real = predictor.Predictor.__init__
    monkeypatch.setattr(predictor.Predictor, "__init__",
                        lambda self, *a, amp=True, **k: seen.append(amp) or real(self, *a, amp=amp, **k))
    images, gt = tmp_path / "images", tmp_path / "gt"
    images.mkdir()
    gt.mkdir()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (40, 48, 3), dtype=np.uint8)).save(images / "a.png")
    assert main(["predict", str(model_dir), str(images), str(tmp_path / "out"), "--device", "cpu", "--no-amp"]) == 0
    assert "on cpu in float32\n" in capsys.readouterr().err
    assert main(["predict", str(model_dir), str(images), str(tmp_path / "out2"), "--device", "cpu"]) == 0
    first = capsys.readouterr().err.splitlines()[0]
    assert first.endswith(("on cpu in float32", "on cpu in bfloat16 (--no-amp for float32)"))
    write_mask(gt / "a.png", np.zeros((40, 48), np.uint8))
    (gt / "classes.txt").write_text("background\nthing\n")
    assert main(["evaluate", str(gt), "--model", str(model_dir), "--images", str(images), "--classes",
                 str(gt / "classes.txt"), "--device", "cpu", "--no-amp"]) == 0
    assert seen == [False, True, False]


def test_cli_errors_are_one_line(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.safetensors"
    bad.write_text("hello")
    assert main(["model-info", str(bad)]) == 1
    assert "error:" in capsys.readouterr().err


def test_cli_export_onnx(model_dir: Path, tmp_path: Path, capsys) -> None:
    pytest.importorskip("onnxruntime")
    out = tmp_path / "m.onnx"
    assert main(["export-onnx", str(model_dir), str(out)]) == 0
    assert out.stat().st_size > 10_000 and "matches torch" in capsys.readouterr().err


def test_device_helpers() -> None:
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device("auto").type in ("cuda", "mps", "cpu")
    assert autocast_dtype("cpu") is None
    assert "CPU" in describe_device("cpu")
    with pytest.raises(ValueError, match="unknown device"):
        pick_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            pick_device("cuda")


def test_cli_predict_skips_masks_saved_beside_their_photos(model_dir: Path, tmp_path: Path, capsys) -> None:
    """labelImg's default save folder is the image folder: photo.png next to photo.jpg is a mask."""
    images = tmp_path / "images"
    images.mkdir()
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)).save(images / "photo.jpg")
    Image.fromarray(rng.integers(0, 4, (40, 60), dtype=np.uint8)).save(images / "photo.png")
    Image.fromarray(rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)).save(images / "alone.png")
    out = tmp_path / "out"
    assert main(["predict", str(model_dir), str(images), str(out), "--device", "cpu"]) == 0
    assert "[2/2]" in capsys.readouterr().err  # photo.jpg and alone.png; the mask is no input
    assert sorted(p.name for p in out.iterdir()) == ["alone.png", "photo.png"]


def test_onnx_carries_class_names_normalisation_and_a_fixed_class_dimension(model_dir: Path, tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    out = tmp_path / "exported.onnx"
    assert main(["export-onnx", str(model_dir), str(out), "--no-verify"]) == 0
    graph = onnx.load(str(out))
    meta = {p.key: p.value for p in graph.metadata_props}
    assert json.loads(meta["class_names"]) == ["bg", "a", "b", "c", "d"]
    assert json.loads(meta["image_mean"]) == pytest.approx([0.485, 0.456, 0.406])
    dims = graph.graph.output[0].type.tensor_type.shape.dim
    assert dims[1].dim_value == 5 and dims[2].dim_param and dims[3].dim_param
