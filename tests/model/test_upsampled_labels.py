"""Labels of upsampled logits from the edge pixels alone equal the argmax of the full upsampling."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from segstudio.model.upsampled_labels import upsampled_labels  # noqa: E402


def full_argmax(logits, shape, full=None):
    """The literal definition: every class score upsampled, then the argmax."""
    up = F.interpolate(logits[None], size=full or shape, mode="bilinear", align_corners=False)[0]
    return up[:, :shape[0], :shape[1]].argmax(0)


def blocky(k: int, h: int, w: int, seed: int) -> torch.Tensor:
    """Logits whose argmax forms a few large regions, as a trained model's do."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.randn(1, k, 3, 4, generator=g)
    return F.interpolate(coarse, size=(h, w), mode="nearest")[0] + 0.01 * torch.randn(k, h, w, generator=g)


@pytest.mark.parametrize("seed", range(12))
def test_random_logits_match_the_full_upsampling(seed):
    g = torch.Generator().manual_seed(seed)
    k, h, w = (int(torch.randint(lo, hi, (), generator=g)) for lo, hi in ((1, 30), (1, 30), (1, 30)))
    shape = (int(torch.randint(h, 4 * h + 30, (), generator=g)), int(torch.randint(w, 4 * w + 30, (), generator=g)))
    logits = torch.randn(k, h, w, generator=g)
    assert torch.equal(upsampled_labels(logits, shape).long(), full_argmax(logits, shape))


@pytest.mark.parametrize("seed", range(4))
def test_blocky_logits_and_channels_last_layout(seed):
    logits = blocky(9, 32, 40, seed)
    shape = (128, 160)
    expected = full_argmax(logits, shape)
    assert expected.unique().numel() > 1  # regions and edges, not one class
    assert torch.equal(upsampled_labels(logits, shape).long(), expected)
    channels_last = logits[None].contiguous(memory_format=torch.channels_last)[0]
    assert torch.equal(upsampled_labels(channels_last, shape).long(), expected)


def test_a_padded_grid_is_sampled_as_the_full_size():
    """Slide mode: the logits cover a padded image, the labels its top-left part."""
    logits = torch.randn(5, 20, 24, generator=torch.Generator().manual_seed(3))
    assert torch.equal(upsampled_labels(logits, (70, 90), full=(80, 96)).long(),
                       full_argmax(logits, (70, 90), full=(80, 96)))


def test_dtype_and_many_classes():
    small = upsampled_labels(torch.randn(3, 4, 4), (16, 16))
    assert small.dtype == torch.uint8 and small.shape == (16, 16)
    half = torch.randn(3, 4, 4).bfloat16()  # low-precision logits are read as float32
    assert torch.equal(upsampled_labels(half, (16, 16)).long(), full_argmax(half.float(), (16, 16)))
    many = torch.randn(300, 4, 5, generator=torch.Generator().manual_seed(0))
    out = upsampled_labels(many, (13, 17))
    assert out.dtype == torch.int64
    assert torch.equal(out, full_argmax(many, (13, 17)))


def test_bands_and_chunks(monkeypatch):
    """Small bands and chunks (as a huge photo gets) give the same labels."""
    import segstudio.model.upsampled_labels as module
    logits = torch.randn(7, 16, 16, generator=torch.Generator().manual_seed(5))
    expected = full_argmax(logits, (61, 67))
    monkeypatch.setattr(module, "_BAND_PIXELS", 200)
    monkeypatch.setattr(module, "_CHUNK_BYTES", 24 * 7 * 10)
    assert torch.equal(upsampled_labels(logits, (61, 67)).long(), expected)


def test_validation_confusion_counts_the_upsampled_argmax():
    """The training's validation (``evaluation.confusion_update``) takes its labels this way on a
    CPU: the confusion equals the one of the full upsampling, pixels labelled 255 left out."""
    from segstudio.model.evaluation import confusion_update
    g = torch.Generator().manual_seed(7)
    logits = torch.randn(3, 6, 10, 14, generator=g)
    labels = torch.randint(0, 6, (3, 37, 53), generator=g)
    labels[:, :5] = 255
    matrix = torch.zeros(36, dtype=torch.int64)
    confusion_update(matrix, logits, labels)
    pred = F.interpolate(logits, size=(37, 53), mode="bilinear", align_corners=False).argmax(1)
    valid = labels != 255
    expected = torch.bincount(labels[valid] * 6 + pred[valid], minlength=36)
    assert torch.equal(matrix, expected) and matrix.sum() == valid.sum()
