"""Tiny SAM and SAM 2 configurations (input 128×128) for the click-to-segment tests."""

from __future__ import annotations

SIZE = 128

TINY_SAM = {
    "model_type": "sam",
    "vision_config": {
        "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "mlp_dim": 64,
        "output_channels": 32, "image_size": SIZE, "patch_size": 16, "window_size": 4,
        "global_attn_indexes": [1], "num_pos_feats": 16,
    },
    "prompt_encoder_config": {"hidden_size": 32, "image_size": SIZE, "patch_size": 16, "mask_input_channels": 4},
    "mask_decoder_config": {"hidden_size": 32, "mlp_dim": 64, "num_attention_heads": 2, "iou_head_hidden_dim": 32},
}

TINY_SAM2 = {
    "model_type": "sam2",
    "vision_config": {
        "backbone_config": {
            "model_type": "sam2_hiera_det_model", "hidden_size": 12, "num_attention_heads": 1,
            "image_size": [SIZE, SIZE],
            "blocks_per_stage": [1, 1, 2, 1], "embed_dim_per_stage": [12, 24, 48, 96],
            "num_attention_heads_per_stage": [1, 1, 2, 2], "window_size_per_stage": [8, 4, 4, 2],
            "global_attention_blocks": [3],
        },
        "backbone_channel_list": [96, 48, 24, 12],
        "backbone_feature_sizes": [[SIZE // 4, SIZE // 4], [SIZE // 8, SIZE // 8], [SIZE // 16, SIZE // 16]],
        "fpn_hidden_size": 32,
    },
    "prompt_encoder_config": {"hidden_size": 32, "image_size": SIZE, "patch_size": 16, "mask_input_channels": 8},
    "mask_decoder_config": {"hidden_size": 32, "mlp_dim": 64, "num_attention_heads": 4, "iou_head_hidden_dim": 32},
}


def prompt_sensitive(model, seed: int = 0):
    """``model`` with weights of unit-gain scale (1/sqrt(fan-in), embeddings 1) instead of
    transformers' std 0.02, under which a tiny model's masks hardly depend on the prompt: a test
    that a prompt reaches the decoder the right way can fail only when the prompt matters."""
    import math

    import torch

    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if param.dim() >= 2:
                fan_in = param[0].numel()
                scale = 1.0 if "embed" in name else 1 / math.sqrt(fan_in)
                param.copy_(torch.randn(param.shape, generator=generator) * scale)
    return model


def saved_random(folder, config: dict = TINY_SAM, seed: int = 0, sensitive: bool = False):
    """A random-weight SAM / SAM 2 of ``config`` (a tiny one by default) saved as a model folder at
    ``folder``, as the window and the CLI load one; ``sensitive``: with :func:`prompt_sensitive`
    weights. The folder."""
    from segstudio.model.sam.loader import build_random

    model, _ = build_random(config, seed=seed)
    if sensitive:
        prompt_sensitive(model, seed=seed)
    model.save_pretrained(folder)
    return folder
