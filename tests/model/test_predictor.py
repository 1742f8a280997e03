"""Predictor: full-size outputs for odd sizes in both modes, probabilities, uncertainty."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from segstudio.model.predictor import Predictor, _upsample_bands, whole_size
from segstudio.model.segformer import SegFormer
from segstudio.model.weights.checkpoints import ModelInfo


@pytest.fixture
def setup(tiny_config, randomised):
    model = randomised(SegFormer(tiny_config))
    info = ModelInfo(variant=None, class_names=[f"c{i}" for i in range(5)], image_size=96)
    return model, info


def _image(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize("mode", ["whole", "slide"])
@pytest.mark.parametrize("shape", [(37, 45), (131, 250), (301, 97)])
def test_full_size_outputs(setup, mode: str, shape: tuple[int, int]) -> None:
    model, info = setup
    pred = Predictor(model, info, device="cpu", mode=mode).predict(
        _image(*shape), return_probs=True, uncertainty=True)
    assert pred.labels.shape == shape and pred.labels.dtype == np.uint8
    assert pred.probs.shape == (5, *shape) and pred.probs.dtype == np.float32
    assert np.allclose(pred.probs.sum(0), 1.0, atol=1e-4)
    assert np.array_equal(pred.probs.argmax(0), pred.labels)
    assert pred.labels.max() < 5
    assert 0.0 <= pred.score <= 1.0
    assert pred.entropy.shape == pred.margin.shape == pred.confidence.shape == shape


def test_whole_mode_matches_manual_pipeline(setup) -> None:
    model, info = setup
    img = _image(120, 200, seed=1)
    pred = Predictor(model, info, device="cpu", amp=False).predict(img)
    x = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255
    x = (x - torch.tensor(info.mean).view(1, 3, 1, 1)) / torch.tensor(info.std).view(1, 3, 1, 1)
    x = F.interpolate(x, size=whole_size((120, 200), 96), mode="bilinear", align_corners=False,
                      antialias=True)
    with torch.no_grad():
        logits = F.interpolate(model.eval()(x), size=(120, 200), mode="bilinear", align_corners=False)
    agree = (logits[0].argmax(0).numpy() == pred.labels).mean()
    assert agree > 0.999


def test_banded_upsampling_equals_interpolate() -> None:
    torch.manual_seed(0)
    logits = torch.randn(3, 17, 23)
    expected = F.interpolate(logits[None], size=(70, 91), mode="bilinear", align_corners=False)[0]
    import segstudio.model.predictor as predictor_module
    old, predictor_module._BAND_BYTES = predictor_module._BAND_BYTES, 3 * 4 * 91 * 8
    try:
        bands = list(_upsample_bands(logits, (70, 91), (70, 91)))
    finally:
        predictor_module._BAND_BYTES = old
    assert len(bands) > 3
    got = torch.cat([b for _, b in bands], dim=1)
    assert (got - expected).abs().max() < 3e-5  # float32 rounding of another order: up to 1.1e-5 on randn


def test_predict_batch_and_whole_size(setup) -> None:
    model, info = setup
    images = [_image(50, 60, 0), _image(70, 40, 1), _image(50, 60, 2)]
    predictor = Predictor(model, info, device="cpu")
    batch = predictor.predict_batch(images)
    assert [p.labels.shape for p in batch] == [(50, 60), (70, 40), (50, 60)]
    single = predictor.predict(images[2])
    assert (single.labels == batch[2].labels).mean() > 0.999
    assert whole_size((1000, 1500), 512) == (352, 512)
    assert whole_size((20, 5000), 512) == (32, 512)


def test_bad_input_and_mode(setup) -> None:
    model, info = setup
    with pytest.raises(ValueError, match="mode"):
        Predictor(model, info, mode="tiles")
    with pytest.raises(ValueError, match="uint8"):
        Predictor(model, info, device="cpu").predict(np.zeros((40, 40), np.uint8))


@pytest.mark.parametrize("native", [True, False])
def test_bf16_copy_on_a_cpu_with_native_bf16(setup, monkeypatch, native: bool) -> None:
    """Where the CPU has native bf16 the predictor runs a bf16 copy of the model (the model
    itself stays float32) and gives float32 logits and nearly the same labels; elsewhere, or
    with amp off, it runs the model itself."""
    from segstudio.model import device
    model, info = setup
    monkeypatch.setattr(device, "cpu_has_native_bf16", lambda: native)
    fast, exact = Predictor(model, info, device="cpu"), Predictor(model, info, device="cpu", amp=False)
    assert exact._network is model and exact.amp_dtype is None
    if not native:
        assert fast._network is model and fast.amp_dtype is None
        return
    assert fast.amp_dtype == torch.bfloat16
    assert {p.dtype for p in fast._network.parameters()} == {torch.bfloat16}
    assert next(model.parameters()).dtype == torch.float32
    img = _image(131, 250, seed=2)
    with torch.inference_mode():
        x = fast._to_tensor(img)
        assert fast._run(x).dtype == torch.float32
        low, full = fast._run(x), exact._run(x)
    assert 0 < (low - full).abs().max() < 0.1 * full.abs().max()
    assert (fast.predict(img).labels == exact.predict(img).labels).mean() > 0.98
