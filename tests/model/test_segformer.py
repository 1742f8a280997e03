"""The native SegFormer: shapes, the fast decoder against the plain one, layouts, configs."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from segstudio.model.segformer import VARIANTS, SegFormer, SegFormerConfig, config_for, count_parameters, variant_of

TINY = SegFormerConfig(hidden_sizes=(16, 32, 48, 64), depths=(1, 2, 1, 1), num_heads=(1, 2, 3, 4),
                       decoder_hidden_size=32, num_labels=5)


@pytest.fixture
def randomise(randomised):
    return randomised


@pytest.fixture
def tiny(randomised) -> SegFormer:
    torch.manual_seed(0)
    return randomised(SegFormer(TINY)).eval()


@pytest.mark.parametrize("size", [(32, 32), (64, 64), (97, 131), (250, 333)])
def test_logits_at_quarter_resolution(tiny: SegFormer, size: tuple[int, int]) -> None:
    with torch.no_grad():
        out = tiny(torch.randn(2, 3, *size))
    assert out.shape == (2, TINY.num_labels, -(-size[0] // 4), -(-size[1] // 4))
    assert out.is_contiguous(memory_format=torch.channels_last)  # CPU inference: oneDNN's classifier
    assert torch.isfinite(out).all()


def test_too_small_input_is_a_clear_error(tiny: SegFormer) -> None:
    with pytest.raises(ValueError, match="at least 32"):
        tiny(torch.randn(1, 3, 31, 64))


@pytest.mark.parametrize("size", [(64, 64), (97, 131)])
def test_fast_decoder_equals_plain_in_eval(tiny: SegFormer, size: tuple[int, int]) -> None:
    x = torch.randn(2, 3, *size)
    with torch.inference_mode():
        fast = tiny(x)
        tiny.decode_head.mode = "plain"
        try:
            plain = tiny(x)
        finally:
            tiny.decode_head.mode = "fast"
    assert fast.abs().max() > 0.5  # meaningful logits, not all ~0
    assert (fast - plain).abs().max() <= 1e-4


def test_fold_cache_follows_weight_changes(randomise) -> None:
    model = randomise(SegFormer(TINY), seed=3).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        before = model(x)
        model.decode_head.batch_norm.running_mean.add_(1.0)
        model.decode_head.linear_c[2].proj.weight.mul_(2.0)
        after = model(x)
        model.decode_head.mode = "plain"
        plain = model(x)
    assert (before - after).abs().max() > 1e-2
    assert (after - plain).abs().max() <= 1e-4


def test_fast_training_path_gives_plain_gradients(randomise) -> None:
    cfg = SegFormerConfig(**{**TINY.to_dict(), "drop_path_rate": 0.0, "classifier_dropout": 0.0})
    model = randomise(SegFormer(cfg)).train()
    x = torch.randn(2, 3, 64, 96)
    y = torch.randint(0, cfg.num_labels, (2, 64, 96))
    grads = {}
    for mode in ("fast", "plain"):
        model.decode_head.mode = mode
        model.zero_grad()
        logits = F.interpolate(model(x), size=y.shape[-2:], mode="bilinear", align_corners=False)
        F.cross_entropy(logits, y).backward()
        grads[mode] = {n: p.grad.clone() for n, p in model.named_parameters()}
    for name, g in grads["plain"].items():
        assert torch.allclose(grads["fast"][name], g, atol=1e-5, rtol=1e-4), name


def test_channels_last_and_batch_independence(tiny: SegFormer) -> None:
    x = torch.randn(3, 3, 70, 90)
    with torch.no_grad():
        ref = tiny(x)
        cl = tiny(x.contiguous(memory_format=torch.channels_last))
        single = tiny(x[1:2])
    assert (ref - cl).abs().max() <= 1e-5
    assert (ref[1:2] - single).abs().max() <= 1e-4


def test_state_dict_uses_hub_names() -> None:
    keys = list(SegFormer(config_for("b0", 150)).state_dict())
    assert len(keys) == 208  # the Hub's B0 file, its BN step counter included
    for expected in ("segformer.encoder.patch_embeddings.0.proj.weight",
                     "segformer.encoder.block.0.1.attention.self.sr.weight",
                     "segformer.encoder.block.3.0.attention.output.dense.bias",
                     "segformer.encoder.block.2.1.mlp.dwconv.dwconv.weight",
                     "segformer.encoder.layer_norm.3.bias",
                     "decode_head.linear_c.0.proj.weight", "decode_head.linear_fuse.weight",
                     "decode_head.batch_norm.num_batches_tracked", "decode_head.classifier.bias"):
        assert expected in keys
    assert "segformer.encoder.block.3.0.attention.self.sr.weight" not in keys


@pytest.mark.parametrize("variant,params", [("b0", 3.753), ("b1", 13.716), ("b2", 27.462)])
def test_parameter_counts_match_reference(variant: str, params: float) -> None:
    model = SegFormer(config_for(variant, 150))
    assert abs(count_parameters(model) / 1e6 - params) < 0.001


def test_config_round_trip_and_variants() -> None:
    cfg = config_for("B2", 7)
    assert SegFormerConfig.from_dict(cfg.to_dict()) == cfg
    assert variant_of(cfg) == "b2" and variant_of(TINY) is None
    assert set(VARIANTS) == {f"b{i}" for i in range(6)}
    with pytest.raises(ValueError, match="unknown SegFormer variant"):
        config_for("b9", 2)
    with pytest.raises(ValueError, match="divisible"):
        SegFormerConfig(hidden_sizes=(32, 63, 160, 256))


def test_reset_classifier_keeps_the_rest(randomise) -> None:
    model = randomise(SegFormer(TINY), seed=5)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.reset_classifier(9)
    after = model.state_dict()
    assert model.config.num_labels == 9 and after["decode_head.classifier.weight"].shape[0] == 9
    for k, v in before.items():
        if not k.startswith("decode_head.classifier."):
            assert torch.equal(v, after[k]), k


def test_config_is_read_without_torch() -> None:
    """The window reads configs and variant names without loading torch; the model loads it."""
    code = (
        "import sys\n"
        "from segstudio.model.segformer import SegFormerConfig, config_for, variant_of\n"
        "import segstudio.model.segformer.config\n"
        "cfg = SegFormerConfig.from_dict(config_for('b2', 7).to_dict())\n"
        "print(variant_of(cfg), 'torch' in sys.modules)\n"
        "from segstudio.model.segformer import SegFormer\n"
        "from segstudio.model.segformer.model import SegFormer as Defined\n"
        "print(SegFormer is Defined, 'torch' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["b2", "False", "True", "True"]


@pytest.mark.parametrize("size", [(64, 64), (97, 131)])
def test_onednn_inference_equals_plain_ops(tiny: SegFormer, size: tuple[int, int]) -> None:
    """CPU inference takes oneDNN's fused linear/conv kernels (GELU and residual adds inside);
    the logits are those of the plain torch ops."""
    from segstudio.model.segformer import ops
    x = torch.randn(2, 3, *size)
    with torch.inference_mode():
        assert ops.onednn_inference(x) == ops._SUPPORTED
        fused = tiny(x)
        old = ops.set_onednn(False)
        try:
            assert not ops.onednn_inference(x)
            plain = tiny(x)
        finally:
            ops.set_onednn(old)
    assert fused.abs().max() > 0.5
    assert (fused - plain).abs().max() <= 1e-4
    with torch.enable_grad():  # autograd and autocast never take the fused kernels
        assert not ops.onednn_inference(x)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        assert not ops.onednn_inference(x)


def test_single_head_attention_folds_the_projections(tiny: SegFormer, monkeypatch) -> None:
    """Stage 1 (one head) in CPU inference: scores and output from two oneDNN linears with the
    query and output projections folded into K and V; the logits are those of SDPA, whatever the
    chunking of the rows, and the path is never taken with autograd on."""
    from segstudio.model.segformer import encoder, ops
    if not ops._SUPPORTED:
        pytest.skip("this torch has no oneDNN fused kernels")
    calls = []
    fold = encoder.single_head_attention
    monkeypatch.setattr(encoder, "single_head_attention", lambda *a: calls.append(1) or fold(*a))
    x = torch.randn(2, 3, 96, 64)
    with torch.inference_mode():
        folded = tiny(x)
        assert calls
        monkeypatch.setattr(ops, "_SCORE_BYTES", 4 * 6 * 7)  # 7 rows of 6 keys a chunk
        chunked = tiny(x)
        monkeypatch.setattr(encoder, "single_head_attention", lambda *a: None)
        plain = tiny(x)
    assert (folded - plain).abs().max() <= 1e-5 and (chunked - plain).abs().max() <= 1e-5
    block = tiny.segformer.encoder.block[0][0].attention
    tokens = torch.randn(1, 24 * 16, 16)
    with torch.no_grad():
        k, v = block.self.reduced_kv(tokens, 24, 16)
    with torch.enable_grad():
        assert ops.single_head_attention(tokens, block.self.query, k, v, block.output.dense, tokens) is None


def test_onednn_training_gives_plain_gradients(randomise) -> None:
    """Training on CPU runs the linear layers' forward through oneDNN (LinearFn): same loss and
    gradients as the plain ops, with stochastic depth off (residual adds fused) and on."""
    from segstudio.model.segformer import ops
    x, y = torch.randn(2, 3, 64, 96), torch.randint(0, TINY.num_labels, (2, 64, 96))
    for rate in (0.0, 0.2):
        grads = {}
        for fused in (True, False):
            model = randomise(SegFormer(TINY.__class__(**{**TINY.to_dict(), "drop_path_rate": rate,
                                                          "classifier_dropout": 0.0})), seed=5).train()
            old = ops.set_onednn(fused)
            try:
                assert ops.onednn_training(x, x) == (fused and ops._SUPPORTED)
                torch.manual_seed(1)
                loss = F.cross_entropy(F.interpolate(model(x), size=y.shape[-2:], mode="bilinear"), y)
                loss.backward()
            finally:
                ops.set_onednn(old)
            grads[fused] = {n: p.grad.clone() for n, p in model.named_parameters()}
        for name, g in grads[False].items():
            assert torch.allclose(grads[True][name], g, atol=1e-5, rtol=1e-4), (rate, name)


def test_training_under_cpu_autocast(tiny: SegFormer) -> None:
    """The classifier's own backward copes with autocast (bf16 forward, float32 weights)."""
    tiny.train()
    x, y = torch.randn(2, 3, 64, 64), torch.randint(0, TINY.num_labels, (2, 64, 64))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = tiny(x)
    F.cross_entropy(F.interpolate(logits.float(), size=(64, 64), mode="bilinear"), y).backward()
    for p in tiny.parameters():
        assert p.grad is not None and p.grad.dtype == p.dtype and torch.isfinite(p.grad).all()


def test_attention_stays_float32_under_cpu_autocast() -> None:
    """ops.attention under bf16 autocast: SDPA of the float32 inputs, with their gradients."""
    from segstudio.model.segformer import ops
    q, k, v = (torch.randn(2, 2, 24, 8, requires_grad=True) for _ in range(3))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = ops.attention(q.bfloat16(), k.bfloat16(), v.bfloat16())
        plain = F.scaled_dot_product_attention(q.bfloat16(), k.bfloat16(), v.bfloat16())
    assert out.dtype == torch.float32 and plain.dtype == torch.bfloat16
    expected = F.scaled_dot_product_attention(q.bfloat16().float(), k.bfloat16().float(), v.bfloat16().float())
    assert torch.allclose(out, expected, atol=1e-6)
    out.sum().backward()
    assert all(t.grad is not None and torch.isfinite(t.grad).all() for t in (q, k, v))


def test_onednn_conv_weights_follow_changes(tiny: SegFormer) -> None:
    """The channels_last copies of conv weights kept for oneDNN follow in-place weight changes."""
    x = torch.randn(1, 3, 64, 64)
    with torch.inference_mode():
        before = tiny(x)
    with torch.no_grad():
        tiny.segformer.encoder.patch_embeddings[0].proj.weight.mul_(0.5)
    with torch.inference_mode():
        after = tiny(x)
    from segstudio.model.segformer import ops
    old = ops.set_onednn(False)
    try:
        with torch.inference_mode():
            plain = tiny(x)
    finally:
        ops.set_onednn(old)
    assert (after - before).abs().max() > 1e-3
    assert (after - plain).abs().max() <= 1e-4


def test_onednn_weights_follow_a_fused_optimiser(tiny: SegFormer) -> None:
    """Fused AdamW changes weights in place without bumping their versions: after training steps
    the oneDNN inference path sees the new conv weights, not copies made before."""
    from segstudio.model.segformer import ops
    x, y = torch.randn(2, 3, 64, 64), torch.randint(0, TINY.num_labels, (2, 64, 64))
    with torch.inference_mode():
        tiny(x)  # converted weights are kept now
    opt = torch.optim.AdamW(tiny.parameters(), lr=1e-2, fused=True)
    tiny.train()
    for _ in range(2):
        opt.zero_grad()
        F.cross_entropy(F.interpolate(tiny(x), size=(64, 64), mode="bilinear"), y).backward()
        opt.step()
    tiny.eval()
    with torch.inference_mode():
        fused = tiny(x)
        old = ops.set_onednn(False)
        try:
            plain = tiny(x)
        finally:
            ops.set_onednn(old)
    assert (fused - plain).abs().max() <= 1e-4


def test_inference_under_autocast(tiny: SegFormer) -> None:
    """The folded decoder's fused add+ReLU is a CPU float32 kernel: under autocast (how CUDA
    predicts) the plain add and ReLU run instead, with the same result within bf16 precision."""
    x = torch.randn(1, 3, 64, 64)
    with torch.inference_mode():
        full = tiny(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            half = tiny(x).float()
    assert (half - full).abs().max() <= 0.1 * full.abs().max()


def test_large_blocks_are_reused_on_linux(tiny: SegFormer) -> None:
    """The model's ops turn glibc's large-block reuse on (malloc.py); elsewhere it does nothing."""
    import os
    import sys

    from segstudio.model import malloc
    glibc = sys.platform.startswith("linux") and os.path.exists("/lib/x86_64-linux-gnu/libc.so.6")
    if not glibc or any(k.startswith("MALLOC_") or k == "GLIBC_TUNABLES" for k in os.environ):
        pytest.skip("glibc on x86-64 Linux without the user's own malloc settings only")
    assert malloc.reuse_large_blocks()


def test_fast_dropout_rate_scale_layout_and_gradient():
    from segstudio.model.segformer.ops import fast_dropout

    torch.manual_seed(0)
    x = torch.ones(2, 64, 32, 32).contiguous(memory_format=torch.channels_last).requires_grad_()
    y = fast_dropout(x, 0.1, True)
    dropped = (y == 0).float().mean().item()
    assert abs(dropped - 0.1) < 0.01
    assert y.is_contiguous(memory_format=torch.channels_last)
    assert torch.allclose(y[y != 0], torch.full_like(y[y != 0], 1 / (1 - 6554 / 65536)))
    y.sum().backward()
    assert torch.equal(x.grad, y.detach())  # d(x * mask)/dx = mask
    odd = torch.ones(3, 5, 7)
    assert set(fast_dropout(odd, 0.5, True).unique().tolist()) <= {0.0, 2.0}
    lanes = (fast_dropout(torch.ones(4 * 40000), 0.5, True) == 0).float().view(-1, 4).mean(0)
    assert ((lanes - 0.5).abs() < 0.02).all(), lanes  # every 16-bit quarter of a 64-bit draw is uniform
    assert fast_dropout(odd, 0.5, False) is odd


@pytest.mark.parametrize("n_in,n_out", [(16, 128), (23, 90), (5, 17), (7, 7)])
def test_interpolation_matrices_resize_as_interpolate(n_in: int, n_out: int) -> None:
    from segstudio.model.segformer import ops
    x = torch.randn(3, n_in, n_in + 2)
    rows = ops.interpolation_matrix(n_in, n_out, torch.float32, x.device)
    cols = ops.interpolation_matrix(n_in + 2, n_out + 5, torch.float32, x.device)
    expected = F.interpolate(x[None], size=(n_out, n_out + 5), mode="bilinear", align_corners=False)[0]
    assert torch.allclose(rows @ x @ cols.T, expected, atol=1e-5)
    with torch.inference_mode():  # made once, outside inference mode, whatever the caller's mode
        assert not ops.interpolation_matrix(n_in, n_out + 1, torch.bfloat16, x.device).is_inference()


def test_bf16_attention_is_two_matmuls_in_chunks(monkeypatch) -> None:
    """A bf16 model in CPU inference: attention as bf16 batched matmuls around a softmax, the same
    whatever the chunking of the query rows and close to float32 SDPA; float32 and autograd keep
    SDPA."""
    from segstudio.model.segformer import ops
    if not ops._SUPPORTED:
        pytest.skip("this torch has no oneDNN fused kernels")
    torch.manual_seed(0)
    q, k, v = torch.randn(2, 3, 50, 8), torch.randn(2, 3, 7, 8), torch.randn(2, 3, 7, 8)
    low = [t.bfloat16() for t in (q, k, v)]
    expected = F.scaled_dot_product_attention(*(t.float() for t in low))
    with torch.inference_mode():
        whole = ops.attention(*low)
        monkeypatch.setattr(ops, "_SCORE_BYTES", 2 * 3 * 7 * 4)  # 2 rows of a batch's heads a chunk
        chunked = ops.attention(*low)
        assert torch.equal(ops.attention(q, k, v), F.scaled_dot_product_attention(q, k, v))
    assert whole.dtype == torch.bfloat16 and whole.shape == q.shape
    assert torch.allclose(whole.float(), chunked.float(), atol=1e-2)
    assert (whole.float() - expected).abs().max() < 0.05
    calls = []
    monkeypatch.setattr(ops, "_bf16_attention", lambda *a: calls.append(1))
    with torch.no_grad():
        ops.attention(*low)
    with torch.enable_grad():
        ops.attention(*low)
    assert calls == [1]


@pytest.mark.parametrize("size", [(64, 64), (97, 131)])
def test_bf16_decoder_upsamples_by_matrix_products(tiny: SegFormer, size: tuple[int, int], monkeypatch) -> None:
    """A bf16 copy in CPU inference sums the decoder's upsampled stages with matrix products; its
    decoder output and logits are the float32 model's within bf16's precision."""
    import copy

    from segstudio.model.segformer import head, ops
    if not ops._SUPPORTED:
        pytest.skip("this torch has no oneDNN fused kernels")
    low = copy.deepcopy(tiny).to(torch.bfloat16)
    calls = []
    fused = head.AllMLPHead._sum_stages_bf16
    monkeypatch.setattr(head.AllMLPHead, "_sum_stages_bf16", staticmethod(lambda *a: calls.append(1) or fused(*a)))
    x = torch.randn(2, 3, *size).bfloat16()
    features = []
    hook = low.decode_head.register_forward_pre_hook(lambda m, args: features.append(args[0]))
    with torch.inference_mode():
        logits = low(x)
        hook.remove()
        exact = tiny(x.float())
        summed = low.decode_head._sum_stages(features[0], low.decode_head._folded(), relu=True)
        reference = tiny.decode_head._sum_stages([f.float() for f in features[0]], tiny.decode_head._folded(),
                                                 relu=True)
    assert len(calls) == 2 and summed.shape == reference.shape
    with torch.inference_mode():  # 544²: stage 2 is 68 wide, where the products no longer pay
        low(torch.randn(1, 3, 544, 544).bfloat16())
    assert len(calls) == 2
    assert summed.is_contiguous(memory_format=torch.channels_last)
    assert (summed.float() - reference).abs().max() <= 0.02 * reference.abs().max()
    assert (logits.float() - exact).abs().max() <= 0.05 * exact.abs().max()
