"""Map the state-dict namings in the wild onto ours (the Hugging Face Hub / transformers <= 4 names).

Recognised:

* ``hf``        -- Hub files and transformers <= 4 ``state_dict()``: ``segformer.encoder.*``, ``decode_head.*``
* ``hf-v5``     -- transformers >= 5 in-memory names: ``segformer.stages.{i}.blocks.{j}.attention.q_proj`` ...
* ``nvlabs``    -- the original ``.pth``: ``backbone.patch_embed1``, ``block1.0.attn.kv`` (fused, K then V),
  ``decode_head.linear_c1``, ``linear_fuse.conv/bn``, ``linear_pred`` (``conv_seg`` dropped); the
  flat ImageNet ``mit_b*.pth`` (no prefix, ``head.*``) too.

ImageNet classifiers (``SegformerForImageClassification`` ``classifier.*`` / NVlabs ``head.*``) come
back as ``classifier.*`` so the caller can recognise and drop them. Functions here are pure dict
work on tensors; errors are plain ``ValueError`` that the loader words for the user.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import torch

Tensors = dict[str, torch.Tensor]

_V5_STAGE = re.compile(r"^segformer\.stages\.(\d+)\.(patch_embeddings|blocks|layer_norm)\.(.*)$")
_V5_PARTS = (
    ("layernorm_before.", "layer_norm_1."),
    ("layernorm_after.", "layer_norm_2."),
    ("attention.q_proj.", "attention.self.query."),
    ("attention.k_proj.", "attention.self.key."),
    ("attention.v_proj.", "attention.self.value."),
    ("attention.o_proj.", "attention.output.dense."),
    ("attention.sequence_reduction.sequence_reduction.", "attention.self.sr."),
    ("attention.sequence_reduction.layer_norm.", "attention.self.layer_norm."),
    ("mlp.fc1.", "mlp.dense1."),
    ("mlp.fc2.", "mlp.dense2."),
)
_NV_BLOCK_PARTS = (
    ("norm1.", "layer_norm_1."),
    ("norm2.", "layer_norm_2."),
    ("attn.q.", "attention.self.query."),
    ("attn.proj.", "attention.output.dense."),
    ("attn.sr.", "attention.self.sr."),
    ("attn.norm.", "attention.self.layer_norm."),
    ("mlp.fc1.", "mlp.dense1."),
    ("mlp.fc2.", "mlp.dense2."),
    ("mlp.dwconv.dwconv.", "mlp.dwconv.dwconv."),
)


def unwrap(obj: object) -> Mapping[str, object]:
    """The tensor dict inside a loaded checkpoint (``state_dict``/``model`` wrappers, ``module.``)."""
    if isinstance(obj, Mapping):
        for key in ("state_dict", "model", "model_state_dict"):
            inner = obj.get(key)
            if isinstance(inner, Mapping) and inner and _mostly_tensors(inner):
                obj = inner
                break
    if not isinstance(obj, Mapping) or not _mostly_tensors(obj):
        raise ValueError("it holds no dictionary of tensors")
    return {(k[7:] if k.startswith("module.") else k): v for k, v in obj.items()
            if isinstance(v, torch.Tensor)}


def _mostly_tensors(d: Mapping) -> bool:
    values = list(d.values())
    return bool(values) and sum(isinstance(v, torch.Tensor) for v in values) * 2 >= len(values)


def detect_format(keys: list[str]) -> str:
    """'hf', 'hf-v5' or 'nvlabs' (see module doc); ValueError when the keys are none of them."""
    if any(k.startswith("segformer.stages.") for k in keys):
        return "hf-v5"
    if any(k.startswith(("segformer.encoder.", "encoder.patch_embeddings.")) for k in keys):
        return "hf"
    if any(re.match(r"^(backbone\.)?(patch_embed\d|block\d+\.)", k) for k in keys):
        return "nvlabs"
    if any(k.startswith(("layers.0.0.projection", "backbone.layers.0.0")) for k in keys):
        raise ValueError("it looks like an mmsegmentation SegFormer checkpoint, whose decoder differs "
                         "from the original; convert it to the NVlabs or Hugging Face layout first")
    raise ValueError(f"its {len(keys)} tensor names are not a SegFormer naming "
                     f"(first: {', '.join(keys[:3])})")


def to_hub_names(state: Mapping[str, torch.Tensor]) -> tuple[Tensors, str]:
    """Rename ``state`` to our (Hub) names; returns the new dict and the detected format."""
    keys = list(state)
    fmt = detect_format(keys)
    if fmt == "hf":
        out = {("segformer." + k if k.startswith("encoder.") else k): v for k, v in state.items()}
    elif fmt == "hf-v5":
        out = {_from_v5(k): v for k, v in state.items()}
    else:
        out = _from_nvlabs(state)
    return out, fmt


def _from_v5(key: str) -> str:
    m = _V5_STAGE.match(key)
    if m:
        stage, part, rest = m.groups()
        if part == "patch_embeddings":
            return f"segformer.encoder.patch_embeddings.{stage}.{rest}"
        if part == "layer_norm":
            return f"segformer.encoder.layer_norm.{stage}.{rest}"
        j, rest = rest.split(".", 1)
        return f"segformer.encoder.block.{stage}.{j}.{_replace_prefix(rest, _V5_PARTS)}"
    return re.sub(r"^decode_head\.linear_projections\.", "decode_head.linear_c.", key)


def _replace_prefix(rest: str, table: tuple[tuple[str, str], ...]) -> str:
    for old, new in table:
        if rest.startswith(old):
            return new + rest[len(old):]
    return rest


def _from_nvlabs(state: Mapping[str, torch.Tensor]) -> Tensors:
    out: Tensors = {}
    for key, value in state.items():
        if key.startswith("backbone."):
            key = key[len("backbone."):]
        elif key.startswith("head."):  # flat ImageNet mit_b*.pth classifier
            out["classifier." + key[5:]] = value
            continue
        elif key.startswith(("decode_head.", "auxiliary_head.")):
            _nv_head(key, value, out)
            continue
        _nv_encoder(key, value, out)
    return out


def _nv_encoder(key: str, value: torch.Tensor, out: Tensors) -> None:
    enc = "segformer.encoder."
    if m := re.match(r"^patch_embed(\d)\.(proj|norm)\.(.*)$", key):
        k, part, rest = m.groups()
        out[f"{enc}patch_embeddings.{int(k) - 1}.{'proj' if part == 'proj' else 'layer_norm'}.{rest}"] = value
    elif m := re.match(r"^norm(\d)\.(.*)$", key):
        out[f"{enc}layer_norm.{int(m.group(1)) - 1}.{m.group(2)}"] = value
    elif m := re.match(r"^block(\d)\.(\d+)\.(.*)$", key):
        k, j, rest = m.groups()
        prefix = f"{enc}block.{int(k) - 1}.{j}."
        if rest.startswith("attn.kv."):
            tail = rest[len("attn.kv."):]
            half = value.shape[0] // 2  # rows [0:C] are K, rows [C:2C] are V
            out[prefix + "attention.self.key." + tail] = value[:half].clone()
            out[prefix + "attention.self.value." + tail] = value[half:].clone()
        else:
            out[prefix + _replace_prefix(rest, _NV_BLOCK_PARTS)] = value
    else:
        out["unknown." + key] = value  # surfaces as an unexpected key with its original name


def _nv_head(key: str, value: torch.Tensor, out: Tensors) -> None:
    if key.startswith(("decode_head.conv_seg.", "auxiliary_head.")):
        return  # unused BaseDecodeHead conv / training-only head
    rest = key[len("decode_head."):]
    if m := re.match(r"^linear_c(\d)\.(.*)$", rest):
        out[f"decode_head.linear_c.{int(m.group(1)) - 1}.{m.group(2)}"] = value
    elif rest.startswith("linear_fuse.conv."):
        out["decode_head.linear_fuse." + rest[len("linear_fuse.conv."):]] = value
    elif rest.startswith("linear_fuse.bn."):
        out["decode_head.batch_norm." + rest[len("linear_fuse.bn."):]] = value
    elif rest.startswith("linear_pred."):
        out["decode_head.classifier." + rest[len("linear_pred."):]] = value
    else:
        out[key] = value


def to_nvlabs_names(hub: Mapping[str, torch.Tensor]) -> Tensors:
    """Inverse of the NVlabs mapping (segmentation layout, K/V fused again): kept beside the
    forward mapping so the two tables cannot drift; the tests write NVlabs files with it."""
    inv = {new: old for old, new in _NV_BLOCK_PARTS}
    out: Tensors = {}
    pending_kv: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in hub.items():
        if m := re.match(r"^segformer\.encoder\.patch_embeddings\.(\d)\.(proj|layer_norm)\.(.*)$", key):
            i, part, rest = m.groups()
            out[f"backbone.patch_embed{int(i) + 1}.{'proj' if part == 'proj' else 'norm'}.{rest}"] = value
        elif m := re.match(r"^segformer\.encoder\.layer_norm\.(\d)\.(.*)$", key):
            out[f"backbone.norm{int(m.group(1)) + 1}.{m.group(2)}"] = value
        elif m := re.match(r"^segformer\.encoder\.block\.(\d)\.(\d+)\.(.*)$", key):
            i, j, rest = m.groups()
            prefix = f"backbone.block{int(i) + 1}.{j}."
            if kv := re.match(r"^attention\.self\.(key|value)\.(.*)$", rest):
                pending_kv.setdefault(prefix + "attn.kv." + kv.group(2), {})[kv.group(1)] = value
            else:
                out[prefix + _replace_prefix(rest, tuple(inv.items()))] = value
        elif m := re.match(r"^decode_head\.linear_c\.(\d)\.(.*)$", key):
            out[f"decode_head.linear_c{int(m.group(1)) + 1}.{m.group(2)}"] = value
        elif key.startswith("decode_head.linear_fuse."):
            out["decode_head.linear_fuse.conv." + key.split(".", 2)[2]] = value
        elif key.startswith("decode_head.batch_norm."):
            out["decode_head.linear_fuse.bn." + key.split(".", 2)[2]] = value
        elif key.startswith("decode_head.classifier."):
            out["decode_head.linear_pred." + key.split(".", 2)[2]] = value
        else:
            out[key] = value
    for key, parts in pending_kv.items():
        out[key] = torch.cat((parts["key"], parts["value"]))
    return out


def infer_architecture(hub: Mapping[str, torch.Tensor]) -> dict:
    """Architecture facts readable from tensor shapes alone (a bare file without config.json).

    Returns hidden_sizes, depths, sr_ratios, patch_sizes, mlp_ratio, and when present
    decoder_hidden_size and num_labels. Head counts are not visible in shapes; the caller takes
    them from the matching published variant.
    """
    enc = "segformer.encoder."
    hidden, patches, depths, srs = [], [], [], []
    i = 0
    while (w := hub.get(f"{enc}patch_embeddings.{i}.proj.weight")) is not None:
        hidden.append(int(w.shape[0]))
        patches.append(int(w.shape[-1]))
        blocks = {int(m.group(1)) for k in hub
                  if (m := re.match(rf"^{re.escape(enc)}block\.{i}\.(\d+)\.", k))}
        depths.append(len(blocks))
        sr = hub.get(f"{enc}block.{i}.0.attention.self.sr.weight")
        srs.append(int(sr.shape[-1]) if sr is not None else 1)
        i += 1
    if not hidden:
        raise ValueError("it has no patch-embedding weights")
    fc1 = hub.get(f"{enc}block.0.0.mlp.dense1.weight")
    facts: dict = {"hidden_sizes": hidden, "depths": depths, "sr_ratios": srs,
                   "patch_sizes": patches,
                   "mlp_ratio": int(fc1.shape[0]) // hidden[0] if fc1 is not None else 4}
    lin = hub.get("decode_head.linear_c.0.proj.weight")
    if lin is not None:
        facts["decoder_hidden_size"] = int(lin.shape[0])
    cls = hub.get("decode_head.classifier.weight")
    if cls is not None:
        facts["num_labels"] = int(cls.shape[0])
    return facts
