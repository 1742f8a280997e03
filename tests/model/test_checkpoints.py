"""Our model folder, bare files, class changes, and the errors a user can cause."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from segstudio.core.errors import CheckpointError
from segstudio.model.segformer import SegFormer, config_for
from segstudio.model.weights.checkpoints import ModelInfo, load_model, save_model


@pytest.fixture
def saved(tmp_path: Path, tiny_config, randomised) -> tuple[Path, SegFormer]:
    model = randomised(SegFormer(tiny_config)).eval()
    info = ModelInfo(variant=None, class_names=["bg", "cat", "dog", "sky", "road"],
                     colours=[(0, 0, 0), (255, 0, 0)], image_size=384)
    save_model(tmp_path / "m", model, info)
    return tmp_path / "m", model


def test_round_trip_of_our_format(saved) -> None:
    folder, model = saved
    meta = json.loads((folder / "config.json").read_text())
    assert meta["format"] == "segstudio-segformer" and meta["segformer"]["hidden_sizes"] == [16, 32, 48, 64]
    loaded, info = load_model(folder)
    assert info.class_names == ["bg", "cat", "dog", "sky", "road"]
    assert info.colours[:2] == [(0, 0, 0), (255, 0, 0)] and len(info.colours) == 5
    assert info.image_size == 384 and info.source_format == "segstudio-segformer"
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]  # no temp files left
    for k, v in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v), k
    x = torch.randn(1, 3, 64, 80)
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))


def test_model_info_json_round_trip() -> None:
    info = ModelInfo(variant="b0", class_names=["a", "b"], source="x", source_format="hf")
    again = ModelInfo.from_json(info.to_json())
    assert again == info and again.colours == info.colours


def test_new_class_count_reinitialises_only_the_classifier(saved) -> None:
    folder, model = saved
    loaded, info = load_model(folder, class_names=["bg", "a", "b"])
    assert info.class_names == ["bg", "a", "b"] and loaded.config.num_labels == 3
    own = loaded.state_dict()
    for k, v in model.state_dict().items():
        if not k.startswith("decode_head.classifier."):
            assert torch.equal(own[k], v), k
    renamed, info = load_model(folder, class_names=["x", "cat", "dog", "sky", "road"])
    assert torch.equal(renamed.decode_head.classifier.weight, model.decode_head.classifier.weight)
    assert info.class_names[0] == "x"


def test_bare_safetensors_without_config_infers_variant(tmp_path: Path) -> None:
    model = SegFormer(config_for("b1", 4))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, tmp_path / "w.safetensors")
    loaded, info = load_model(tmp_path / "w.safetensors")
    assert info.variant == "b1" and loaded.config.num_heads == (1, 2, 5, 8)
    assert loaded.config.num_labels == 4 and info.num_labels == 4


def test_variant_name_gives_random_model() -> None:
    model, info = load_model("b0", class_names=["bg", "fg"])
    assert info.variant == "b0" and model.config.num_labels == 2 and info.source_format == "random"


def test_truncated_safetensors_is_a_clear_error(saved, tmp_path: Path) -> None:
    folder, _ = saved
    data = (folder / "model.safetensors").read_bytes()
    bad = tmp_path / "cut.safetensors"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="cut.safetensors.*(damaged|truncated)"):
        load_model(bad)


def test_truncated_pickle_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "model.pth"
    torch.save(SegFormer(config_for("b0", 2)).state_dict(), path)
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(CheckpointError, match="model.pth"):
        load_model(path)


def test_text_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.bin"
    path.write_text("these are not weights\n")
    with pytest.raises(CheckpointError, match="notes.bin is not a model checkpoint"):
        load_model(path)


def test_wrong_shape_names_key_and_shapes(saved) -> None:
    folder, model = saved
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    state["segformer.encoder.block.1.0.mlp.dense1.weight"] = torch.zeros(100, 32)
    save_file(state, folder / "model.safetensors")
    with pytest.raises(CheckpointError, match=r"block\.1\.0\.mlp\.dense1\.weight.*\(100, 32\).*\(128, 32\)"):
        load_model(folder)


def test_missing_keys_are_counted(saved) -> None:
    folder, model = saved
    state = {k: v.contiguous() for k, v in model.state_dict().items() if ".block.1." not in k}
    save_file(state, folder / "model.safetensors")
    with pytest.raises(CheckpointError, match=r"\d+ weights are missing.*block\.1\."):
        load_model(folder)


def test_unknown_names_and_missing_source(tmp_path: Path) -> None:
    save_file({"foo.weight": torch.zeros(2)}, tmp_path / "x.safetensors")
    with pytest.raises(CheckpointError, match="not a SegFormer checkpoint"):
        load_model(tmp_path / "x.safetensors")
    with pytest.raises(CheckpointError, match="not found"):
        load_model(tmp_path / "nothing-here")
