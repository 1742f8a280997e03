"""What a hub repository holds, judged from its small files before its weights are downloaded.

Any hub id can be typed, so before fetching hundreds of megabytes :mod:`.hub` reads the repository's
``config.json`` (and the licence in its model card) and this module decides: a SegFormer segmenter,
a SegFormer / MiT encoder, or one of segstudio's own models is accepted and described in a few
words; anything else is refused in one line naming what it is (``a vit model
(ViTForImageClassification)``). A config claiming more classes than a mask can hold, or an
architecture no SegFormer has, is refused the same way. The licence comes from the card's YAML
front matter (``license:``), as the hub itself shows it; a permissive one needs no question.
Pure functions of the bytes read: no network, no torch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from segstudio.core.classes import MAX_CLASSES
from segstudio.core.errors import CheckpointError

SEGFORMER_TYPES = ("segformer",)
OURS = "segstudio-segformer"
ENCODER_LABELS_LIMIT = 22_000      # an ImageNet-22k head at most; it is dropped anyway
CARD_LIMIT = 1 << 20               # a model card read for its licence: 1 MiB at most
UNREAD_CARD = "unknown (its model card is over 1 MB and was not read: see the repository's page)"
PERMISSIVE = frozenset({
    "apache-2.0", "mit", "bsd", "bsd-2-clause", "bsd-3-clause", "bsd-3-clause-clear", "isc", "zlib",
    "unlicense", "cc0-1.0", "cc-by-2.0", "cc-by-2.5", "cc-by-3.0", "cc-by-4.0", "bsl-1.0", "afl-3.0",
    "ecl-2.0", "pddl", "odc-by", "artistic-2.0", "postgresql", "wtfpl"})


@dataclass(frozen=True)
class RemoteModel:
    """A hub repository judged fit to download: what it is, its licence, what is left to fetch."""

    hub_id: str
    revision: str | None
    commit: str
    what: str                  # "SegFormer segmenter, 18 classes (hidden sizes 32-256)"
    encoder: bool
    licence: str | None        # the card's licence id ("apache-2.0", "other"...), None when unstated
    licence_link: str | None
    weights_file: str
    size: int                  # bytes still to download (0: everything is cached)

    @property
    def permissive(self) -> bool:
        return self.licence is not None and self.licence.lower() in PERMISSIVE

    @property
    def licence_text(self) -> str:
        """The licence as one phrase: its name and link, or that the card names none."""
        if self.licence is None:
            return ("not stated in its model card (the authors keep every right unless they say "
                    "otherwise)")
        return self.licence + (f", {self.licence_link}" if self.licence_link else "")


def judge_config(hub_id: str, data: Any, promptable: bool = False) -> tuple[str, bool]:
    """(description, is an encoder) of a repository's config.json, or CheckpointError in one line
    naming what the repository is when segstudio cannot load it. With ``promptable`` a Segment
    Anything model (click to segment, ``fetch-model facebook/sam2.1-hiera-tiny``) is accepted too."""
    if not isinstance(data, dict):
        raise CheckpointError(f"{hub_id}: its config.json is not a JSON object: not a model segstudio can load")
    if promptable and is_promptable(data):
        return f"Segment Anything model ({data['model_type']}) for click to segment", False
    if data.get("format") == OURS:
        names = data.get("class_names")
        count = len(names) if isinstance(names, list) else 0
        _check_count(hub_id, count, MAX_CLASSES)
        return f"segstudio SegFormer-{data.get('variant') or 'custom'}, {count} classes", False
    model_type = data.get("model_type")
    architectures = data.get("architectures")
    architectures = [str(a) for a in architectures] if isinstance(architectures, list) else []
    if model_type not in SEGFORMER_TYPES and not any(a.startswith("Segformer") for a in architectures):
        what = (f"a {str(model_type)[:40]} model" if model_type else "a repository whose config.json names no "
                "model_type")
        named = f" ({', '.join(a[:60] for a in architectures[:3])})" if architectures else ""
        raise CheckpointError(f"{hub_id} is {what}{named}, not a SegFormer: segstudio loads SegFormer "
                              "segmenters and MiT encoders only")
    encoder = bool(architectures) and not any(a == "SegformerForSemanticSegmentation" for a in architectures)
    labels = _label_count(hub_id, data)
    _check_count(hub_id, labels, ENCODER_LABELS_LIMIT if encoder else MAX_CLASSES)
    hidden = _architecture(hub_id, data)
    sizes = f"hidden sizes {hidden[0]}-{hidden[-1]}" if hidden else "default B0 sizes"
    if encoder:
        return f"SegFormer (MiT) encoder, {sizes}: a starting point for training", True
    return f"SegFormer segmenter, {labels} classes ({sizes})", False


def is_promptable(data: Any) -> bool:
    """True for the config of a Segment Anything model segstudio's click-to-segment loads."""
    from segstudio.model.sam.loader import FAMILIES
    return isinstance(data, dict) and data.get("model_type") in FAMILIES


def _label_count(hub_id: str, data: dict) -> int:
    id2label = data.get("id2label")
    if isinstance(id2label, dict) and id2label:
        return len(id2label)
    count = data.get("num_labels", 2)
    if not isinstance(count, int) or isinstance(count, bool):
        raise CheckpointError(f"{hub_id}: its config.json gives num_labels {str(count)[:40]!r}, not a number")
    return count


def _check_count(hub_id: str, count: int, limit: int) -> None:
    if not 1 <= count <= limit:
        raise CheckpointError(f"{hub_id}: its config.json claims {count:,} classes; a SegFormer segstudio "
                              f"can load has 1 to {limit:,}: not downloaded")


def _architecture(hub_id: str, data: dict) -> list[int]:
    """The four hidden sizes, checked to be an architecture a SegFormer can have (CheckpointError)."""
    fields = {key: data.get(key) for key in ("hidden_sizes", "depths", "num_attention_heads", "sr_ratios")}
    for key, value in fields.items():
        if value is None:
            continue
        if (not isinstance(value, list) or len(value) != 4
                or not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 4096 for v in value)):
            raise CheckpointError(f"{hub_id}: its config.json gives {key} {str(value)[:60]}, which no "
                                  "SegFormer has (four whole numbers): not downloaded")
    ratios = data.get("mlp_ratios")
    if isinstance(ratios, list) and len(set(map(str, ratios))) > 1:
        raise CheckpointError(f"{hub_id}: its config.json gives per-stage mlp_ratios {ratios[:4]}, which "
                              "segstudio's SegFormer does not build: not downloaded")
    channels = data.get("num_channels", 3)
    if channels != 3:
        raise CheckpointError(f"{hub_id}: its config.json takes {str(channels)[:20]}-channel images; segstudio "
                              "feeds RGB photos (3 channels): not downloaded")
    if fields["depths"] is not None and sum(fields["depths"]) > 256:
        raise CheckpointError(f"{hub_id}: its config.json gives depths {fields['depths']}: too deep for a "
                              "SegFormer; not downloaded")
    return list(fields["hidden_sizes"] or [])


def parse_json(hub_id: str, filename: str, data: bytes) -> Any:
    """The JSON in ``data``, or one line naming the file."""
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise CheckpointError(f"{hub_id}: its {filename} is not valid JSON ({exc}): not a model "
                              "segstudio can load") from exc


def card_licence(card: bytes | None) -> tuple[str | None, str | None]:
    """(licence id, link or None) from a model card's YAML front matter; (None, None) when it
    states none (no card, no front matter, or front matter that is not YAML)."""
    if not card:
        return None, None
    import yaml

    text = card.decode("utf-8", errors="replace").lstrip("\ufeff")
    if not text.startswith("---"):
        return None, None
    end = text.find("\n---", 3)
    try:
        meta = yaml.safe_load(text[3:end]) if end > 0 else None
    except yaml.YAMLError:
        return None, None
    if not isinstance(meta, dict):
        return None, None
    licence = meta.get("license")
    if isinstance(licence, list):
        licence = ", ".join(str(v) for v in licence[:3]) if licence else None
    if licence is not None:
        licence = str(licence)[:80]
    name, link = meta.get("license_name"), meta.get("license_link")
    if licence == "other" and isinstance(name, str):
        licence = f"other ({name[:80]})"
    return licence, (str(link)[:200] if isinstance(link, str) else None)
