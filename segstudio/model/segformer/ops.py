"""The small tensor operations the encoder and decoder share, written for speed on CPU.

* :func:`to_grid` / :func:`to_tokens`: token tensors ``(B, N, C)`` and NCHW maps are views of each
  other: every NCHW map we build is a *channels_last* view of contiguous tokens, so the reshapes
  between the transformer parts and the convolutions never copy.
* :func:`linear_nchw`: a 1x1 projection of such a map as ``F.linear`` on its channels_last layout.
* :func:`classify`: the final 1x1 classifier, NCHW logits in inference, channels_last in training.
* :func:`fast_dropout`: ``nn.Dropout`` with a cheaper mask (16 random bits per element).
* :func:`linear` / :func:`conv2d`: a linear layer or convolution with its activation (GELU) or
  the residual add that follows it done in the same pass. In CPU inference they call oneDNN's
  fused kernels (``torch.ops.mkldnn._linear_pointwise`` / ``_convolution_pointwise``, the ones
  torch.compile's CPU backend emits); measured on B0 at 512² these are 1.5-2x faster than
  ``F.linear`` (MKL addmm, which first copies the bias into the output) and ``F.conv2d``, and the
  fused GELU/add save a pass over the activations. Training on CPU runs the linear layers'
  forward (and residual adds) the same way under :class:`LinearFn`, whose backward is autograd's
  for ``F.linear``. Elsewhere (autocast, export, CUDA) they are the plain ops;
  :func:`set_onednn` turns the fused paths off for comparisons.
* :func:`attention`: ``F.scaled_dot_product_attention``, kept in float32 under CPU autocast, two
  bf16 batched matmuls for a bf16 model in CPU inference; :func:`single_head_attention`: one-head
  attention with the query and output projections folded into K and V, two oneDNN linears in CPU
  inference.
* :func:`interpolation_matrix`: bilinear resizing along one axis as a matrix, for the decoder's
  upsampling by matrix products in a bf16 model.
* In CPU inference the fused paths take float32 and bf16 alike: the predictor runs a bf16 copy
  of the model on a CPU with native bf16.
* :func:`is_exporting`: whether a trace/compile/export is running, when cached tensors and
  shape checks must stay out of the graph.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F

from segstudio.model.malloc import reuse_large_blocks

reuse_large_blocks()  # large activations reuse freed memory instead of fresh pages (see malloc.py)
_ONEDNN = {"on": True}
_SCORE_BYTES = 4 << 20  # both attention paths below: bytes of scores per chunk of query rows


def set_onednn(enabled: bool) -> bool:
    """Use oneDNN's fused CPU inference kernels (default) or the plain ops; returns the old value."""
    old = _ONEDNN["on"]
    _ONEDNN["on"] = bool(enabled)
    return old


def _onednn_supported() -> bool:
    try:
        return bool(torch.backends.mkldnn.is_available()
                    and hasattr(torch.ops.mkldnn, "_linear_pointwise")
                    and hasattr(torch.ops.mkldnn, "_convolution_pointwise"))
    except (AttributeError, RuntimeError):
        return False


_SUPPORTED = _onednn_supported()


def onednn_inference(x: torch.Tensor) -> bool:
    """Whether :func:`linear` and :func:`conv2d` take oneDNN's fused kernels for ``x``: float32 or
    bf16 (a bf16 model, as the predictor runs on a CPU with native bf16) on CPU, with no
    gradient, autocast or export running."""
    return (_ONEDNN["on"] and _SUPPORTED and x.device.type == "cpu" and x.dtype in (torch.float32, torch.bfloat16)
            and not torch.is_grad_enabled() and not torch.is_autocast_enabled("cpu")
            and not is_exporting())


def bf16_inference(x: torch.Tensor) -> bool:
    """Whether ``x`` belongs to a bf16 model in CPU inference (:func:`onednn_inference`), where
    attention and the decoder's upsampling take their bf16 paths."""
    return x.dtype == torch.bfloat16 and onednn_inference(x)


def onednn_training(x: torch.Tensor, weight: torch.Tensor) -> bool:
    """Whether :func:`linear` runs its forward through oneDNN with autograd (:class:`LinearFn`):
    float32 on CPU, gradients on, no autocast or export."""
    return (_ONEDNN["on"] and _SUPPORTED and x.device.type == "cpu" and x.dtype == weight.dtype == torch.float32
            and torch.is_grad_enabled() and not torch.is_autocast_enabled("cpu") and not is_exporting())


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Scaled dot-product attention of (B, heads, N, d) tensors. Under CPU bf16 autocast (training
    on a CPU with native bf16) it runs in float32: there its bf16 backward took 12.7 ms of a B0
    step at 128² batch 8 against 2.6 ms in float32, more than bf16 saves everywhere else. A bf16
    model in CPU inference takes :func:`_bf16_attention`."""
    if q.device.type == "cpu" and torch.is_autocast_enabled("cpu"):
        with torch.autocast("cpu", enabled=False):
            return F.scaled_dot_product_attention(q.float(), k.float(), v.float())
    if bf16_inference(q):
        return _bf16_attention(q, k, v)
    return F.scaled_dot_product_attention(q, k, v)


def _bf16_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Attention as two bf16 batched matmuls around a softmax, in chunks of query rows whose
    scores stay within 4 MB. On a CPU with native bf16 (2 threads, B0 at 512²) SDPA's CPU kernel
    took 1.9 / 1.3 / 0.65 ms for the attention blocks of stages 2-4 (2, 5 and 8 heads of 32
    channels, 256 keys) against 1.2 / 0.87 / 0.44 ms this way; in float32 SDPA is the faster."""
    b, heads, n, d = q.shape
    keys = k.shape[2]
    q3 = q.reshape(b * heads, n, d)
    kt = k.reshape(b * heads, keys, d).transpose(1, 2)
    v3 = v.reshape(b * heads, keys, d)
    out = q3.new_empty(b * heads, n, d)
    rows = max(1, _SCORE_BYTES // (q.element_size() * b * heads * keys))
    for first in range(0, n, rows):
        part = q3[:, first:first + rows]
        scores = torch.baddbmm(part.new_empty(()), part, kt, beta=0, alpha=d ** -0.5)  # scaled before rounding
        torch.bmm(scores.softmax(-1), v3, out=out[:, first:first + rows])
    return out.view(b, heads, n, d)


def single_head_attention(x: torch.Tensor, query: torch.nn.Linear, k: torch.Tensor, v: torch.Tensor,
                          output: torch.nn.Linear, residual: torch.Tensor) -> torch.Tensor | None:
    """``output(attention(query(x), k, v)) + residual`` for one head in CPU inference, or None
    where this way is not the faster one (then the caller takes the usual path).

    With one head the query and output projections fold into the keys and values:
    ``softmax(x Wq' K' s) V Wo' = softmax(x (s K Wq)') (Wo V')'``, so the scores come from one
    oneDNN linear of ``x`` with weights ``s K Wq`` (keys x C) and the output, with its residual
    add, from a second one with weights ``Wo V'`` (C x keys). The query projection goes, and both
    products run in oneDNN rather than SDPA's kernel. Rows go in chunks whose scores stay within
    4 MB. Measured against the query projection + SDPA + output projection (2 threads): stage 1
    of B0 at 512² (16384 queries, 256 keys, C 32) 3.8 -> 2.7 ms, at 1024² (65536, 1024) 55 -> 40
    ms; C 64 (B1-B5) 6.8 -> 4.5 ms at 512².
    """
    n, keys = x.shape[1], k.shape[1]
    if not (onednn_inference(x) and x.is_contiguous() and residual.shape == x.shape):
        return None
    scale = k.shape[-1] ** -0.5
    rows = max(1, _SCORE_BYTES // (x.element_size() * keys))
    out = []
    for b in range(x.shape[0]):
        kq = k[b].matmul(query.weight).mul_(scale).contiguous()
        kb = k[b].matmul(query.bias).mul_(scale)
        vo = output.weight.matmul(v[b].t()).contiguous()
        for first in range(0, n, rows):
            part = slice(first, first + rows)
            scores = torch.ops.mkldnn._linear_pointwise(x[b, part], kq, kb, "none", [], "")
            out.append(torch.ops.mkldnn._linear_pointwise.binary(
                scores.softmax(-1), residual[b, part].contiguous(), vo, output.bias, "add"))
    return torch.cat(out).view_as(x) if len(out) > 1 else out[0].view_as(x)


def linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, gelu: bool = False,
           residual: torch.Tensor | None = None) -> torch.Tensor:
    """``F.linear`` then GELU (``gelu``) or ``+ residual``, fused in CPU inference (see above); when
    training on CPU the forward of a linear layer (and its residual add) is oneDNN's as well."""
    if onednn_inference(x) and x.is_contiguous():
        if residual is not None and not gelu and residual.shape[:-1] == x.shape[:-1]:
            return torch.ops.mkldnn._linear_pointwise.binary(x, residual.contiguous(), weight, bias, "add")
        if residual is None:
            return torch.ops.mkldnn._linear_pointwise(x, weight, bias, "gelu" if gelu else "none", [],
                                                      "none" if gelu else "")
    if not gelu and bias is not None and onednn_training(x, weight):
        if residual is None or residual.shape[:-1] == x.shape[:-1]:
            return LinearFn.apply(x.contiguous(), weight, bias, residual)
    y = F.linear(x, weight, bias)
    if gelu:
        y = F.gelu(y)
    return y if residual is None else y + residual


def _weight_like(conv: torch.nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
    """The conv weight in ``x``'s memory format, kept between calls while the weight is unchanged
    (oneDNN would otherwise convert a channels_last input's weights on every call). In-place
    edits bump the weight's version; fused optimisers do not, so every train/eval switch drops
    the copies as well (:func:`drop_weight_copies`, called by ``SegFormer.train``)."""
    weight = conv.weight
    fmt = torch.channels_last if x.is_contiguous(memory_format=torch.channels_last) else torch.contiguous_format
    if weight.is_contiguous(memory_format=fmt):
        return weight
    try:
        key = (weight.data_ptr(), weight._version, fmt)
    except RuntimeError:  # an inference tensor has no version counter: convert, keep nothing
        return weight.contiguous(memory_format=fmt)
    cached = conv.__dict__.get("_onednn_weight")
    if cached is None or cached[0] != key:
        cached = (key, weight.detach().contiguous(memory_format=fmt))
        conv.__dict__["_onednn_weight"] = cached
    return cached[1]


def drop_weight_copies(model: torch.nn.Module) -> None:
    """Forget the converted conv weights of :func:`_weight_like` in ``model``."""
    for module in model.modules():
        module.__dict__.pop("_onednn_weight", None)


class LinearFn(torch.autograd.Function):
    """``F.linear(x, weight, bias) (+ residual)`` with oneDNN's forward (no bias copy, the add
    fused) and the backward autograd would compute for ``F.linear``: two matmuls and a sum."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                residual: torch.Tensor | None) -> torch.Tensor:
        ctx.save_for_backward(x, weight)
        if residual is None:
            return torch.ops.mkldnn._linear_pointwise(x, weight, bias, "none", [], "")
        return torch.ops.mkldnn._linear_pointwise.binary(x, residual.contiguous(), weight, bias, "add")

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, weight = ctx.saved_tensors
        g = grad.reshape(-1, grad.shape[-1])
        grad_x = grad.matmul(weight) if ctx.needs_input_grad[0] else None
        grad_w = g.t().mm(x.reshape(-1, x.shape[-1])) if ctx.needs_input_grad[1] else None
        grad_b = g.sum(0) if ctx.needs_input_grad[2] else None
        grad_r = grad if ctx.needs_input_grad[3] else None
        return grad_x, grad_w, grad_b, grad_r


def conv2d(x: torch.Tensor, conv: torch.nn.Conv2d, gelu: bool = False) -> torch.Tensor:
    """``conv(x)`` then GELU (``gelu``), fused in CPU inference (see above); same memory format out."""
    if onednn_inference(x) and conv.padding_mode == "zeros" and not isinstance(conv.padding, str):
        return torch.ops.mkldnn._convolution_pointwise(
            x, _weight_like(conv, x), conv.bias, list(conv.padding), list(conv.stride), list(conv.dilation),
            conv.groups, "gelu" if gelu else "none", [], "none" if gelu else "")
    y = conv(x)
    return F.gelu(y) if gelu else y


def to_grid(tokens: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """(B, N, C) contiguous tokens -> (B, C, h, w) channels_last *view* (no copy)."""
    return tokens.reshape(tokens.shape[0], h, w, tokens.shape[2]).permute(0, 3, 1, 2)


def to_tokens(grid: torch.Tensor) -> torch.Tensor:
    """(B, C, h, w) -> (B, h*w, C); a free view when ``grid`` is channels_last."""
    return grid.flatten(2).transpose(1, 2)


def resize(x: torch.Tensor, size: torch.Size) -> torch.Tensor:
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


@functools.lru_cache(maxsize=64)
def interpolation_matrix(n_in: int, n_out: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """The (n_out, n_in) matrix of :func:`resize` along one axis: bilinear resizing of a map is
    ``rows @ map @ cols.T`` with these, the weights ``F.interpolate`` itself computes (taken
    from it, in float32, then cast). Cached: the same few sizes come back on every forward."""
    with torch.inference_mode(False), torch.no_grad():
        eye = torch.eye(n_in, dtype=torch.float32, device=device)[None]
        return F.interpolate(eye, size=n_out, mode="linear", align_corners=False)[0].t().to(dtype).contiguous()


def linear_nchw(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """A 1x1 projection of an NCHW map done as :func:`linear` on its channels_last layout."""
    return linear(x.permute(0, 2, 3, 1), weight, bias).permute(0, 3, 1, 2)


def classify(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """The final 1x1 classifier: channels_last logits in training and CPU inference, else NCHW.

    CPU inference (prediction, validation) on a channels_last map: oneDNN's linear on its tokens,
    channels_last logits. For B0 at 512² with 150 classes (16384 x 256 -> 150) it took 2.9 ms
    against 7.4 ms for the batched matmul (MKL), on 2 CPU threads; the band upsampling and argmax
    of the predictor read either layout.
    Elsewhere (export, CUDA, autocast): a batched matmul whose result is contiguous NCHW
    whatever the layout of ``x``.
    Training: :func:`linear_nchw` on the channels_last map, so the logits are channels_last
    (classes last, the layout the chunked cross-entropy of ``training/upsample_ce.py`` reads) and
    the backward is two plain matmuls whose input gradient keeps ``x``'s layout; measured against
    the batched-matmul form with its own backward, 265 -> 195 ms (B0, 2x512², forward + backward
    of the classifier with the loss's layout change, 2 CPU threads).
    """
    if torch.is_grad_enabled() and not is_exporting() and (
            x.requires_grad or weight.requires_grad or bias.requires_grad):
        return linear_nchw(x, weight.flatten(1), bias)
    if onednn_inference(x) and x.is_contiguous(memory_format=torch.channels_last):
        return linear_nchw(x, weight.flatten(1), bias)  # oneDNN: see the docstring
    b, _, h, w = x.shape
    out = torch.baddbmm(bias[None, :, None], weight.flatten(1).expand(b, -1, -1), x.flatten(2))
    return out.reshape(b, out.shape[1], h, w)


def fast_dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Element-wise dropout like ``nn.Dropout``, with a cheaper mask: one 16-bit random integer per
    element. For B0's (2, 256, 128, 128) decoder map on 2 CPU threads the mask's random numbers
    took 31 ms as ``rand_like``, 12 ms as int32 halves and 5 ms as int64 quarters, where the
    full 64-bit range has its own kernel (the whole dropout with its backward: 47 -> 40 ms);
    ``bernoulli_`` is slower still. The drop probability is ``p``
    rounded to a multiple of 1/65536 and kept elements are scaled by the exact inverse of the keep
    probability, so the expected output equals ``x`` as with ``nn.Dropout``."""
    if not training or p == 0.0:
        return x
    if p >= 1.0:
        return x * 0.0
    drops = round(p * 65536)
    if drops == 0:
        return x
    if drops >= 65536:
        return x * 0.0
    cl = x.dim() == 4 and not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last)
    shape = (x.shape[0], x.shape[2], x.shape[3], x.shape[1]) if cl else x.shape
    n = x.numel()
    if x.device.type == "cpu":  # the full 64-bit range has its own kernel, 2.3x faster per bit
        bits = torch.empty((n + 3) // 4, dtype=torch.int64).random_(-2 ** 63, None)
    else:
        bits = torch.empty((n + 1) // 2, dtype=torch.int32, device=x.device).random_(-2 ** 31, None)
    keep = bits.view(torch.int16)[:n].view(shape).ge(drops - 32768)
    if cl:
        keep = keep.permute(0, 3, 1, 2)
    return x * keep.to(x.dtype).mul_(65536 / (65536 - drops))


def is_exporting() -> bool:
    """True while tracing/compiling/exporting: never use cached tensors as constants then."""
    return (torch.jit.is_tracing() or torch.onnx.is_in_onnx_export()
            or torch.compiler.is_compiling())
