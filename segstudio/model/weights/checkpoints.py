"""Load SegFormer weights from every common source, and save ours.

Sources accepted by :func:`load_model`:

* a variant name "b0".."b5": random init;
* our model folder (``model.safetensors`` + ``config.json`` with ``"format": "segstudio-segformer"``);
* a Hugging Face folder or file (``model.safetensors`` first, else ``pytorch_model.bin``;
  ``config.json`` next to it gives the architecture and ``id2label``; without it the architecture
  is read from the tensor shapes), segmentation or encoder-only ``mit-b*``, old or v5 key names;
* the NVlabs original ``.pth`` (segmentation, or flat ImageNet ``mit_b*.pth``).

Pickled files are only read with ``torch.load(weights_only=True)``. Every failure the user can
cause is a :class:`CheckpointError` naming the file and the problem.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from segstudio.core.atomic import atomic_write_bytes, atomic_write_text
from segstudio.core.errors import CheckpointError
from segstudio.core.palette import class_colour
from segstudio.core.safe_read import SMALL_JSON_LIMIT, WEIGHTS_LIMIT, check_bounded_file, read_json
from segstudio.model.data.augment import IMAGENET_MEAN, IMAGENET_STD
from segstudio.model.segformer import VARIANTS, SegFormer, SegFormerConfig, config_for, variant_of

from . import checkpoint_keys as keys
from . import preprocessing
from .model_files import CONFIG, WEIGHTS, locate

FORMAT = "segstudio-segformer"
FORMAT_VERSION = 1


@dataclass
class ModelInfo:
    """What a model needs beside its weights: classes, colours and the input normalisation."""

    variant: str | None
    class_names: list[str]
    colours: list[tuple[int, int, int]] = field(default_factory=list)
    image_size: int = 512
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    source: str = ""
    source_format: str = ""
    preprocessing: str = ""   # where image size and normalisation came from (public checkpoints)

    def __post_init__(self) -> None:
        self.class_names = [str(n) for n in self.class_names]
        colours = [tuple(int(v) for v in c) for c in self.colours]
        colours += [class_colour(i) for i in range(len(colours), len(self.class_names))]
        self.colours = colours[: len(self.class_names)]
        self.mean = tuple(float(v) for v in self.mean)
        self.std = tuple(float(v) for v in self.std)
        self.image_size = int(self.image_size)

    @property
    def num_labels(self) -> int:
        return len(self.class_names)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["colours"] = [list(c) for c in self.colours]
        d["mean"], d["std"] = list(self.mean), list(self.std)
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelInfo:
        """The info recorded in a config.json; every value's JSON type is checked first (the file
        may be hand-edited or hostile: class names that are one string would become one class per
        letter), ValueError naming the key."""
        values = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        _check_info_types(values)
        return cls(**values)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> ModelInfo:
        return cls.from_dict(json.loads(text))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_info_types(values: Mapping[str, Any]) -> None:
    """ValueError naming the first value of a recorded ModelInfo whose JSON type is wrong."""
    names = values.get("class_names", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError("class_names must be a list of names (strings)")
    colours = values.get("colours", [])
    if not isinstance(colours, list) or not all(
            isinstance(c, (list, tuple)) and len(c) == 3
            and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in c)
            for c in colours):
        raise ValueError("colours must be a list of [r, g, b], whole numbers from 0 to 255")
    size = values.get("image_size", 512)
    if not isinstance(size, int) or isinstance(size, bool):
        raise ValueError(f"image_size {size!r} must be a whole number")
    for key in ("mean", "std"):
        numbers = values.get(key, [])
        if not isinstance(numbers, (list, tuple)) or not all(_is_number(v) for v in numbers):
            raise ValueError(f"{key} must be a list of numbers")
    for key in ("variant", "source", "source_format", "preprocessing"):
        if values.get(key) is not None and not isinstance(values[key], str):
            raise ValueError(f"{key} must be text")


# ------------------------------------------------------------------------------------------ save


def save_model(folder: str | Path, model: SegFormer, info: ModelInfo) -> None:
    """Write ``model.safetensors`` and ``config.json`` into ``folder`` (created), each atomically."""
    from safetensors.torch import save

    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        from segstudio.core.errors import SaveError
        raise SaveError(f"cannot create model folder {folder}: {exc.strerror or exc}") from exc
    if info.num_labels != model.config.num_labels:
        raise ValueError(f"ModelInfo has {info.num_labels} classes but the model "
                         f"{model.config.num_labels}")
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    atomic_write_bytes(folder / WEIGHTS, save(tensors, metadata={"format": FORMAT}))
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION,
            "variant": info.variant or variant_of(model.config),
            "segformer": model.config.to_dict(), **info.to_dict()}
    meta.pop("source", None)
    meta.pop("preprocessing", None)
    atomic_write_text(folder / CONFIG, json.dumps(meta, indent=2, ensure_ascii=False) + "\n")


# ------------------------------------------------------------------------------------------ load


def load_model(source: str | Path, num_labels: int | None = None,
               class_names: list[str] | None = None) -> tuple[SegFormer, ModelInfo]:
    """Build a :class:`SegFormer` from ``source`` (see module doc) and describe it.

    With ``class_names``/``num_labels`` giving a class count different from the checkpoint's, the
    encoder and decoder are kept and only the classifier is re-initialised (fine-tuning). With
    the same count the classifier is kept and the given names replace the stored ones (a renamed
    class keeps its index). The model is returned in eval mode on the CPU.
    """
    if class_names is not None and num_labels is not None and len(class_names) != num_labels:
        raise ValueError(f"{len(class_names)} class names given for num_labels={num_labels}")
    wanted = len(class_names) if class_names is not None else num_labels
    path = Path(source)
    if not path.exists() and str(source).strip().lower() in VARIANTS:  # a public name: hub.resolve first
        return _random_model(str(source), wanted, class_names)
    if not path.exists():
        raise CheckpointError(f"model {source} not found (expected a model folder, a checkpoint "
                              f"file or one of {', '.join(VARIANTS)})")
    weights, config_path = locate(path)
    meta = _read_json(config_path) if config_path else {}
    model, info = _build(weights, meta)
    if info.source_format != FORMAT:
        preprocessing.apply(info, weights.parent if path.is_file() else path)
    info.source = str(path)
    if wanted is not None and wanted != model.config.num_labels:
        model.reset_classifier(wanted)
        info.class_names = class_names or [f"class_{i}" for i in range(wanted)]
        info.colours = []
        info.__post_init__()
    elif class_names is not None:
        info.class_names = list(class_names)
        info.__post_init__()
    return model.eval(), info


def _build(weights: Path, meta: dict) -> tuple[SegFormer, ModelInfo]:
    """The model the weights file and its config (``{}`` when there is none) describe."""
    state = _read_weights(weights)
    check_finite(state, weights)
    if meta.get("format") == FORMAT:
        return _from_ours(state, meta, weights)
    return _from_public(state, meta, weights)


def check_weights(weights: Path, meta: dict) -> None:
    """CheckpointError unless ``weights`` load into the SegFormer the config ``meta`` describes (a
    hub repository checked before it is put into the cache as a usable model)."""
    _build(Path(weights), meta)


def _random_model(variant: str, wanted: int | None, names: list[str] | None
                  ) -> tuple[SegFormer, ModelInfo]:
    n = wanted or 2
    config = config_for(variant, n)
    names = list(names) if names is not None else _default_names(n)
    info = ModelInfo(variant=variant_of(config), class_names=names, source=variant,
                     source_format="random")
    return SegFormer(config).eval(), info


def _default_names(n: int) -> list[str]:
    return ["background"] + [f"class_{i}" for i in range(1, n)]


def _read_json(path: Path) -> dict:
    """A model's config.json: a bounded regular file holding a JSON object (CheckpointError)."""
    return read_json(path, SMALL_JSON_LIMIT, CheckpointError, "model config")


def _read_weights(path: Path) -> dict[str, torch.Tensor]:
    """Tensors of a safetensors or (weights-only) pickle file, renamed to our names later. Only a
    regular file of a plausible size is opened: a pipe would block, a device never end."""
    check_bounded_file(path, WEIGHTS_LIMIT, CheckpointError, "checkpoint")
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        raise CheckpointError(f"cannot read checkpoint {path}: {exc.strerror or exc}") from exc
    if _looks_like_safetensors(head):
        from safetensors import SafetensorError
        from safetensors.torch import load_file
        try:
            return load_file(str(path))
        except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
            raise CheckpointError(f"{path} is a damaged or truncated safetensors file ({exc})") from exc
    if not (head.startswith(b"PK\x03\x04") or head[:1] == b"\x80"):
        raise CheckpointError(f"{path} is not a model checkpoint (neither safetensors nor a "
                              f"PyTorch file; it starts with {head[:8]!r})")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for bad/unsafe pickles and zips
        raise CheckpointError(f"cannot load {path} as a PyTorch checkpoint (damaged, truncated, "
                              f"or it contains code objects, which are refused): {exc}") from exc
    try:
        return dict(keys.unwrap(obj))
    except ValueError as exc:
        raise CheckpointError(f"{path} is not a model checkpoint: {exc}") from exc


def check_finite(tensors: Mapping[str, Any], path: Path) -> None:
    """CheckpointError naming ``path`` and the first tensor holding NaN or infinity: such a model
    (a run that diverged, a damaged file) predicts one class everywhere without a word. One
    ``isfinite`` per tensor, a few milliseconds even for B5."""
    for name, tensor in tensors.items():
        if isinstance(tensor, torch.Tensor) and tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise CheckpointError(f"{path} holds weights that are not finite numbers (NaN or infinity, "
                                  f"in {name}): the model would predict nothing meaningful; it is not used")


def _looks_like_safetensors(head: bytes) -> bool:
    if len(head) < 9:
        return False
    (size,) = struct.unpack("<Q", head[:8])
    return 0 < size < 1 << 30 and head[8:9] == b"{"


def _from_ours(state: dict[str, torch.Tensor], meta: dict, path: Path) -> tuple[SegFormer, ModelInfo]:
    try:
        config = SegFormerConfig.from_dict(meta["segformer"])
        info = ModelInfo.from_dict(meta)
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"model config next to {path} is invalid: {exc}") from exc
    _check_ours(info, config, state, path)
    model = SegFormer(config)
    _load_into(model, state, path, allow_missing_head=False)
    info.source_format = FORMAT
    return model, info


def _check_ours(info: ModelInfo, config: SegFormerConfig, state: Mapping[str, torch.Tensor],
                path: Path) -> None:
    """CheckpointError when config.json contradicts itself or the weights, naming both numbers.

    A wrong class count would otherwise relabel every prediction, and a zero or NaN std would
    turn every image into NaN (all pixels one class) without any error.
    """
    where = f"model config next to {path}"
    classifier = state.get("decode_head.classifier.weight")
    counts = {"class names": info.num_labels, "segformer.num_labels": config.num_labels}
    if classifier is not None:
        counts["classifier weights"] = int(classifier.shape[0])
    if len(set(counts.values())) > 1:
        raise CheckpointError(f"{where}: the class counts disagree ("
                              + ", ".join(f"{k} {v}" for k, v in counts.items()) + ")")
    for name in ("mean", "std"):
        values = getattr(info, name)
        if len(values) != config.num_channels or not all(math.isfinite(v) for v in values):
            raise CheckpointError(f"{where}: {name} {list(values)} must be {config.num_channels} "
                                  "finite numbers")
    if not all(v > 0 for v in info.std):
        raise CheckpointError(f"{where}: std {list(info.std)} must be above zero")
    if not 32 <= info.image_size <= 8192:
        raise CheckpointError(f"{where}: image_size {info.image_size} is out of range (32 to 8192)")


def _from_public(state: dict[str, torch.Tensor], meta: dict, path: Path
                 ) -> tuple[SegFormer, ModelInfo]:
    try:
        hub, fmt = keys.to_hub_names(state)
    except ValueError as exc:
        raise CheckpointError(f"{path} is not a SegFormer checkpoint: {exc}") from exc
    imagenet = _pop_imagenet_head(hub)
    config, names = _public_config(hub, meta, path)
    model = SegFormer(config)
    _load_into(model, hub, path, allow_missing_head=imagenet or not _has_head(hub))
    if not _has_head(hub):
        fmt += "-encoder"
    variant = variant_of(config)
    info = ModelInfo(variant=variant, class_names=names or _default_names(config.num_labels),
                     source_format=fmt)
    return model, info


def _pop_imagenet_head(hub: dict[str, torch.Tensor]) -> bool:
    """Drop an ImageNet classifier (``classifier.*`` at top level); True if there was one."""
    found = [k for k in hub if k.startswith("classifier.")]
    for k in found:
        del hub[k]
    return bool(found)


def _has_head(hub: Mapping[str, torch.Tensor]) -> bool:
    return any(k.startswith("decode_head.") for k in hub)


def _public_config(hub: dict[str, torch.Tensor], meta: dict, path: Path
                   ) -> tuple[SegFormerConfig, list[str] | None]:
    """Architecture from a HF config.json when there is one, else from the tensor shapes."""
    try:
        facts = keys.infer_architecture(hub)
    except ValueError as exc:
        raise CheckpointError(f"{path} is not a SegFormer checkpoint: {exc}") from exc
    try:
        arch, names = _public_arch(meta, facts, path)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # hand-edited or hostile JSON
        raise CheckpointError(f"config.json next to {path} is unusable: {type(exc).__name__}: {exc}") from exc
    num_labels = facts.get("num_labels") or (len(names) if names else 2)
    if names is not None and len(names) != num_labels:
        names = None
    try:
        return SegFormerConfig(num_labels=num_labels, **arch), names
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: unusable SegFormer configuration: {exc}") from exc


def _public_arch(meta: dict, facts: dict, path: Path) -> tuple[dict[str, Any], list[str] | None]:
    """(SegFormerConfig arguments, class names or None) from a HF config.json, else from the shapes."""
    names = None
    if "hidden_sizes" in meta:
        arch = {k: meta[k] for k in ("hidden_sizes", "depths", "sr_ratios", "patch_sizes",
                                     "strides", "decoder_hidden_size", "num_channels")
                if k in meta}
        if "num_attention_heads" in meta:
            arch["num_heads"] = meta["num_attention_heads"]
        ratios = set(meta.get("mlp_ratios", [4]))
        if len(ratios) != 1:
            raise CheckpointError(f"{path}: per-stage mlp_ratios {meta['mlp_ratios']} are not supported")
        arch["mlp_ratio"] = ratios.pop()
        arch["drop_path_rate"] = meta.get("drop_path_rate", 0.1)
        arch["classifier_dropout"] = meta.get("classifier_dropout_prob", 0.1)
        id2label = meta.get("id2label") or {}
        segmentation = "SegformerForImageClassification" not in meta.get("architectures", [])
        if id2label and segmentation:
            names = [str(id2label[k]) for k in sorted(id2label, key=int)]
    else:
        arch = {k: facts[k] for k in ("hidden_sizes", "depths", "sr_ratios", "patch_sizes",
                                      "mlp_ratio")}
        ref = next((c for c in VARIANTS.values() if list(c.hidden_sizes) == facts["hidden_sizes"]
                    and list(c.depths) == facts["depths"]), None)
        arch["num_heads"] = ref.num_heads if ref else _guess_heads(facts["hidden_sizes"])
        arch["decoder_hidden_size"] = facts.get(
            "decoder_hidden_size", ref.decoder_hidden_size if ref else 256)
    return arch, names


def _guess_heads(hidden: list[int]) -> tuple[int, ...]:
    """Published models use 32-wide heads for B0 and 64-wide ones otherwise."""
    width = 32 if hidden[0] <= 32 else 64
    return tuple(max(1, c // width) if c % width == 0 else 1 for c in hidden)


def _load_into(model: SegFormer, hub: Mapping[str, torch.Tensor], path: Path,
               allow_missing_head: bool) -> None:
    """Strict, shape-checked copy of ``hub`` into ``model`` with readable errors."""
    own = model.state_dict()
    missing = [k for k in own if k not in hub and not k.endswith("num_batches_tracked")
               and not (allow_missing_head and k.startswith("decode_head."))]
    unexpected = [k for k in hub if k not in own]
    if missing:
        raise CheckpointError(f"{path}: {len(missing)} weights are missing for this architecture, "
                              f"e.g. {', '.join(missing[:4])}")
    if unexpected:
        raise CheckpointError(f"{path}: {len(unexpected)} tensors do not belong to this "
                              f"architecture, e.g. {', '.join(unexpected[:4])}")
    for k, v in hub.items():
        if tuple(v.shape) != tuple(own[k].shape):
            raise CheckpointError(f"{path}: tensor {k} has shape {tuple(v.shape)} but the model "
                                  f"expects {tuple(own[k].shape)}")
    with torch.no_grad():
        for k, v in hub.items():
            own[k].copy_(v.to(own[k].dtype) if own[k].is_floating_point() else v)
