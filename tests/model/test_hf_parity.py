"""Same weights, same input, same logits as transformers' SegformerForSemanticSegmentation.

transformers is a test-only dependency. Weights are randomised far from the init (logits O(1))
so a swapped or mis-ordered tensor would show.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from segstudio.model.weights.checkpoint_keys import to_nvlabs_names
from segstudio.model.weights.checkpoints import load_model

transformers = pytest.importorskip("transformers")

ARCH = {
    "b0": dict(hidden_sizes=[32, 64, 160, 256], depths=[2, 2, 2, 2], decoder_hidden_size=256),
    "b2": dict(hidden_sizes=[64, 128, 320, 512], depths=[3, 4, 6, 3], decoder_hidden_size=768),
}
SIZES = [(64, 64), (250, 333)]


def _hf_model(variant: str, randomise, num_labels: int = 6):
    torch.manual_seed(0)
    config = transformers.SegformerConfig(num_labels=num_labels, **ARCH[variant])
    config.id2label = {i: f"thing {i}" for i in range(num_labels)}
    config.label2id = {v: k for k, v in config.id2label.items()}
    return randomise(transformers.SegformerForSemanticSegmentation(config)).eval()


def _compare(hf, ours, sizes=SIZES) -> None:
    ours.eval()
    for size in sizes:
        x = torch.randn(1, 3, *size)
        with torch.inference_mode():
            expected = hf(pixel_values=x).logits
            got = ours(x)
        assert got.shape == expected.shape
        assert expected.abs().max() > 0.5
        assert (got - expected).abs().max() <= 1e-4, size


@pytest.mark.parametrize("variant", ["b0", "b2"])
def test_saved_folder_gives_same_logits(variant: str, tmp_path: Path, randomised) -> None:
    hf = _hf_model(variant, randomised)
    hf.save_pretrained(tmp_path)
    ours, info = load_model(tmp_path)
    assert info.variant == variant and info.source_format == "hf"
    assert info.class_names == [f"thing {i}" for i in range(6)]
    _compare(hf, ours, SIZES if variant == "b0" else SIZES[1:])


def test_in_memory_state_dict_and_nvlabs_names(tmp_path: Path, randomised) -> None:
    hf = _hf_model("b0", randomised)
    raw = hf.state_dict()  # transformers 5: v5 names; 4.x: Hub names
    torch.save(raw, tmp_path / "raw.bin")
    ours, info = load_model(tmp_path / "raw.bin")
    assert info.variant == "b0"
    _compare(hf, ours, SIZES[1:])

    hub = ours.state_dict()
    nv = {"state_dict": to_nvlabs_names(hub), "meta": {"note": "mmseg"}}
    nv["state_dict"]["decode_head.conv_seg.weight"] = torch.zeros(6, 128, 1, 1)
    assert any(re.match(r"backbone\.block1\.0\.attn\.kv\.weight", k) for k in nv["state_dict"])
    assert "decode_head.linear_fuse.bn.running_var" in nv["state_dict"]
    torch.save(nv, tmp_path / "segformer.b0.pth")
    again, info = load_model(tmp_path / "segformer.b0.pth")
    assert info.source_format == "nvlabs"
    _compare(hf, again, SIZES[:1])


def test_encoder_only_imagenet_checkpoint(tmp_path: Path, randomised) -> None:
    torch.manual_seed(1)
    config = transformers.SegformerConfig(num_labels=1000, **ARCH["b0"])
    cls = randomised(transformers.SegformerForImageClassification(config))
    cls.save_pretrained(tmp_path)
    ours, info = load_model(tmp_path, num_labels=5)
    assert info.num_labels == 5 and ours.config.num_labels == 5
    assert info.source_format == "hf-encoder"
    saved = {k: v for k, v in _hub_file(tmp_path).items() if k.startswith("segformer.encoder.")}
    own = ours.state_dict()
    assert len(saved) == 192
    for k, v in saved.items():
        assert torch.equal(own[k], v), k
    head = own["decode_head.classifier.weight"]
    assert head.shape == (5, 256, 1, 1) and head.std() < 0.05  # fresh init, not ImageNet's

    # the NVlabs flat ImageNet file (mit_b0.pth): no prefix, head.*
    flat = {k.removeprefix("backbone."): v for k, v in to_nvlabs_names(saved).items()}
    flat["head.weight"], flat["head.bias"] = torch.zeros(1000, 256), torch.zeros(1000)
    torch.save(flat, tmp_path / "mit_b0.pth")
    again, info = load_model(tmp_path / "mit_b0.pth", class_names=["bg", "a", "b"])
    assert info.class_names == ["bg", "a", "b"] and info.source_format == "nvlabs-encoder"
    for k, v in saved.items():
        assert torch.equal(again.state_dict()[k], v), k


def _hub_file(folder: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file
    return load_file(str(folder / "model.safetensors"))
