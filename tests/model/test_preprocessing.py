"""A public checkpoint's preprocessor_config.json: sound values are followed, others fall back to
segstudio's rule, and the note says which."""

from __future__ import annotations

import json
import os

import pytest

from segstudio.model.weights import preprocessing
from segstudio.model.weights.checkpoints import ModelInfo

IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


def _apply(folder, data) -> ModelInfo:
    if data is not None:
        (folder / "preprocessor_config.json").write_text(data if isinstance(data, str) else json.dumps(data))
    info = ModelInfo(variant="b0", class_names=["a", "b"])
    preprocessing.apply(info, folder)
    return info


@pytest.mark.parametrize("data, size, normalisation, note", [
    ({"size": {"height": 640, "width": 640}, "image_mean": [0.5, 0.4, 0.3], "image_std": [0.2, 0.2, 0.2]},
     640, ((0.5, 0.4, 0.3), (0.2, 0.2, 0.2)), "size 640 px, mean [0.5, 0.4, 0.3], std [0.2, 0.2, 0.2] from its"),
    ({"size": {"shortest_edge": 384}}, 384, IMAGENET, "size 384 px from its preprocessor_config.json; "
                                                      "segstudio's rule for the rest (ImageNet mean and std)"),
    ({"size": 10 ** 9, "image_mean": [0, 0], "image_std": [1, 1, 0]}, 512, IMAGENET, "gives no usable size"),
    ({"do_normalize": False, "size": 256}, 256, ((0.0,) * 3, (1.0,) * 3), "mean [0, 0, 0], std [1, 1, 1]"),
    ("[1, 2]", 512, IMAGENET, "is not a JSON object): segstudio's rule"),
    ("{not json", 512, IMAGENET, "unusable"),
    (None, 512, IMAGENET, "no preprocessor_config.json: segstudio's rule (long side 512 px"),
])
def test_preprocessing_is_followed_when_sound_else_our_rule(tmp_path, data, size, normalisation, note) -> None:
    info = _apply(tmp_path, data)
    assert info.image_size == size and (info.mean, info.std) == normalisation
    assert note in info.preprocessing and "\n" not in info.preprocessing


def test_preprocessing_a_pipe_is_never_read(tmp_path) -> None:
    os.mkfifo(tmp_path / "preprocessor_config.json")
    info = _apply(tmp_path, None)
    assert info.image_size == 512 and "unusable" in info.preprocessing


def test_preprocessing_training_records_imagenet_and_says_when_that_differs() -> None:
    info = ModelInfo(variant="b0", class_names=["a"], mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    assert "someone/x was trained with mean [0.5, 0.5, 0.5]" in preprocessing.for_training(info, "someone/x")
    assert (info.mean, info.std) == IMAGENET
    assert preprocessing.for_training(info, "someone/x") is None
