"""The chunked upsample + cross-entropy against F.interpolate + F.cross_entropy: value and gradient."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from segstudio.model.training import upsample_ce
from segstudio.model.training.losses import CrossEntropyLoss
from segstudio.model.training.upsample_ce import upsample_cross_entropy, vertical_weights

# (batch, classes, logit h, w, label H, W): 4x up, odd ratios, one axis only, a downsample; fewer
# than 16 classes (padded to 16 inside), 16 and more
SHAPES = [(2, 5, 7, 9, 27, 35), (1, 3, 4, 4, 16, 16), (3, 4, 13, 11, 50, 43), (2, 6, 8, 8, 8, 32),
          (2, 6, 8, 8, 32, 8), (1, 2, 5, 5, 3, 7), (2, 16, 5, 6, 20, 23), (1, 21, 6, 5, 24, 19)]


def _plain(logits, labels, weight=None, smoothing=0.0):
    up = F.interpolate(logits.float(), size=labels.shape[-2:], mode="bilinear", align_corners=False)
    return F.cross_entropy(up, labels.long(), weight=weight, ignore_index=255, label_smoothing=smoothing)


def _case(shape, seed=0):
    b, k, h, w, height, width = shape
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(b, k, h, w, generator=g) * 3
    labels = torch.randint(0, k, (b, height, width), generator=g)
    labels[torch.rand(b, height, width, generator=g) < 0.2] = 255
    return logits, labels.to(torch.uint8)


def _value_and_grad(fn, logits, labels, factor=1.0, **kw):
    x = logits.clone().requires_grad_()
    loss = factor * fn(x, labels, **kw)
    (grad,) = torch.autograd.grad(loss, x)
    return loss.detach(), grad


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("chunk", [64, 1 << 21])
def test_matches_interpolate_then_cross_entropy(monkeypatch, shape, weighted, smoothing, chunk):
    monkeypatch.setattr(upsample_ce, "CHUNK_ELEMENTS", chunk)  # 64: many chunks, shared source rows
    logits, labels = _case(shape)
    weight = torch.rand(shape[1], generator=torch.Generator().manual_seed(1)) + 0.1 if weighted else None
    want, want_grad = _value_and_grad(_plain, logits, labels, weight=weight, smoothing=smoothing)
    got, got_grad = _value_and_grad(upsample_cross_entropy, logits, labels, weight=weight,
                                    label_smoothing=smoothing)
    assert torch.allclose(got, want, rtol=1e-5, atol=1e-6)
    assert torch.allclose(got_grad, want_grad, rtol=1e-4, atol=1e-6 * float(want_grad.abs().max()))


def test_gradient_of_a_scaled_loss_and_zero_weight_classes():
    """A negative upstream gradient and a class weighted 0 (its pixels count for nothing)."""
    logits, labels = _case((2, 4, 6, 6, 24, 24), seed=3)
    weight = torch.tensor([1.0, 0.0, 2.0, 0.5])
    want, want_grad = _value_and_grad(_plain, logits, labels, factor=-2.5, weight=weight, smoothing=0.05)
    got, got_grad = _value_and_grad(upsample_cross_entropy, logits, labels, factor=-2.5, weight=weight,
                                    label_smoothing=0.05)
    assert torch.allclose(got, want, rtol=1e-5)
    assert torch.allclose(got_grad, want_grad, rtol=1e-4, atol=1e-6 * float(want_grad.abs().max()))


def test_vertical_weights_are_pytorchs():
    """Row y of the resize equals (1 - l) * in[row0] + l * in[row1], checked on one-hot columns."""
    for h, height in [(7, 27), (128, 512), (5, 3), (13, 50)]:
        row0, row1, lam = vertical_weights(h, height)
        eye = torch.eye(h).reshape(1, h, h, 1)  # channel c = one-hot input row c
        rows = F.interpolate(eye, size=(height, 1), mode="bilinear", align_corners=False)[0, :, :, 0]
        mine = torch.zeros(h, height)
        mine[row0, torch.arange(height)] += 1 - lam
        mine[row1, torch.arange(height)] += lam
        assert torch.allclose(rows, mine, atol=1e-6)


def test_cross_entropy_loss_module_takes_the_chunked_path(monkeypatch):
    calls = []
    real = upsample_ce._RowsCrossEntropy.apply
    monkeypatch.setattr(upsample_ce._RowsCrossEntropy, "apply", lambda *a: calls.append(1) or real(*a))
    logits, labels = _case((2, 5, 8, 8, 32, 32))
    loss_fn = CrossEntropyLoss(class_weights=[1, 2, 1, 1, 3], label_smoothing=0.1)
    want, want_grad = _value_and_grad(_plain, logits, labels, weight=loss_fn.weight, smoothing=0.1)
    got, got_grad = _value_and_grad(lambda x, y: loss_fn(x, y), logits, labels)
    assert calls
    assert torch.allclose(got, want, rtol=1e-5)
    assert torch.allclose(got_grad, want_grad, rtol=1e-4, atol=1e-7)


def test_negative_class_weights_are_refused():
    logits, labels = _case((1, 3, 4, 4, 8, 8))
    with pytest.raises(ValueError, match="negative"):
        upsample_cross_entropy(logits, labels, weight=torch.tensor([1.0, -1.0, 1.0]))


def test_under_cpu_autocast_bf16_runs_in_float32_and_is_close():
    """bf16 logits from an autocast forward, loss and backward called inside the region: the loss
    and gradient are float32 and match the plain path on the same bf16 logits."""
    logits, labels = _case((2, 6, 8, 8, 32, 32), seed=5)
    conv = torch.nn.Conv2d(6, 6, 1)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        x = logits.clone().requires_grad_()
        out = conv(x)
        assert out.dtype == torch.bfloat16
        loss = upsample_cross_entropy(out, labels, weight=torch.ones(6), label_smoothing=0.1)
        (grad,) = torch.autograd.grad(loss, x)
    assert loss.dtype == torch.float32
    ref_x = logits.clone().requires_grad_()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ref_out = conv(ref_x)
    ref = _plain(ref_out, labels, weight=torch.ones(6), smoothing=0.1)
    (ref_grad,) = torch.autograd.grad(ref, ref_x)
    assert torch.allclose(loss, ref, rtol=1e-4)
    assert torch.allclose(grad, ref_grad, rtol=2e-2, atol=2e-2 * float(ref_grad.abs().max()))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_matches_on_cuda():
    logits, labels = _case((2, 5, 16, 16, 64, 64), seed=7)
    weight = torch.rand(5) + 0.1
    want, want_grad = _value_and_grad(_plain, logits.cuda(), labels.cuda(), weight=weight.cuda(), smoothing=0.1)
    got, got_grad = _value_and_grad(upsample_cross_entropy, logits.cuda(), labels.cuda(),
                                    weight=weight.cuda(), label_smoothing=0.1)
    assert torch.allclose(got, want, rtol=1e-5)
    assert torch.allclose(got_grad, want_grad, rtol=1e-4, atol=1e-6 * float(want_grad.abs().max()))


def test_channels_last_logits_as_training_gives_them():
    """In training the classifier's logits are channels_last (ops.classify): same value, same grad."""
    logits, labels = _case((2, 5, 9, 7, 33, 30), seed=9)
    want, want_grad = _value_and_grad(_plain, logits, labels, smoothing=0.1)
    x = logits.clone().requires_grad_()
    loss = upsample_cross_entropy(x.contiguous(memory_format=torch.channels_last), labels, label_smoothing=0.1)
    (got_grad,) = torch.autograd.grad(loss, x)
    assert torch.allclose(loss, want, rtol=1e-5)
    assert torch.allclose(got_grad, want_grad, rtol=1e-4, atol=1e-6 * float(want_grad.abs().max()))


@pytest.mark.parametrize("same_size", [False, True])
def test_nothing_valid_gives_zero_and_zero_gradient(same_size):
    logits, labels = _case((2, 3, 8, 8, 8 if same_size else 32, 8 if same_size else 32))
    x = logits.clone().requires_grad_()
    loss = CrossEntropyLoss()(x, torch.full_like(labels, 255))
    (grad,) = torch.autograd.grad(loss, x)
    assert loss.item() == 0.0 and not grad.any()
    # only pixels of a class weighted 0: nothing counts either
    x = logits.clone().requires_grad_()
    loss = CrossEntropyLoss(class_weights=[0.0, 1.0, 1.0])(x, torch.zeros_like(labels))
    (grad,) = torch.autograd.grad(loss, x)
    if not same_size:  # (F.cross_entropy itself gives NaN there)
        assert loss.item() == 0.0 and not grad.any()


def test_negative_class_weights_are_refused_by_the_module():
    with pytest.raises(ValueError, match="negative"):
        CrossEntropyLoss(class_weights=[1.0, -0.5])
