"""Click to segment on ONNX Runtime: the exported image encoder gives the masks eager PyTorch gives,
is exported once per model into the user's cache (never into the model or a project), and any
failure falls back to PyTorch with one note."""

from __future__ import annotations

import builtins
import hashlib
import logging
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("transformers")
pytest.importorskip("onnxruntime")
sys.path.insert(0, str(Path(__file__).parent))
from sam_tiny import TINY_SAM, TINY_SAM2, prompt_sensitive  # noqa: E402

from segstudio.model.sam import PromptableSegmenter, onnx_encoder  # noqa: E402
from segstudio.model.sam.frame import Frame  # noqa: E402
from segstudio.model.sam.loader import build_random  # noqa: E402

PROMPTS = [
    {"points": [[20, 30]], "labels": [1]},
    {"points": [[10, 20], [60, 40]], "labels": [1, 0]},
    {"box": (5, 8, 50, 55)},
]


def _image(height: int = 60, width: int = 80) -> np.ndarray:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 60, (height, width, 3), dtype=np.uint8)
    image[15:45, 10:50] = (220, 90, 40)
    return image


def _sums(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum())) if (a | b).any() else 1.0


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("SEGSTUDIO_CACHE", str(tmp_path / "user-cache"))
    monkeypatch.delenv(onnx_encoder.RUNTIME_ENV, raising=False)
    return tmp_path / "user-cache" / "sam-onnx"


def _saved(tmp_path: Path, config: dict, seed: int = 3, sensitive: bool = False) -> Path:
    model, _ = build_random(config, seed=seed)
    if sensitive:
        prompt_sensitive(model, seed)
    model.save_pretrained(tmp_path / "model")
    return tmp_path / "model"


@pytest.mark.parametrize("config", [TINY_SAM, TINY_SAM2], ids=["sam", "sam2"])
def test_sam_onnx_encoder_gives_the_masks_of_eager_torch(tmp_path, cache, config) -> None:
    folder = _saved(tmp_path, config)
    before = _sums(folder)
    fast = PromptableSegmenter.from_folder(folder, runtime="onnx")
    eager = PromptableSegmenter.from_folder(folder, runtime="torch")
    assert (fast.runtime, eager.runtime) == ("ONNX Runtime", "PyTorch") and fast.note is None
    image = _image()
    for segmenter in (fast, eager):
        segmenter.embed("x", image)
    for prompt in PROMPTS:
        a, b = fast.predict("x", **prompt), eager.predict("x", **prompt)
        assert a.best.shape == (60, 80)
        assert _iou(a.best, b.best) >= 0.95, prompt
    assert _sums(folder) == before  # nothing written beside the user's model
    exported = sorted(p.name for p in cache.iterdir())
    assert len(exported) == (2 if config is TINY_SAM2 else 1)  # SAM 2: the point decoder too
    assert all(name.startswith(before["model.safetensors"][:32]) for name in exported)
    assert (fast.decoder is not None) == (config is TINY_SAM2)


def test_sam_onnx_export_is_reused_and_redone_for_changed_weights(tmp_path, cache, monkeypatch) -> None:
    folder = _saved(tmp_path, TINY_SAM2)
    PromptableSegmenter.from_folder(folder)
    first = list(cache.iterdir())
    calls = []
    real_export = onnx_encoder.export_encoder
    monkeypatch.setattr(onnx_encoder, "export_encoder", lambda *a: calls.append(1) or real_export(*a))
    again = PromptableSegmenter.from_folder(folder)
    assert calls == [] and again.runtime == "ONNX Runtime" and list(cache.iterdir()) == first
    _saved(tmp_path, TINY_SAM2, seed=4)  # the same folder, new weights
    changed = PromptableSegmenter.from_folder(folder)
    assert calls == [1] and changed.runtime == "ONNX Runtime"
    assert len(list(cache.iterdir())) == 4  # encoder and point decoder of each weights
    assert not [p for p in cache.iterdir() if p.suffix != ".onnx"]  # no temporary left


def test_sam_without_onnxruntime_falls_back_to_torch_with_one_note(tmp_path, cache, monkeypatch, caplog) -> None:
    folder = _saved(tmp_path, TINY_SAM)
    real_import = builtins.__import__

    def no_onnxruntime(name, *args, **kwargs):
        if name.startswith("onnxruntime"):
            raise ImportError("No module named 'onnxruntime'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnxruntime)
    with caplog.at_level(logging.WARNING):
        segmenter = PromptableSegmenter.from_folder(folder)
    assert segmenter.runtime == "PyTorch" and "onnxruntime is missing" in segmenter.note
    assert [r.getMessage() for r in caplog.records] == [segmenter.note]
    with pytest.raises(ImportError):
        PromptableSegmenter.from_folder(folder, runtime="onnx")
    monkeypatch.setattr(builtins, "__import__", real_import)
    eager = PromptableSegmenter.from_folder(folder, runtime="torch")
    for s in (segmenter, eager):
        s.embed("x", _image())
    assert np.array_equal(segmenter.predict("x", **PROMPTS[1]).masks, eager.predict("x", **PROMPTS[1]).masks)
    assert not cache.exists() or not list(cache.iterdir())


def test_sam_failed_export_falls_back_and_leaves_no_file(tmp_path, cache, monkeypatch) -> None:
    folder = _saved(tmp_path, TINY_SAM2)

    def broken(*args):
        raise RuntimeError("Unsupported: ONNX export of operator foo\nmore detail")

    monkeypatch.setattr(onnx_encoder, "export_encoder", broken)
    segmenter = PromptableSegmenter.from_folder(folder)
    assert segmenter.runtime == "PyTorch"
    assert segmenter.note.endswith("(RuntimeError: Unsupported: ONNX export of operator foo)")
    segmenter.embed("x", _image())
    assert segmenter.predict("x", **PROMPTS[0]).best.shape == (60, 80)
    with pytest.raises(RuntimeError):
        PromptableSegmenter.from_folder(folder, runtime="onnx")
    monkeypatch.setenv(onnx_encoder.RUNTIME_ENV, "tensorrt")
    with pytest.raises(ValueError, match="unknown click-to-segment runtime"):
        PromptableSegmenter.from_folder(folder)
    assert not cache.exists() or not list(cache.iterdir())


def test_sam2_onnx_decoder_gives_the_eager_masks_for_points_and_boxes(tmp_path, cache) -> None:
    folder = _saved(tmp_path, TINY_SAM2, sensitive=True)
    fast = PromptableSegmenter.from_folder(folder, runtime="onnx")
    eager = PromptableSegmenter(fast.model, fast.family, encoder=fast.encoder)  # decoder on torch
    image = _image(70, 90)
    for segmenter in (fast, eager):
        segmenter.embed("x", image)
    prompts = [
        {"points": [[20, 30]], "labels": [1]},
        {"points": [[10, 20], [60, 40], [85, 65]], "labels": [1, 0, 1]},
        {"box": (60, 50, 8, 5)},  # dragged up and left: the corners are sorted first
        {"points": [[30, 30], [12, 12]], "labels": [1, 0], "box": (5, 8, 50, 55)},
    ]
    for prompt in prompts:
        a, b = fast.predict("x", **prompt), eager.predict("x", **prompt)
        assert np.allclose(a.scores, b.scores, atol=1e-4), prompt
        assert all(_iou(x, y) >= 0.999 for x, y in zip(a.masks, b.masks)), prompt


@pytest.mark.parametrize("letterbox", [False, True], ids=["sam2-stretch", "sam-letterbox"])
@pytest.mark.parametrize("height,width", [(3000, 4000), (1024, 1024), (801, 333), (150, 200), (60, 80)])
def test_sam_one_resize_mask_equals_the_two_step_reference(letterbox, height, width) -> None:
    torch.manual_seed(height + width)
    smooth = torch.nn.functional.interpolate(torch.randn(1, 1, 16, 16) * 5, (256, 256), mode="bilinear")[0]
    frame = Frame(height, width, 1024, letterbox)
    reference = (frame.mask_logits(smooth)[0] > 0).numpy()
    fast = frame.mask(smooth[0])
    assert fast.shape == (height, width) and fast.dtype == bool
    assert (fast == reference).mean() >= 0.99995  # only float ties at zero may differ
    assert _iou(fast, reference) >= 0.999


def test_a_first_export_is_announced_before_it_starts_and_a_cached_one_is_not(tmp_path, cache) -> None:
    folder = _saved(tmp_path, TINY_SAM2)
    heard: list[tuple[str, bool]] = []

    def announce(text: str) -> None:
        heard.append((text, cache.exists() and any(cache.iterdir())))

    PromptableSegmenter.from_folder(folder, runtime="onnx", announce=announce)
    assert heard == [(onnx_encoder.EXPORT_NOTE, False)]  # before anything was written
    PromptableSegmenter.from_folder(folder, runtime="onnx", announce=announce)
    assert len(heard) == 1


def test_an_interrupted_embedding_caches_nothing_and_a_waiting_caller_computes_it(tmp_path, cache) -> None:
    import threading

    from segstudio.model.sam.interrupt import Interrupt, Interrupted

    fast = PromptableSegmenter.from_folder(_saved(tmp_path, TINY_SAM2), runtime="onnx")
    image = _image()
    stopped = Interrupt()
    stopped.set()
    with pytest.raises(Interrupted):
        fast.encoder(Frame(60, 80, fast.size, False).pixels(image), stopped)  # ONNX Runtime's terminate
    with pytest.raises(Interrupted):
        fast.embed("x", image, stopped)
    assert not fast.is_embedded("x")

    go, started, real = threading.Event(), threading.Event(), fast._encode
    ahead, results = Interrupt(), {}

    def slow_encode(pixels, interrupt=None):
        if interrupt is ahead:
            started.set()
            go.wait(30)
        return real(pixels, interrupt)

    fast._encode = slow_encode

    def run(name, interrupt):
        try:
            fast.embed("y", image, interrupt)
            results[name] = "embedded"
        except Interrupted:
            results[name] = "interrupted"

    first = threading.Thread(target=run, args=("ahead", ahead))
    first.start()
    assert started.wait(30)
    second = threading.Thread(target=run, args=("on screen", None))  # waits for the first
    second.start()
    ahead.set()
    go.set()
    first.join(30)
    second.join(30)
    assert results == {"ahead": "interrupted", "on screen": "embedded"} and fast.is_embedded("y")
