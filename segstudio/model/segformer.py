"""SegFormer (MiT encoder + all-MLP decoder), written for this project.

The module tree mirrors the Hugging Face Hub key names (transformers <= 4 naming, see
``reference/segformer.md`` 3.1) so that public ``segformer-b*`` files load with
``load_state_dict(strict=True)``; other namings are mapped onto it in :mod:`checkpoints`.

Speed notes (CPU first, measured with torch.profiler, see tests/benchmarks/model_speed.py):

* Token tensors ``(B, N, C)`` and NCHW maps are views of each other: every NCHW map we build is
  a *channels_last* view of contiguous tokens, so the reshapes between the transformer parts and
  the convolutions never copy.
* K and V come from one ``F.linear`` on the concatenated weights (and Q too where there is no
  spatial reduction); attention is ``F.scaled_dot_product_attention``.
* The decoder's 1x1 fuse conv is linear and commutes with bilinear upsampling (whose weights sum
  to one), so each stage is projected straight to the decoder width at its own resolution with
  the product ``fuse_slice @ linear_c`` (:class:`AllMLPHead`, ``mode="fast"``). In eval mode the
  BatchNorm is folded in as well and the folded weights are cached. The 4D->D conv at 1/4
  resolution, about half of B0's FLOPs, disappears. ``mode="plain"`` keeps the textbook order.

All reshape sizes come from runtime tensor shapes, so ONNX exports keep dynamic height/width.
"""

from __future__ import annotations

import math
import numbers

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

# ----------------------------------------------------------------------------------------- config


@dataclass(frozen=True)
class SegFormerConfig:
    """Hyper-parameters of one SegFormer; frozen so it can be shared and hashed safely."""

    hidden_sizes: tuple[int, ...] = (32, 64, 160, 256)
    depths: tuple[int, ...] = (2, 2, 2, 2)
    num_heads: tuple[int, ...] = (1, 2, 5, 8)
    sr_ratios: tuple[int, ...] = (8, 4, 2, 1)
    decoder_hidden_size: int = 256
    num_labels: int = 150
    mlp_ratio: int = 4
    drop_path_rate: float = 0.1
    classifier_dropout: float = 0.1
    layer_norm_eps: float = 1e-5
    patch_sizes: tuple[int, ...] = (7, 3, 3, 3)
    strides: tuple[int, ...] = (4, 2, 2, 2)
    num_channels: int = 3
    initializer_range: float = 0.02

    def __post_init__(self) -> None:
        for name in ("hidden_sizes", "depths", "num_heads", "sr_ratios", "patch_sizes", "strides"):
            object.__setattr__(self, name, tuple(_whole(v, name) for v in getattr(self, name)))
        for name in ("decoder_hidden_size", "num_labels", "mlp_ratio", "num_channels"):
            object.__setattr__(self, name, _whole(getattr(self, name), name))
        n = len(self.hidden_sizes)
        if not 1 <= n <= 8:
            raise ValueError(f"SegFormerConfig has {n} stages (1 to 8 are possible)")
        for name in ("depths", "num_heads", "sr_ratios", "patch_sizes", "strides"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"SegFormerConfig.{name} must have {n} entries (one per stage)")
        for name, (low, high) in _LIMITS.items():
            values = getattr(self, name)
            for v in values if isinstance(values, tuple) else (values,):
                if not low <= v <= high:
                    raise ValueError(f"{name} {v} is out of range ({low} to {high})")
        for c, h in zip(self.hidden_sizes, self.num_heads):
            if c % h:
                raise ValueError(f"hidden size {c} is not divisible by {h} heads")
        for name in ("drop_path_rate", "classifier_dropout"):
            if not 0.0 <= float(getattr(self, name)) < 1.0:
                raise ValueError(f"{name} must be in [0, 1) (got {getattr(self, name)})")
        if not 0.0 < float(self.layer_norm_eps) < 1.0 or not 0.0 <= float(self.initializer_range) < 10.0:
            raise ValueError("layer_norm_eps must be in (0, 1) and initializer_range in [0, 10)")

    @property
    def num_stages(self) -> int:
        return len(self.hidden_sizes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SegFormerConfig":
        """Inverse of :meth:`to_dict`; unknown keys are ignored so newer files still load."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def with_labels(self, num_labels: int) -> "SegFormerConfig":
        return replace(self, num_labels=int(num_labels))


# Sane bounds of each size (inclusive), far beyond the published B0-B5 (widest 512, deepest 40),
# so that a damaged or hostile config.json fails with one line instead of exhausting memory.
_LIMITS: dict[str, tuple[int, int]] = {
    "hidden_sizes": (1, 4096), "depths": (1, 128), "num_heads": (1, 256), "sr_ratios": (1, 64),
    "patch_sizes": (1, 31), "strides": (1, 32), "decoder_hidden_size": (1, 8192),
    "num_labels": (1, 255), "mlp_ratio": (1, 16), "num_channels": (1, 16),
}


def _whole(value: Any, name: str) -> int:
    """``value`` as an int; ValueError for fractions, text and booleans (a damaged config)."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value)
            or value != int(value)):
        raise ValueError(f"{name} must be whole numbers, not {value!r}")
    return int(value)


_WIDE = (64, 128, 320, 512)
VARIANTS: dict[str, SegFormerConfig] = {
    "b0": SegFormerConfig(),
    "b1": SegFormerConfig(hidden_sizes=_WIDE),
    "b2": SegFormerConfig(hidden_sizes=_WIDE, depths=(3, 4, 6, 3), decoder_hidden_size=768),
    "b3": SegFormerConfig(hidden_sizes=_WIDE, depths=(3, 4, 18, 3), decoder_hidden_size=768),
    "b4": SegFormerConfig(hidden_sizes=_WIDE, depths=(3, 8, 27, 3), decoder_hidden_size=768),
    "b5": SegFormerConfig(hidden_sizes=_WIDE, depths=(3, 6, 40, 3), decoder_hidden_size=768),
}


def config_for(variant: str, num_labels: int) -> SegFormerConfig:
    """The published architecture ``variant`` ("b0".."b5", case-insensitive) with ``num_labels``."""
    key = variant.strip().lower().removeprefix("mit-").removeprefix("mit_").removeprefix("segformer-")
    if key not in VARIANTS:
        raise ValueError(f"unknown SegFormer variant {variant!r}; expected one of {', '.join(VARIANTS)}")
    return VARIANTS[key].with_labels(num_labels)


def variant_of(config: SegFormerConfig) -> str | None:
    """The variant name whose architecture equals ``config`` (labels/dropouts ignored), else None."""
    for name, ref in VARIANTS.items():
        if _arch(ref) == _arch(config):
            return name
    return None


def _arch(c: SegFormerConfig) -> tuple:
    return (c.hidden_sizes, c.depths, c.num_heads, c.sr_ratios, c.decoder_hidden_size,
            c.mlp_ratio, c.patch_sizes, c.strides, c.num_channels)


# ---------------------------------------------------------------------------------------- helpers


def _grid(tokens: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """(B, N, C) contiguous tokens -> (B, C, h, w) channels_last *view* (no copy)."""
    return tokens.reshape(tokens.shape[0], h, w, tokens.shape[2]).permute(0, 3, 1, 2)


def _tokens(grid: torch.Tensor) -> torch.Tensor:
    """(B, C, h, w) -> (B, h*w, C); a free view when ``grid`` is channels_last."""
    return grid.flatten(2).transpose(1, 2)


class DropPath(nn.Module):
    """Per-sample stochastic depth: drops the residual branch, rescales the kept ones."""

    def __init__(self, p: float = 0.0) -> None:
        super().__init__()
        self.p = float(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.p == 0.0 or not self.training:
            return x
        keep = 1.0 - self.p
        mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
        return x * mask.div_(keep)

    def extra_repr(self) -> str:
        return f"p={self.p}"


# ---------------------------------------------------------------------------------------- encoder


class OverlapPatchEmbed(nn.Module):
    """Strided conv (k 7/s 4 then k 3/s 2, padding k//2) + LayerNorm; returns tokens and grid size."""

    def __init__(self, in_ch: int, out_ch: int, patch: int, stride: int, eps: float) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_ch, out_ch, patch, stride, patch // 2)
        self.layer_norm = nn.LayerNorm(out_ch, eps=eps)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, int, int]:
        x = self.proj(x)
        h, w = x.shape[-2:]
        return self.layer_norm(_tokens(x)), h, w


class EfficientSelfAttention(nn.Module):
    """Multi-head attention whose K/V come from a spatially reduced (conv k=s=sr) copy of the input."""

    def __init__(self, dim: int, heads: int, sr_ratio: int, eps: float) -> None:
        super().__init__()
        self.num_heads = heads
        self.sr_ratio = sr_ratio
        self.query = nn.Linear(dim, dim)
        self.key = nn.Linear(dim, dim)
        self.value = nn.Linear(dim, dim)
        if sr_ratio > 1:
            self.sr = nn.Conv2d(dim, dim, sr_ratio, sr_ratio)
            self.layer_norm = nn.LayerNorm(dim, eps=eps)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N, C) -> (B, heads, N, d) strided view."""
        return x.reshape(x.shape[0], x.shape[1], self.num_heads, -1).transpose(1, 2)

    def forward(self, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        if self.sr_ratio > 1:
            reduced = self.layer_norm(_tokens(self.sr(_grid(x, h, w))))
            q = self.query(x)
            kv = F.linear(reduced, torch.cat((self.key.weight, self.value.weight)),
                          torch.cat((self.key.bias, self.value.bias)))
            k, v = kv.chunk(2, dim=-1)
        else:  # no reduction: one matmul for Q, K and V
            qkv = F.linear(x, torch.cat((self.query.weight, self.key.weight, self.value.weight)),
                           torch.cat((self.query.bias, self.key.bias, self.value.bias)))
            q, k, v = qkv.chunk(3, dim=-1)
        out = F.scaled_dot_product_attention(self._heads(q), self._heads(k), self._heads(v))
        return out.transpose(1, 2).flatten(2)


class _SelfOutput(nn.Module):
    """Output projection, named ``attention.output.dense`` as on the Hub."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dense = nn.Linear(dim, dim)


class _Attention(nn.Module):
    """``attention.self`` (the attention) + ``attention.output.dense`` (projection)."""

    def __init__(self, dim: int, heads: int, sr_ratio: int, eps: float) -> None:
        super().__init__()
        self.self = EfficientSelfAttention(dim, heads, sr_ratio, eps)
        self.output = _SelfOutput(dim)

    def forward(self, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        return self.output.dense(self.self(x, h, w))


class _DWConv(nn.Module):
    """Depthwise 3x3 conv, wrapped to keep the Hub name ``mlp.dwconv.dwconv``."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 3, 1, 1, groups=dim)


class MixFFN(nn.Module):
    """fc1 -> depthwise 3x3 (the positional information) -> GELU -> fc2."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.dense1 = nn.Linear(dim, hidden)
        self.dwconv = _DWConv(hidden)
        self.dense2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        x = self.dwconv.dwconv(_grid(self.dense1(x), h, w))
        return self.dense2(F.gelu(_tokens(x)))


class Block(nn.Module):
    """Pre-norm transformer block: x + DropPath(Attn(LN(x))), then x + DropPath(MixFFN(LN(x)))."""

    def __init__(self, dim: int, heads: int, sr_ratio: int, mlp_ratio: int, drop_path: float,
                 eps: float) -> None:
        super().__init__()
        self.layer_norm_1 = nn.LayerNorm(dim, eps=eps)
        self.attention = _Attention(dim, heads, sr_ratio, eps)
        self.drop_path = DropPath(drop_path)
        self.layer_norm_2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = MixFFN(dim, dim * mlp_ratio)

    def forward(self, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        x = x + self.drop_path(self.attention(self.layer_norm_1(x), h, w))
        return x + self.drop_path(self.mlp(self.layer_norm_2(x), h, w))


class MixTransformer(nn.Module):
    """The hierarchical MiT encoder: four stages of patch-embed, blocks, LayerNorm."""

    def __init__(self, config: SegFormerConfig) -> None:
        super().__init__()
        c, eps = config, config.layer_norm_eps
        rates = torch.linspace(0, c.drop_path_rate, sum(c.depths)).tolist()
        ins = (c.num_channels,) + c.hidden_sizes[:-1]
        self.patch_embeddings = nn.ModuleList(
            OverlapPatchEmbed(i, o, p, s, eps)
            for i, o, p, s in zip(ins, c.hidden_sizes, c.patch_sizes, c.strides))
        blocks, start = [], 0
        for dim, depth, heads, sr in zip(c.hidden_sizes, c.depths, c.num_heads, c.sr_ratios):
            blocks.append(nn.ModuleList(
                Block(dim, heads, sr, c.mlp_ratio, rates[start + j], eps) for j in range(depth)))
            start += depth
        self.block = nn.ModuleList(blocks)
        self.layer_norm = nn.ModuleList(nn.LayerNorm(dim, eps=eps) for dim in c.hidden_sizes)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Stage outputs (B, C_i, ceil(H/4/2^i), ...) as channels_last views of their tokens."""
        outs = []
        for embed, blocks, norm in zip(self.patch_embeddings, self.block, self.layer_norm):
            tokens, h, w = embed(x)
            for block in blocks:
                tokens = block(tokens, h, w)
            x = _grid(norm(tokens), h, w)
            outs.append(x)
        return outs


class _Backbone(nn.Module):
    """Holds the encoder under the Hub prefix ``segformer.encoder``."""

    def __init__(self, config: SegFormerConfig) -> None:
        super().__init__()
        self.encoder = MixTransformer(config)


# ---------------------------------------------------------------------------------------- decoder


class _MLP(nn.Module):
    """Per-stage Linear(C_i, D), Hub name ``decode_head.linear_c.{i}.proj``."""

    def __init__(self, dim: int, out: int) -> None:
        super().__init__()
        self.proj = nn.Linear(dim, out)


def _resize(x: torch.Tensor, size: torch.Size) -> torch.Tensor:
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


def _linear_nchw(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """A 1x1 projection of an NCHW map done as F.linear on its channels_last layout."""
    return F.linear(x.permute(0, 2, 3, 1), weight, bias).permute(0, 3, 1, 2)


class AllMLPHead(nn.Module):
    """SegFormer's decoder: per-stage linear to D, upsample to 1/4, concat in REVERSE stage order,
    1x1 conv (no bias) + BN + ReLU, dropout, 1x1 classifier.

    ``mode="fast"`` (default) computes exactly the same function in a cheaper order: since the fuse
    conv is linear and bilinear upsampling is a per-channel convex combination, stage i contributes
    ``up(P_i c_i + F_i b_i)`` with ``P_i = F_i W_i`` (``F_i`` the fuse-weight slice of stage i), so
    nothing of width 4D is ever built. In eval mode the BatchNorm is folded into ``P_i`` too and
    the folded weights are cached (invalidated by any in-place change of the parameters).
    ``mode="plain"`` is the textbook order.
    """

    def __init__(self, config: SegFormerConfig) -> None:
        super().__init__()
        d = config.decoder_hidden_size
        self.mode = "fast"
        self.linear_c = nn.ModuleList(_MLP(c, d) for c in config.hidden_sizes)
        self.linear_fuse = nn.Conv2d(d * config.num_stages, d, 1, bias=False)
        self.batch_norm = nn.BatchNorm2d(d)
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.classifier = nn.Conv2d(d, config.num_labels, 1)
        self._cache: tuple[tuple, list[tuple[torch.Tensor, torch.Tensor]]] | None = None

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        if self.mode == "plain":
            fused = self.batch_norm(self._fuse_plain(features))
        elif self.training or torch.is_grad_enabled() or _exporting():
            fused = self.batch_norm(self._sum_stages(features, self._factored()))
        else:
            fused = self._sum_stages(features, self._folded())
        x = _dropout(torch.relu(fused), self.dropout.p, self.training)
        return _classify(x, self.classifier.weight, self.classifier.bias)

    def _fuse_plain(self, features: list[torch.Tensor]) -> torch.Tensor:
        size = features[0].shape[-2:]
        maps = [_resize(_linear_nchw(f, m.proj.weight, m.proj.bias), size)
                for f, m in zip(features, self.linear_c)]
        return self.linear_fuse(torch.cat(maps[::-1], dim=1))

    def _fuse_slices(self) -> list[torch.Tensor]:
        """Input-channel slice of the fuse weight that belongs to each stage (reverse order)."""
        weight, n = self.linear_fuse.weight.flatten(1), len(self.linear_c)
        return list(weight.chunk(n, dim=1))[::-1]

    def _factored(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(P_i, bias_i) per stage with P_i = F_i W_i, bias_i = F_i b_i; differentiable."""
        return [(f @ m.proj.weight, f @ m.proj.bias)
                for f, m in zip(self._fuse_slices(), self.linear_c)]

    def _folded(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(P_i, bias_i) with the eval-mode BatchNorm folded in; cached between calls."""
        tensors = [*self.parameters(), self.batch_norm.running_mean, self.batch_norm.running_var]
        key = tuple((t.data_ptr(), t._version, t.dtype, t.device) for t in tensors)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        bn = self.batch_norm
        with torch.autocast(bn.weight.device.type, enabled=False):  # fold in the weights' dtype
            scale = bn.weight * torch.rsqrt(bn.running_var + bn.eps)
            shift = bn.bias - bn.running_mean * scale
            folded = [(w * scale[:, None], b * scale) for w, b in self._factored()]
        folded[0] = (folded[0][0], folded[0][1] + shift)
        self._cache = (key, folded)
        return folded

    @staticmethod
    def _sum_stages(features: list[torch.Tensor],
                    weights: list[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
        size = features[0].shape[-2:]
        out = _linear_nchw(features[0], *weights[0])
        inplace = not torch.is_grad_enabled()  # in-place on a view costs CopySlices in autograd
        for f, (w, b) in zip(features[1:], weights[1:]):
            up = _resize(_linear_nchw(f, w, b), size)
            out = out.add_(up) if inplace else out + up
        return out

    def train(self, mode: bool = True) -> "AllMLPHead":
        # fused optimisers (AdamW(fused=True)) update weights without bumping their version
        # counters, so every train/eval switch drops the folded weights as well
        self._cache = None
        return super().train(mode)

    def _apply(self, fn, recurse: bool = True):  # .to()/.half() must not reuse stale folds
        self._cache = None
        return super()._apply(fn, recurse)


def _classify(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """1x1 classifier whose output is contiguous NCHW whatever the layout of ``x``.

    A channels_last result would make the caller's upsample + log_softmax over dim 1 copy the
    full-resolution logits (measured: ~0.35 s per B0 training step at 2x512x512). When training,
    :class:`_ClassifierFn` also returns the input gradient in ``x``'s channels_last layout, so
    the ReLU/BN/upsample backward passes do not mix layouts (another ~0.3 s of copies).
    """
    if torch.is_grad_enabled() and not _exporting() and (
            x.requires_grad or weight.requires_grad or bias.requires_grad):
        return _ClassifierFn.apply(x, weight, bias)
    b, _, h, w = x.shape
    out = torch.baddbmm(bias[None, :, None], weight.flatten(1).expand(b, -1, -1), x.flatten(2))
    return out.reshape(b, out.shape[1], h, w)


class _ClassifierFn(torch.autograd.Function):
    """1x1 conv as batched matmul with layout-aware backward (see :func:`_classify`)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        ctx.save_for_backward(x, weight)
        out = torch.baddbmm(bias[None, :, None], weight.flatten(1).expand(b, -1, -1), x.flatten(2))
        return out.reshape(b, out.shape[1], h, w)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, weight = ctx.saved_tensors
        b, d, h, w = x.shape
        g = grad.reshape(b, grad.shape[1], h * w)  # (B, K, HW)
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:  # (B, HW, D) tokens == channels_last (B, D, H, W)
            grad_x = torch.bmm(g.transpose(1, 2), weight.flatten(1).expand(b, -1, -1))
            grad_x = grad_x.reshape(b, h, w, d).permute(0, 3, 1, 2)
        if ctx.needs_input_grad[1]:
            grad_w = torch.bmm(g, x.flatten(2).transpose(1, 2)).sum(0).reshape(weight.shape)
        if ctx.needs_input_grad[2]:
            grad_b = g.sum((0, 2))
        return grad_x, grad_w, grad_b


def _dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Element-wise dropout like ``nn.Dropout``, with a mask drawn by ``rand >= p``: on CPU this is
    about 30 % cheaper than ``bernoulli_`` for the (B, D, H/4, W/4) decoder map."""
    if not training or p == 0.0:
        return x
    if p >= 1.0:
        return x * 0.0
    return x * torch.rand_like(x).ge_(p).mul_(1.0 / (1.0 - p))


def _exporting() -> bool:
    """True while tracing/compiling/exporting: never use cached tensors as constants then."""
    return (torch.jit.is_tracing() or torch.onnx.is_in_onnx_export()
            or torch.compiler.is_compiling())


# ------------------------------------------------------------------------------------------ model


class SegFormer(nn.Module):
    """Encoder + decoder; ``forward(pixels)`` gives logits at 1/4 resolution (ceil(H/4), ceil(W/4)).

    Input: ``(B, num_channels, H, W)`` normalised pixels, H and W >= 32 (any size, any memory format).
    """

    def __init__(self, config: SegFormerConfig) -> None:
        super().__init__()
        self.config = config
        self.segformer = _Backbone(config)
        self.decode_head = AllMLPHead(config)
        self.apply(self._init_weights)

    def _init_weights(self, module: nn.Module) -> None:
        """NVlabs' init (reference 2.10), which trains from scratch markedly faster than HF's.

        Linear: truncated N(0, initializer_range); Conv2d: N(0, sqrt(2 / fan_out)) with fan_out =
        k·k·out/groups (HF's N(0, 0.02) leaves the depthwise and patch convs almost zero, and on the
        synthetic test set mIoU after 160 steps rose from 0.84 to 0.88 with this init); the
        classifier N(0, 0.01) as mmseg's decode heads; norms 1/0. Loaded weights replace all of it.
        """
        if isinstance(module, nn.Linear):
            nn.init.trunc_normal_(module.weight, std=self.config.initializer_range)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Conv2d):
            if module is getattr(getattr(self, "decode_head", None), "classifier", None):
                std = 0.01
            else:
                fan_out = module.kernel_size[0] * module.kernel_size[1] * module.out_channels // module.groups
                std = math.sqrt(2.0 / fan_out)
            nn.init.normal_(module.weight, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, (nn.LayerNorm, nn.BatchNorm2d)):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)

    def reset_classifier(self, num_labels: int | None = None) -> None:
        """Fresh classifier (optionally with a new class count); the rest of the model is kept."""
        head = self.decode_head
        if num_labels is not None and num_labels != self.config.num_labels:
            self.config = self.config.with_labels(num_labels)
            old = head.classifier
            head.classifier = nn.Conv2d(old.in_channels, num_labels, 1).to(old.weight)
        self._init_weights(head.classifier)
        head._cache = None

    def set_decoder_mode(self, mode: str) -> None:
        """"fast" (default: folded decoder, same function) or "plain" (textbook order)."""
        if mode not in ("fast", "plain"):
            raise ValueError(f"decoder mode must be 'fast' or 'plain', not {mode!r}")
        self.decode_head.mode = mode

    @property
    def num_labels(self) -> int:
        return self.config.num_labels

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        exporting = _exporting()
        if not exporting and (pixel_values.shape[-1] < 32 or pixel_values.shape[-2] < 32):
            raise ValueError(f"SegFormer needs images of at least 32x32 pixels, got "
                             f"{tuple(pixel_values.shape[-2:])}")
        if pixel_values.device.type == "cpu" and not exporting:
            # channels_last makes every later token<->map reshape a free view
            pixel_values = pixel_values.contiguous(memory_format=torch.channels_last)
        return self.decode_head(self.segformer.encoder(pixel_values))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


__all__ = [
    "SegFormerConfig", "VARIANTS", "config_for", "variant_of", "OverlapPatchEmbed",
    "EfficientSelfAttention", "MixFFN", "Block", "MixTransformer", "AllMLPHead", "SegFormer",
    "DropPath", "count_parameters",
]
