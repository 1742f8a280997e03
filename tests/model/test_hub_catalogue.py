"""The catalogue of public checkpoints: the data file is complete and right, look-ups, validation."""

from __future__ import annotations

import fnmatch
import json
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
import torch

from segstudio.core.errors import CheckpointError
from segstudio.model.segformer import SegFormer, config_for
from segstudio.model.weights import catalogue

REPO = Path(__file__).resolve().parents[2]
FILE = REPO / "resources" / "catalogue.json"
VARIANTS = ["b0", "b1", "b2", "b3", "b4", "b5"]


@pytest.fixture(scope="module")
def cat() -> catalogue.Catalogue:
    return catalogue.load(FILE)


def _expected_ids() -> set[str]:
    ids = {f"nvidia/mit-{v}" for v in VARIANTS}
    ids |= {f"nvidia/segformer-{v}-finetuned-ade-512-512" for v in VARIANTS[:5]}
    ids.add("nvidia/segformer-b5-finetuned-ade-640-640")
    ids |= {f"nvidia/segformer-b0-finetuned-cityscapes-{r}"
            for r in ("512-1024", "640-1280", "768-768", "1024-1024")}
    ids |= {f"nvidia/segformer-{v}-finetuned-cityscapes-1024-1024" for v in VARIANTS[1:]}
    return ids


def test_hub_catalogue_lists_every_public_checkpoint(cat) -> None:
    assert {e.id for e in cat} == _expected_ids() and len(cat) == 21
    for entry in cat:
        assert entry.variant in entry.id
        assert entry.licence.name == "NVIDIA Source Code License (non-commercial)"
        assert entry.licence.url == "https://github.com/NVlabs/SegFormer/blob/master/LICENSE"
        if entry.is_encoder:
            assert entry.dataset == "ImageNet-1k" and entry.class_names is None
        else:
            assert entry.recipe is not None and entry.class_names is not None


def test_hub_catalogue_class_names_are_stored_once_and_exact(cat) -> None:
    raw = json.loads(FILE.read_text(encoding="utf-8"))
    assert sorted(raw["class_names"]) == ["ade20k", "cityscapes"]
    ade = cat.get("b0-ade").class_names
    assert len(ade) == 150 and ade[:8] == ("wall", "building", "sky", "floor", "tree", "ceiling",
                                          "road", "bed ")
    assert ade[-3:] == ("glass", "clock", "flag") and ade[44] == "chest of drawers"
    city = cat.get("b3-cityscapes").class_names
    assert len(city) == 19 and city[0] == "road" and city[-1] == "bicycle" and city[7] == "traffic sign"
    assert all(cat.get(f"{v}-ade").class_names is ade for v in VARIANTS)


def test_hub_catalogue_recipes_follow_the_authors_evaluation(cat) -> None:
    for v in VARIANTS:
        ade = cat.get(f"{v}-ade").recipe
        short = 640 if v == "b5" else 512
        assert (ade.mode, ade.scale, ade.size_divisor) == ("whole", (2048, short), 32)
        city = cat.get(f"{v}-cityscapes").recipe
        assert (city.mode, city.scale, city.crop, city.stride) == (
            "slide", (2048, 1024), (1024, 1024), (768, 768))
    assert cat.get("b5-ade").id.endswith("ade-640-640")
    assert cat.get("b0-cityscapes-512-1024").recipe.scale == (1024, 512)
    assert cat.get("b0-cityscapes-640-1280").recipe.mode == "whole"
    assert cat.get("b0-cityscapes-768-768").recipe.crop == (768, 768)


def test_hub_catalogue_sizes_match_the_parameter_counts(cat, monkeypatch) -> None:
    """size_mb = parameters x 4 bytes: our own model's count for the variant (classifier rows
    for the entry's classes; for the encoders, their 1000-class ImageNet head), within 1 %.
    The models are built on the meta device (shapes only; the drop-path rates stay real)."""
    linspace = torch.linspace
    monkeypatch.setattr(torch, "linspace", lambda *a, **k: linspace(*a, **{**k, "device": "cpu"}))
    for variant in VARIANTS:
        with torch.device("meta"):
            model = SegFormer(config_for(variant, 1))
        decoder = sum(p.numel() for n, p in model.named_parameters() if n.startswith("decode_head."))
        encoder = sum(p.numel() for p in model.parameters()) - decoder
        row = model.config.decoder_hidden_size + 1        # one classifier row: weights and bias
        width = model.config.hidden_sizes[-1]
        for entry in (e for e in cat if e.variant == variant):
            if entry.is_encoder:
                params = encoder + 1000 * (width + 1)
            else:
                params = encoder + decoder + (len(entry.class_names) - 1) * row
            assert entry.size_mb == pytest.approx(params * 4 / 1e6, rel=0.01), entry.id


def test_hub_catalogue_finds_by_id_repo_name_or_short_name(cat) -> None:
    entry = cat.get("nvidia/segformer-b0-finetuned-ade-512-512")
    assert cat.find("segformer-b0-finetuned-ade-512-512") is entry
    assert cat.find(" B0-ADE ") is entry and cat.find("NVIDIA/SegFormer-b0-finetuned-ade-512-512") is entry
    assert cat.find("mit-b2").id == "nvidia/mit-b2" and cat.find("mit-b2").is_encoder
    for name in ("b0", "b5", "", "nvidia/unknown", "b6-ade"):
        assert cat.find(name) is None
    with pytest.raises(CheckpointError, match="not in the model catalogue.*mit-b0.*b0-ade"):
        cat.get("b9-ade")


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["models"].append(dict(d["models"][0])), "listed twice"),
    (lambda d: d["models"][6].update(classes="coco"), "classes 'coco'"),
    (lambda d: d["models"][6].update(recipe=None), "needs classes and a recipe"),
    (lambda d: d["models"][20]["recipe"].update(stride=[2048, 768]), "larger than its crop"),
    (lambda d: d["models"][0].update(short="b0"), "random-weights"),
    (lambda d: d["models"][1].update(short="mit-b0"), "used twice"),
    (lambda d: d["models"][0].update(variant="b9"), "variant 'b9'"),
    (lambda d: d["models"][0].update(size_mb=-1), "size_mb"),
    (lambda d: d["class_names"]["cityscapes"].append("road"), "duplicate"),
    (lambda d: d.update(version=2), "version 1"),
    (lambda d: d["models"][3].pop("licence"), "licence"),
])
def test_hub_catalogue_rejects_a_broken_file(tmp_path: Path, edit, message: str) -> None:
    data = json.loads(FILE.read_text(encoding="utf-8"))
    edit(data)
    broken = tmp_path / "catalogue.json"
    broken.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CheckpointError, match=message) as caught:
        catalogue.load(broken)
    assert str(broken) in str(caught.value)


def test_hub_catalogue_unreadable_file_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "catalogue.json"
    bad.write_bytes(b"{not json")
    with pytest.raises(CheckpointError, match="model catalogue .* is not valid JSON"):
        catalogue.load(bad)


def test_hub_catalogue_ships_with_the_package() -> None:
    """resources/ is installed as segstudio.resources with every file (pyproject package-data),
    and the loader asks importlib.resources for it there, as the demo and the class file do."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert project["package-dir"]["segstudio.resources"] == "resources"
    patterns = project["package-data"]["segstudio.resources"]
    assert any(fnmatch.fnmatch("catalogue.json", p) for p in patterns)
    path = catalogue.default_path()
    assert path.name == "catalogue.json" and path.parent.name == "resources"


def test_hub_catalogue_and_hub_import_without_torch() -> None:
    code = ("import sys, segstudio.model.weights.catalogue, segstudio.model.weights.hub\n"
            "import segstudio.model.weights.hub_cache\n"
            "print(sorted(m for m in ('torch', 'huggingface_hub', 'PySide6') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=REPO)
    assert out.stdout.strip() == "[]"
