"""Cross-entropy on bilinearly upsampled logits without building the full-size logits.

``F.cross_entropy(F.interpolate(logits, size=labels.shape[-2:], mode="bilinear"), labels)`` on
SegFormer's 1/4-resolution logits materialises a (B, K, H, W) tensor, its log-softmax and both
gradients: for B0 at 2x512² with 150 classes that is ~300 MB each, streamed through memory about
ten times per step. :func:`upsample_cross_entropy` computes the same value and gradient in row
chunks that stay in cache (measured there, forward + backward on one thread: 1015 -> 260 ms of
CPU time):

* the logits are laid out (h, B, w, K), rows outermost and classes last (the training logits
  are channels_last already, see ``segformer.ops.classify``), and the horizontal half of the
  separable bilinear upsample runs first, as an ``F.interpolate`` of that map seen as
  channels_last (h*B, K, 1, w): a quarter of the full size, under ordinary autograd;
* :class:`_RowsCrossEntropy` then makes each chunk of output rows by the vertical half (one
  matmul with a small interpolation matrix holding exactly PyTorch's align_corners=False
  weights) and reduces it to the loss at once (log-softmax over the contiguous classes), keeping
  only a per-pixel shift; its backward rebuilds each chunk, forms the softmax gradient there and
  folds it back through the vertical interpolation with a second small matmul.

Class weights, label smoothing and the ignore index follow ``F.cross_entropy`` (mean reduction):
``sum_i [(1-e) w_t (lse - z_t) + e/K sum_c w_c (lse - z_c)] / sum_i w_t`` over valid pixels i.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

CHUNK_ELEMENTS = 1 << 21  # logits per row chunk (8 MB in float32): in cache, and few thread barriers
FAST_LOG_SOFTMAX = 16  # classes from which torch.log_softmax over the last dimension is the faster way


def upsample_cross_entropy(logits: torch.Tensor, labels: torch.Tensor, weight: torch.Tensor | None = None,
                           ignore_index: int = 255, label_smoothing: float = 0.0) -> torch.Tensor:
    """``F.cross_entropy(F.interpolate(logits, labels' size, bilinear), labels, ...)``, mean over
    valid pixels, computed in float32 (also under autocast) without the full-size logits.

    Class weights must not be negative (checked for CPU tensors). A batch with no valid pixel, or
    only pixels of zero-weight classes, gives a loss of 0 with zero gradients (``F.cross_entropy``
    gives NaN) and, unlike a check on the labels, no host sync."""
    with torch.autocast(logits.device.type, enabled=False):
        logits = logits.float()
        b, k, h, w = logits.shape
        height, width = labels.shape[-2:]
        if (h, w) == (height, width):
            if not bool((labels != ignore_index).any()):
                return logits.sum() * 0.0  # keeps the graph; F.cross_entropy would give NaN
            return F.cross_entropy(logits, labels.long(), weight=weight, ignore_index=ignore_index,
                                   label_smoothing=label_smoothing)
        # (h, B, w, K): rows outermost for the row chunks, classes last for a contiguous softmax;
        # seen as a channels_last (h*B, K, 1, w) map, the horizontal half is a bilinear resize
        rows = logits.permute(2, 0, 3, 1).contiguous()
        if w != width:
            flat = rows.view(h * b, 1, w, k).permute(0, 3, 1, 2)
            flat = F.interpolate(flat, size=(1, width), mode="bilinear", align_corners=False)
            rows = flat.permute(0, 2, 3, 1).reshape(h, b, width, k)
        if weight is not None:
            if weight.device.type == "cpu" and bool((weight < 0).any()):  # elsewhere: no host sync
                raise ValueError("class weights must not be negative")
            weight = weight.to(logits.device, torch.float32)
        return _RowsCrossEntropy.apply(rows, labels, weight, ignore_index, float(label_smoothing))


def vertical_weights(h: int, height: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Source rows and weights of a bilinear (align_corners=False) resize from ``h`` to ``height``
    rows, computed as PyTorch's kernels do (float32 scale, negative sources clamped to 0):
    (row0, row1, lambda1) with output row y = (1 - lambda1) * in[row0] + lambda1 * in[row1]."""
    scale = torch.tensor(float(h), dtype=torch.float32) / float(height)
    src = (scale * (torch.arange(height, dtype=torch.float32) + 0.5) - 0.5).clamp_min(0.0)
    row0 = src.floor().long().clamp_max(h - 1)
    row1 = (row0 + 1).clamp_max(h - 1)
    return row0, row1, src - row0.float()


def row_chunks(h: int, height: int, per_row: int,
               device: torch.device) -> list[tuple[int, int, int, int, torch.Tensor]]:
    """The row chunks of one call: output rows [start, stop), their source rows [lo, hi] and the
    (stop-start, hi-lo+1) matrix that interpolates them, about CHUNK_ELEMENTS logits each."""
    row0, row1, lam = vertical_weights(h, height)
    rows = max(1, CHUNK_ELEMENTS // max(1, per_row))
    chunks = []
    for start in range(0, height, rows):
        stop = min(height, start + rows)
        lo, hi = int(row0[start]), int(row1[stop - 1])
        matrix = torch.zeros(stop - start, hi - lo + 1)
        index = torch.arange(stop - start)
        matrix.index_put_((index, row0[start:stop] - lo), 1.0 - lam[start:stop], accumulate=True)
        matrix.index_put_((index, row1[start:stop] - lo), lam[start:stop], accumulate=True)
        chunks.append((start, stop, lo, hi, matrix.to(device)))
    return chunks


def _buffers(chunks: list[tuple[int, int, int, int, torch.Tensor]], flat: torch.Tensor,
             count: int) -> list[torch.Tensor]:
    """``count`` work buffers of the largest chunk's size, reused by every chunk: the same memory,
    still in cache, instead of a fresh block per chunk (measured: the matmul into a fresh block
    took several times as long on a busy machine)."""
    rows = max(stop - start for start, stop, *_ in chunks)
    return [flat.new_empty(rows, flat.shape[1]) for _ in range(count)]


def _log_terms(z: torch.Tensor, safe: torch.Tensor, weight: torch.Tensor | None, buf: torch.Tensor,
               lse: torch.Tensor, logp_t: torch.Tensor, wlogp: torch.Tensor | None) -> None:
    """One chunk's (r, B, W, K) logits ``z`` -> log-sum-exp over the classes into ``lse``, the
    target's log-probability into ``logp_t`` and, with smoothing, ``sum_c w_c logp_c`` into
    ``wlogp``. ``torch.log_softmax`` over a last dimension shorter than 16 takes a path 3-5x
    slower than max, exp and sum by hand (2M logits, 2 threads: 12 classes 10.9 against 2.3 ms,
    5 classes 10.5 against 3.0, 2 classes 9.1 against 4.7); from 16 classes on it is the faster
    (0.8 against 2.1 ms)."""
    k = z.shape[-1]
    if k >= FAST_LOG_SOFTMAX:
        logp = torch.log_softmax(z, dim=3, out=buf.view_as(z))
        torch.sub(z[..., 0], logp[..., 0], out=lse)
        torch.gather(logp, 3, safe, out=logp_t)
        terms = logp
    else:
        top = z.amax(3, keepdim=True)
        total = torch.sub(z, top, out=buf.view_as(z)).exp_().sum(3, keepdim=True)
        torch.add(total.log_(), top, out=lse.unsqueeze(3))
        torch.gather(z, 3, safe, out=logp_t).sub_(lse.unsqueeze(3))
        terms = z  # sum_c w_c logp_c = sum_c w_c z_c - sum(w) lse, below
    if wlogp is None:
        return
    if weight is None:
        torch.sum(terms, 3, out=wlogp)
    else:
        torch.mv(terms.view(-1, k), weight, out=wlogp.view(-1))
    if terms is z:
        wlogp.sub_(lse * (float(k) if weight is None else weight.sum()))


class _RowsCrossEntropy(torch.autograd.Function):
    """Vertical bilinear upsample + cross-entropy, chunk by chunk (see the module docstring).

    ``source``: (h, B, W, K) horizontally resized logits; ``labels``: (B, H, W). Each chunk is one
    matmul ``matrix @ source[lo:hi+1]`` giving the (r, B, W, K) logits of r output rows. The
    per-chunk work is kept to a few large operators (each one a thread barrier, costly when other
    processes share the cores); everything per pixel is done once for the whole image.
    """

    @staticmethod
    def forward(ctx, source: torch.Tensor, labels: torch.Tensor, weight: torch.Tensor | None,
                ignore_index: int, smoothing: float) -> torch.Tensor:
        h, b, width, k = source.shape
        height = labels.shape[-2]
        target = labels.to(source.device).long().permute(1, 0, 2)  # (H, B, W) like the chunks
        valid = target != ignore_index
        safe = torch.where(valid, target, torch.zeros_like(target)).unsqueeze(3)
        pixel_w = valid.float() if weight is None else weight[safe[..., 0]] * valid  # w_t; 0 if ignored
        chunks = row_chunks(h, height, b * k * width, source.device)
        flat = source.view(h, -1)
        lse = source.new_empty(height, b, width)
        logp_t = source.new_empty(height, b, width, 1)
        wlogp = source.new_empty(height, b, width) if smoothing > 0 else None
        z_buf, logp_buf = _buffers(chunks, flat, 2)
        for start, stop, lo, hi, matrix in chunks:
            z = torch.mm(matrix, flat[lo:hi + 1], out=z_buf[:stop - start]).view(stop - start, b, width, k)
            _log_terms(z, safe[start:stop], weight, logp_buf[:stop - start], lse[start:stop], logp_t[start:stop],
                       None if wlogp is None else wlogp[start:stop])
        # nothing valid (all ignored, or only zero-weight classes): 0 / tiny = 0, not NaN
        total = pixel_w.sum().clamp_min(torch.finfo(torch.float32).tiny)
        loss = -(1.0 - smoothing) * torch.dot(pixel_w.flatten(), logp_t.flatten())
        if wlogp is not None:
            loss = loss - (smoothing / k) * torch.dot(wlogp.flatten(), valid.flatten().float())
        # d loss / d z = coef * softmax(z) - a * onehot(t) - s * w with a = (1-e) w_t and s = e/K on
        # valid pixels, coef = a + s * sum(w); coef * softmax(z) = exp(z - shift) with shift below
        wsum = float(k) if weight is None else weight.sum()
        a = (1.0 - smoothing) * pixel_w
        s = (smoothing / k) * valid.float()
        shift = lse.sub_(torch.log(a + s * wsum)).unsqueeze(3)  # coef 0 (ignored) -> exp(-inf) = 0
        ctx.save_for_backward(source, safe, a.unsqueeze(3), s.unsqueeze(3), shift, total, weight)
        ctx.chunks, ctx.smoothing = chunks, smoothing
        return loss / total

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        # float32 like the forward, also when backward() is called inside an autocast region
        with torch.autocast(grad.device.type, enabled=False):
            return _RowsCrossEntropy._backward(ctx, grad.float())

    @staticmethod
    def _backward(ctx, grad: torch.Tensor):
        source, safe, neg_a, s, shift, total, weight = ctx.saved_tensors
        h, b, width, k = source.shape
        flat = source.view(h, -1)
        scale = grad / total  # folded into the small interpolation matrices: no host sync
        neg_a = -neg_a
        grad_source = torch.zeros_like(flat)
        class_w = None
        if ctx.smoothing > 0:
            class_w = torch.ones(k, device=source.device) if weight is None else weight
        (z_buf,) = _buffers(ctx.chunks, flat, 1)
        for start, stop, lo, hi, matrix in ctx.chunks:
            z = torch.mm(matrix, flat[lo:hi + 1], out=z_buf[:stop - start]).view(stop - start, b, width, k)
            g = torch.exp_(z.sub_(shift[start:stop]))
            g.scatter_add_(3, safe[start:stop], neg_a[start:stop])
            if class_w is not None:
                g.sub_(s[start:stop] * class_w)
            grad_source[lo:hi + 1].addmm_(matrix.t() * scale, g.view(stop - start, -1))
        return grad_source.view(h, b, width, k), None, None, None, None
