"""The public SegFormer checkpoints a user can start from, read from ``resources/catalogue.json``.

The facts (hub ids, classes, evaluation recipes, sizes, licence) are data, kept in one JSON file
so they can be corrected without touching code; this module only reads and checks that file and
answers look-ups. It imports neither torch nor the network, so the command line and the window can
list the catalogue instantly.

A model is found by its hub id (``nvidia/segformer-b0-finetuned-ade-512-512``), by the repository
part alone (``segformer-b0-finetuned-ade-512-512``) or by its short name (``b0-ade``, ``mit-b0``),
ignoring case. The bare variant names ``b0``..``b5`` are deliberately not short names: they mean
"this architecture, random weights" elsewhere in segstudio.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from segstudio.core.errors import CheckpointError
from segstudio.core.safe_read import SMALL_JSON_LIMIT, read_json

FORMAT = "segstudio-catalogue"
VARIANTS = ("b0", "b1", "b2", "b3", "b4", "b5")
KINDS = ("encoder", "segmentation")
MODES = ("whole", "slide")


@dataclass(frozen=True)
class Licence:
    """The licence the weights carry; shown to the user before the first download."""

    name: str
    url: str


@dataclass(frozen=True)
class EvalRecipe:
    """How the authors ran a segmentation model on an image, so prediction can do the same.

    The image is resized, keeping its ratio, to the largest size whose long side is at most
    ``scale[0]`` and short side at most ``scale[1]`` (mmseg's ``img_scale``). ``whole`` then runs
    the full image with each side rounded up to a multiple of ``size_divisor``; ``slide`` runs
    windows of ``crop`` (height, width) every ``stride`` pixels and averages where they overlap.
    """

    scale: tuple[int, int]
    mode: str
    crop: tuple[int, int] | None = None
    stride: tuple[int, int] | None = None
    size_divisor: int = 1


@dataclass(frozen=True)
class Entry:
    """One public checkpoint: what it is, what it was trained on, what it costs to fetch."""

    id: str
    short: str
    variant: str
    kind: str
    dataset: str
    classes: str | None
    class_names: tuple[str, ...] | None
    recipe: EvalRecipe | None
    size_mb: float
    licence: Licence

    @property
    def repo_name(self) -> str:
        """The part of the id after the owner, e.g. ``mit-b0``."""
        return self.id.split("/", 1)[-1]

    @property
    def is_encoder(self) -> bool:
        """True for an ImageNet encoder (a starting point for training, not a segmenter)."""
        return self.kind == "encoder"


class Catalogue:
    """The entries of one catalogue file, in file order, with look-up by any of their names."""

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = tuple(entries)
        self._by_name: dict[str, Entry] = {}
        for entry in self.entries:
            for name in {entry.id, entry.repo_name, entry.short}:
                key = name.lower()
                if key in self._by_name and self._by_name[key] is not entry:
                    raise ValueError(f"the name {name!r} is used twice")
                self._by_name[key] = entry

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def find(self, name: str) -> Entry | None:
        """The entry called ``name`` (hub id, repository name or short name), or None."""
        return self._by_name.get(str(name).strip().lower())

    def get(self, name: str) -> Entry:
        """Like :meth:`find`, but a :class:`CheckpointError` listing the short names when unknown."""
        entry = self.find(name)
        if entry is None:
            shorts = ", ".join(e.short for e in self.entries)
            raise CheckpointError(f"{name!r} is not in the model catalogue (known: {shorts})")
        return entry


def default_path() -> Path:
    """Where the packaged catalogue lives (``resources/`` ships as ``segstudio.resources``)."""
    return Path(str(resources.files("segstudio.resources").joinpath("catalogue.json")))


@cache
def _load_default() -> Catalogue:
    return load(default_path())


def load(path: str | Path | None = None) -> Catalogue:
    """Read and check a catalogue file (the packaged one, read once, when ``path`` is None).

    Every problem is a :class:`CheckpointError` naming the file and the entry, so a bad edit of
    the data file is caught by the tests and never reaches a download.
    """
    if path is None:
        return _load_default()
    path = Path(path)
    data = read_json(path, SMALL_JSON_LIMIT, CheckpointError, "model catalogue")
    try:
        return parse(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"model catalogue {path} is invalid: {exc}") from exc


def find(name: str) -> Entry | None:
    """The packaged catalogue's entry called ``name``, or None."""
    return load().find(name)


def parse(data: Mapping[str, Any]) -> Catalogue:
    """Build a :class:`Catalogue` from the decoded JSON; ValueError/KeyError/TypeError when invalid."""
    if data.get("format") != FORMAT or data.get("version") != 1:
        raise ValueError(f"not a {FORMAT} file of version 1")
    licences = {key: Licence(str(v["name"]), str(v["url"])) for key, v in data["licences"].items()}
    lists = {key: _class_list(key, names) for key, names in data["class_names"].items()}
    entries, seen = [], set()
    for index, raw in enumerate(data["models"]):
        where = f"model {index} ({raw.get('id', '?')})" if isinstance(raw, dict) else f"model {index}"
        try:
            entry = _entry(raw, licences, lists)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{where}: {exc!s}") from exc
        if entry.id in seen:
            raise ValueError(f"{where}: the id is listed twice")
        seen.add(entry.id)
        entries.append(entry)
    if not entries:
        raise ValueError("it lists no models")
    return Catalogue(entries)


def _class_list(key: str, names: Any) -> tuple[str, ...]:
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"class_names[{key!r}] must be a list of non-empty strings")
    if len(set(names)) != len(names):
        raise ValueError(f"class_names[{key!r}] has duplicate names")
    return tuple(names)  # kept verbatim: ADE20K's "bed " has its trailing space in every config


def _entry(raw: Mapping[str, Any], licences: Mapping[str, Licence],
           lists: Mapping[str, tuple[str, ...]]) -> Entry:
    hub_id, short = str(raw["id"]), str(raw["short"])
    if hub_id.count("/") != 1 or not all(hub_id.split("/")):
        raise ValueError(f"id {hub_id!r} is not owner/name")
    if short.lower() in VARIANTS:
        raise ValueError(f"short name {short!r} would hide the random-weights variant name")
    variant, kind = raw["variant"], raw["kind"]
    if variant not in VARIANTS or kind not in KINDS:
        raise ValueError(f"variant {variant!r} / kind {kind!r} must be one of {VARIANTS} / {KINDS}")
    classes, recipe = raw["classes"], raw["recipe"]
    if kind == "segmentation" and (classes is None or recipe is None):
        raise ValueError("a segmentation model needs classes and a recipe")
    if classes is not None and classes not in lists:
        raise ValueError(f"classes {classes!r} is not a key of class_names")
    size = float(raw["size_mb"])
    if not 0 < size < 10_000:
        raise ValueError(f"size_mb {size} is not a plausible download size")
    return Entry(id=hub_id, short=short, variant=variant, kind=kind, dataset=str(raw["dataset"]),
                 classes=classes, class_names=lists[classes] if classes else None,
                 recipe=_recipe(recipe) if recipe is not None else None, size_mb=size,
                 licence=licences[raw["licence"]])


def _recipe(raw: Mapping[str, Any]) -> EvalRecipe:
    scale = _pair(raw["scale"], "scale")
    mode = raw["mode"]
    if mode not in MODES:
        raise ValueError(f"recipe mode {mode!r} must be one of {MODES}")
    crop = _pair(raw["crop"], "crop") if mode == "slide" else None
    stride = _pair(raw["stride"], "stride") if mode == "slide" else None
    if crop and stride and (stride[0] > crop[0] or stride[1] > crop[1]):
        raise ValueError(f"recipe stride {stride} is larger than its crop {crop} (pixels skipped)")
    divisor = int(raw.get("size_divisor", 1))
    if divisor < 1:
        raise ValueError(f"recipe size_divisor {divisor} must be at least 1")
    return EvalRecipe(scale=scale, mode=mode, crop=crop, stride=stride, size_divisor=divisor)


def _pair(value: Any, name: str) -> tuple[int, int]:
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, int) and 32 <= v <= 8192 for v in value)):
        raise ValueError(f"recipe {name} {value!r} must be two whole numbers from 32 to 8192")
    return (value[0], value[1])


def entry_for_path(path: str | os.PathLike) -> Entry | None:
    """The catalogue entry of a model folder inside the Hugging Face cache
    (``…/models--nvidia--segformer-b0-finetuned-ade-512-512/snapshots/<commit>``), or None."""
    from .hub_cache import hub_id_for_path
    hub_id = hub_id_for_path(path)
    return find(hub_id) if hub_id is not None else None


def recipe_options(entry: Entry | None) -> dict:
    """Predictor options that follow ``entry``'s evaluation recipe (``{}`` without one)."""
    recipe = entry.recipe if entry is not None else None
    if recipe is None:
        return {}
    if recipe.mode == "slide" and recipe.crop:
        return {"mode": "slide", "tile": recipe.crop[0], "stride": recipe.stride[0] if recipe.stride else None}
    return {"mode": "whole", "scale": tuple(recipe.scale)}
