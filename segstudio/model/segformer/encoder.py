"""The Mix Transformer (MiT) encoder: overlapping patch embeddings, efficient self-attention,
Mix-FFN blocks and a LayerNorm per stage.

Module and attribute names (``patch_embeddings``, ``block``, ``attention.self.sr``,
``mlp.dwconv.dwconv`` ...) are those of the Hugging Face Hub checkpoints, which load strictly;
the small wrapper classes exist only to reproduce those names. Speed: tokens and maps are views of
each other (see :mod:`.ops`); K and V come from one ``F.linear`` on the concatenated weights (Q
too where there is no spatial reduction) and attention is ``F.scaled_dot_product_attention``
(:func:`.ops.attention`).
"""

from __future__ import annotations

import torch
from torch import nn

from .config import SegFormerConfig
from .ops import attention, conv2d, linear, onednn_inference, single_head_attention, to_grid, to_tokens


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


class OverlapPatchEmbed(nn.Module):
    """Strided conv (k 7/s 4 then k 3/s 2, padding k//2) + LayerNorm; returns tokens and grid size."""

    def __init__(self, in_ch: int, out_ch: int, patch: int, stride: int, eps: float) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_ch, out_ch, patch, stride, patch // 2)
        self.layer_norm = nn.LayerNorm(out_ch, eps=eps)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, int, int]:
        x = conv2d(x, self.proj)
        h, w = x.shape[-2:]
        return self.layer_norm(to_tokens(x)), h, w


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

    def reduced_kv(self, x: torch.Tensor, h: int, w: int) -> tuple[torch.Tensor, torch.Tensor]:
        """K and V (B, reduced tokens, C) from the spatially reduced input (``sr_ratio > 1``)."""
        reduced = self.layer_norm(to_tokens(conv2d(to_grid(x, h, w), self.sr)))
        kv = linear(reduced, torch.cat((self.key.weight, self.value.weight)),
                    torch.cat((self.key.bias, self.value.bias)))
        k, v = kv.chunk(2, dim=-1)
        return k, v

    def forward(self, x: torch.Tensor, h: int, w: int,
                kv: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """``kv``: K and V of :meth:`reduced_kv` when the caller has computed them already."""
        if self.sr_ratio > 1:
            q = linear(x, self.query.weight, self.query.bias)
            k, v = kv if kv is not None else self.reduced_kv(x, h, w)
        else:  # no reduction: one matmul for Q, K and V
            qkv = linear(x, torch.cat((self.query.weight, self.key.weight, self.value.weight)),
                         torch.cat((self.query.bias, self.key.bias, self.value.bias)))
            q, k, v = qkv.chunk(3, dim=-1)
        out = attention(self._heads(q), self._heads(k), self._heads(v))
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

    def forward(self, x: torch.Tensor, h: int, w: int, residual: torch.Tensor | None = None) -> torch.Tensor:
        """The attention output, plus ``residual`` when given (fused into the projection)."""
        dense, attn = self.output.dense, self.self
        kv = None
        if residual is not None and attn.num_heads == 1 and attn.sr_ratio > 1 and onednn_inference(x):
            kv = attn.reduced_kv(x, h, w)
            out = single_head_attention(x, attn.query, *kv, dense, residual)
            if out is not None:
                return out
        return linear(attn(x, h, w, kv), dense.weight, dense.bias, residual=residual)


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

    def forward(self, x: torch.Tensor, h: int, w: int, residual: torch.Tensor | None = None) -> torch.Tensor:
        """The FFN output, plus ``residual`` when given (fused into the last projection)."""
        x = linear(x, self.dense1.weight, self.dense1.bias)
        x = to_tokens(conv2d(to_grid(x, h, w), self.dwconv.dwconv, gelu=True))
        return linear(x, self.dense2.weight, self.dense2.bias, residual=residual)


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
        if self.training and self.drop_path.p > 0:
            x = x + self.drop_path(self.attention(self.layer_norm_1(x), h, w))
            return x + self.drop_path(self.mlp(self.layer_norm_2(x), h, w))
        # no stochastic depth: the residual adds ride on the last projection of each branch
        x = self.attention(self.layer_norm_1(x), h, w, residual=x)
        return self.mlp(self.layer_norm_2(x), h, w, residual=x)


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
            x = to_grid(norm(tokens), h, w)
            outs.append(x)
        return outs
