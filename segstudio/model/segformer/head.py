"""SegFormer's all-MLP decoder head, in a plain (textbook) and a fast (same function) order.

The decoder's 1x1 fuse conv is linear and commutes with bilinear upsampling (whose weights sum to
one), so each stage can be projected straight to the decoder width at its own resolution with the
product ``fuse_slice @ linear_c``. In eval mode the BatchNorm is folded in as well and the folded
weights are cached. The 4D->D conv at 1/4 resolution, about half of B0's FLOPs, disappears.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import SegFormerConfig
from .ops import (
    bf16_inference,
    classify,
    fast_dropout,
    interpolation_matrix,
    is_exporting,
    linear,
    linear_nchw,
    resize,
)


class _MLP(nn.Module):
    """Per-stage Linear(C_i, D), Hub name ``decode_head.linear_c.{i}.proj``."""

    def __init__(self, dim: int, out: int) -> None:
        super().__init__()
        self.proj = nn.Linear(dim, out)


def _products_pay(features: list[torch.Tensor]) -> bool:
    """Whether :meth:`AllMLPHead._sum_stages_bf16` is the faster way: its products cost in
    proportion to the stacked rows (K) and to each stage's width, so they grow with the square of
    the input's size. Measured on B0 (2 threads): faster or equal up to 512² inputs (K 112, stage
    widths up to 64), slower at 768² (8.7 against 9.4 ms)."""
    later = features[1:]
    return bool(later) and sum(f.shape[-2] for f in later) <= 128 and max(f.shape[-1] for f in later) <= 64


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
            x = torch.relu(self.batch_norm(self._fuse_plain(features)))
        elif self.training or torch.is_grad_enabled() or is_exporting():
            x = torch.relu(self.batch_norm(self._sum_stages(features, self._factored())))
        else:  # inference: BN folded, the ReLU done in place with the last add
            x = self._sum_stages(features, self._folded(), relu=True)
        x = fast_dropout(x, self.dropout.p, self.training)
        return classify(x, self.classifier.weight, self.classifier.bias)

    def _fuse_plain(self, features: list[torch.Tensor]) -> torch.Tensor:
        size = features[0].shape[-2:]
        maps = [resize(linear_nchw(f, m.proj.weight, m.proj.bias), size)
                for f, m in zip(features, self.linear_c)]
        return self.linear_fuse(torch.cat(maps[::-1], dim=1))

    def _fuse_slices(self) -> list[torch.Tensor]:
        """Input-channel slice of the fuse weight that belongs to each stage (reverse order)."""
        weight, n = self.linear_fuse.weight.flatten(1), len(self.linear_c)
        return list(weight.chunk(n, dim=1))[::-1]

    def _factored(self, dtype: torch.dtype | None = None) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(P_i, bias_i) per stage with P_i = F_i W_i, bias_i = F_i b_i (computed in ``dtype``,
        default the weights' own); differentiable."""
        def cast(t: torch.Tensor) -> torch.Tensor:
            return t if dtype is None else t.to(dtype)
        return [(cast(f) @ cast(m.proj.weight), cast(f) @ cast(m.proj.bias))
                for f, m in zip(self._fuse_slices(), self.linear_c)]

    def _folded(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(P_i, bias_i) with the eval-mode BatchNorm folded in; cached between calls."""
        tensors = [*self.parameters(), self.batch_norm.running_mean, self.batch_norm.running_var]
        key = tuple((t.data_ptr(), t._version, t.dtype, t.device) for t in tensors)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        bn, dtype = self.batch_norm, self.linear_fuse.weight.dtype
        with torch.autocast(bn.weight.device.type, enabled=False):  # fold in float32, keep the weights' dtype
            scale = bn.weight.float() * torch.rsqrt(bn.running_var.float() + bn.eps)
            shift = bn.bias.float() - bn.running_mean.float() * scale
            folded = [(w * scale[:, None], b * scale) for w, b in self._factored(torch.float32)]
        folded[0] = (folded[0][0], folded[0][1] + shift)
        folded = [(w.to(dtype), b.to(dtype)) for w, b in folded]
        self._cache = (key, folded)
        return folded

    @staticmethod
    def _sum_stages(features: list[torch.Tensor], weights: list[tuple[torch.Tensor, torch.Tensor]],
                    relu: bool = False) -> torch.Tensor:
        """Sum of the stages' projections at the first stage's size; ``relu`` (no autograd only)
        applies the ReLU in place, fused with the last add."""
        if relu and bf16_inference(features[0]) and _products_pay(features):
            return AllMLPHead._sum_stages_bf16(features, weights)
        size = features[0].shape[-2:]
        out = linear_nchw(features[0], *weights[0])
        inplace = not torch.is_grad_enabled()  # in-place on a view costs CopySlices in autograd
        last = len(features) - 1
        for i, (f, (w, b)) in enumerate(zip(features[1:], weights[1:]), start=1):
            up = resize(linear_nchw(f, w, b), size)
            if relu and i == last and out.device.type == "cpu" and out.dtype == up.dtype == torch.float32:
                return torch.ops.aten._add_relu_(out, up)  # a CPU float32 kernel only
            out = out.add_(up) if inplace else out + up
        return torch.relu_(out) if relu else out

    @staticmethod
    def _sum_stages_bf16(features: list[torch.Tensor],
                         weights: list[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
        """:meth:`_sum_stages` with the ReLU for a bf16 model in CPU inference, the upsampling as
        matrix products: each later stage's projection is resized along its width by one matmul
        (``interpolation_matrix``), and all of them along their height, summed and added to the
        first stage's projection, by a single in-place ``baddbmm_`` whose K is the stages' rows
        stacked (112 for a 128² first stage). bf16's ``F.interpolate`` on a CPU converts every
        element on its own. B0 at 512² on 2 threads, the whole forward A/B in one process: 0.8-1.5
        ms less (the decoder's sum alone 2.9 ms both ways in quiet minutes, 5.1 against 2.9 in
        others), with fewer roundings to bf16 (one per stage and one for the sum instead of two per
        stage). In float32 the products take twice as long as ``F.interpolate``; for larger inputs
        see :func:`_products_pay`."""
        first = features[0]
        b, height, width = first.shape[0], first.shape[-2], first.shape[-1]
        acc = linear(first.permute(0, 2, 3, 1), *weights[0]).contiguous()  # (B, H, W, D)
        rows = sum(f.shape[-2] for f in features[1:])
        stacked = acc.new_empty(b, rows, width, acc.shape[-1])
        heights = acc.new_empty(height, rows)
        row = 0
        for f, (w, bias) in zip(features[1:], weights[1:]):
            h = f.shape[-2]
            projected = linear(f.permute(0, 2, 3, 1), w, bias)  # (B, h, w, D)
            across = interpolation_matrix(f.shape[-1], width, acc.dtype, acc.device)
            for i in range(b):
                torch.matmul(across, projected[i], out=stacked[i, row:row + h])
            heights[:, row:row + h] = interpolation_matrix(h, height, acc.dtype, acc.device)
            row += h
        acc.view(b, height, -1).baddbmm_(heights.expand(b, -1, -1), stacked.view(b, rows, -1))
        return acc.relu_().permute(0, 3, 1, 2)

    def train(self, mode: bool = True) -> AllMLPHead:
        # fused optimisers (AdamW(fused=True)) update weights without bumping their version
        # counters, so every train/eval switch drops the folded weights as well
        self._cache = None
        return super().train(mode)

    def _apply(self, fn, recurse: bool = True):  # .to()/.half() must not reuse stale folds
        self._cache = None
        return super()._apply(fn, recurse)
