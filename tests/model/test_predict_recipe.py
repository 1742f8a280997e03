"""Prediction follows a public checkpoint's evaluation recipe, and --scale overrides it."""

from __future__ import annotations

import argparse

import pytest

from segstudio.cli.predict import prediction_options
from segstudio.core.errors import OptionError
from segstudio.model.predictor import recipe_size


def test_recipe_size_is_mmseg_keep_ratio_then_multiples_of_32() -> None:
    assert recipe_size((480, 640), (2048, 512)) == (512, 704)  # short side 512: 512 x 683 -> 704
    assert recipe_size((1024, 2048), (2048, 1024)) == (1024, 2048)  # Cityscapes at its own size
    assert recipe_size((3000, 4000), (2048, 512)) == (512, 704)


def _args(**typed) -> argparse.Namespace:
    values = {"model": "b0-ade", "mode": None, "tile": None, "scale": None}
    return argparse.Namespace(**{**values, **typed})


def test_catalogue_models_follow_their_recipe_unless_told_otherwise(capsys) -> None:
    assert prediction_options(_args()) == {"mode": "whole", "scale": (2048, 512)}
    assert "recipe" in capsys.readouterr().err
    assert prediction_options(_args(model="b0-cityscapes")) == {"mode": "slide", "tile": 1024, "stride": 768}
    assert prediction_options(_args(scale="native")) == {"mode": "whole", "tile": None, "scale": "native"}
    assert prediction_options(_args(scale="640"))["scale"] == 640
    assert prediction_options(_args(model="some/folder")) == {"mode": "whole", "tile": None, "scale": None}
    with pytest.raises(OptionError):
        prediction_options(_args(scale="huge"))


def test_predictor_input_sizes_and_a_prediction_at_the_recipe_size(tiny_config) -> None:
    import numpy as np

    from segstudio.model.predictor import Predictor
    from segstudio.model.segformer import SegFormer
    from segstudio.model.weights.checkpoints import ModelInfo

    info = ModelInfo(variant=None, class_names=["a", "b", "c", "d", "e"], image_size=64)
    model = SegFormer(tiny_config)
    assert Predictor(model, info, device="cpu").input_size((50, 70)) == (32, 64)
    assert Predictor(model, info, device="cpu", scale="native").input_size((50, 70)) == (64, 96)
    recipe = Predictor(model, info, device="cpu", scale=(256, 64))
    assert recipe.input_size((50, 70)) == (64, 96)
    labels = recipe.predict(np.zeros((50, 70, 3), np.uint8)).labels
    assert labels.shape == (50, 70)


def test_a_cached_public_checkpoint_is_known_by_its_folder() -> None:
    from segstudio.model.weights.catalogue import entry_for_path, recipe_options

    folder = "/cache/hub/models--nvidia--segformer-b0-finetuned-cityscapes-1024-1024/snapshots/abc"
    entry = entry_for_path(folder)
    assert entry is not None and entry.short == "b0-cityscapes"
    assert recipe_options(entry) == {"mode": "slide", "tile": 1024, "stride": 768}
    assert entry_for_path("/home/me/project/models/run-1") is None and recipe_options(None) == {}
