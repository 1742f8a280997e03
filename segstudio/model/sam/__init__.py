"""Click to segment: a promptable model (SAM / SAM 2 through transformers) behind the window's tool.

Runtime and default chosen by measurement on the project's 2-core CPU, shared with other work
(load average given; times scale with it): random weights of the real configurations, 1024×1024
input, ``torch.inference_mode``; ONNX Runtime 1.32 on the same encoders exported with opset 17.

=================  ======  =============================================  ==========================
model              params  image embedding, 1 thread, same minutes        click (decoder + best mask)
=================  ======  =============================================  ==========================
SAM 2.1 Hiera-T    31.4 M  torch 7.0–7.7 s, ORT 6.4–7.3 s (load 3.2)      0.23 s at 1024², 0.47 s at
                                                                          4000×3000 (load 3.5)
SlimSAM-77 (SAM)    9.7 M  torch 13.7–15.6 s, ORT 5.8–9.2 s (load 3.1)    decoder as SAM 2's (0.6 s
                                                                          both at load 9)
=================  ======  =============================================  ==========================

Two torch threads were slower than one whenever the machine was busy (SAM 2.1: 13.9 s vs 9.4 s
embedding, 0.60 s vs 0.23 s click at load 4–5). SAM 2.1 Hiera-tiny is the default: it embeds as
fast as SlimSAM does even under ONNX Runtime and is the better segmenter. EfficientSAM and
MobileSAM have no transformers class; EdgeTAM has one but needs timm.

Runtime (tests/benchmarks/sam_runtime_speed.py, SAM 2.1, 1 thread, medians of alternating runs,
load 3.5–5; CPU seconds of our process ≈ wall): the image encoder runs on ONNX Runtime with int8
weights (all but the last stage) in 5.2–6.0 s against eager PyTorch's 6.8–8.1 s (cosine 0.9996,
click-mask IoU 0.963 against eager fp32 on random weights); fp32 ONNX Runtime is no faster than
PyTorch, bf16 autocast 7× slower (AVX2 only, no AVX-512 BF16/AMX), channels_last 8 % faster,
torch.compile no faster (6.7 s against 6.3 s CPU, after 123 s of compilation). A
point click decodes on ONNX Runtime (fp32, same masks) in 105–117 ms against PyTorch's 170–180 ms;
full-size masks come from OpenCV (11 ms at 4000×3000, was 34 ms). Neither target (embedding
<= 3 s, click <= 100 ms) is met on this shared machine: dynamic quantization leaves the attention
products, convolutions and normalisations of the encoder in fp32. Without onnxruntime, or when the
export fails, everything runs on PyTorch as before (one logged note).

Modules: :mod:`.frame` (resize/pad and their inverse), :mod:`.loader` (lazy transformers import,
local folders), :mod:`.segmenter` (embedding cache, prompts → masks), :mod:`.onnx_encoder` and
:mod:`.onnx_decoder` (the ONNX Runtime path and its cache), :mod:`.box_masks` (boxes to masks),
:mod:`.configs` (known models). Importing this package does not import transformers.
"""

from __future__ import annotations

from .box_masks import sam_box_masks
from .configs import DEFAULT, KNOWN
from .loader import AssistUnavailableError, load_model
from .segmenter import PromptableSegmenter, Proposal

__all__ = [
    "DEFAULT", "KNOWN", "AssistUnavailableError", "PromptableSegmenter", "Proposal", "load_model",
    "sam_box_masks",
]
