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
MobileSAM have no transformers class; EdgeTAM has one but needs timm, and timm needs torchvision,
whose Linux build on PyPI links the CUDA torch (the CPU build comes only from PyTorch's own index,
out of reach of this project's machines), so it cannot be run or tested here.

Runtime (tests/benchmarks/sam_runtime_speed.py, SAM 2.1, medians of alternating runs): the image
encoder runs on ONNX Runtime with int8 weights (all but the last stage; cosine 0.9996, click-mask
IoU 0.963 against eager fp32 on random weights). One thread, load 3.5-5: 5.2-6.0 s against eager
PyTorch's 6.8-8.1 s; fp32 ONNX Runtime is no faster than PyTorch, bf16 autocast 7× slower (AVX2
only, no AVX-512 BF16/AMX), channels_last 8 % faster, torch.compile no faster (after 123 s of
compilation). Throwaway variants of the export, timed alternately at 2 threads on the quiet
machine, gained nothing measurable: the last stage quantized too (2.95 s against 3.01 s, click IoU
0.952 against 0.963), the attention products quantized as well, a tanh GELU (3.32 s).
The window runs ONNX Runtime with a thread per core (both here): 3.0 s at
1024² and 3.3 s at 4000×3000 on the quiet machine (tests/benchmarks/assist_speed.py, the
window's own path), 3.8 s with the machine at load 1.5. Prompts of both kinds decode on ONNX
Runtime (fp32, the same masks; a box as two corner points) in 76 ms at 1024² and 96-100 ms at
4000×3000 including the full-size mask (OpenCV, 11-23 ms at 4000×3000; torch took 34-92 ms).
Without onnxruntime, or when the export fails, everything runs on PyTorch (one logged note).
The remaining time is the encoder's arithmetic: a third of it is the three global-attention
blocks of Hiera's third stage (4096 tokens each), which no runtime setting shrinks; a smaller
encoder (EdgeTAM's RepViT, which transformers runs through timm and torchvision) is the next step.

Modules: :mod:`.frame` (resize/pad and their inverse), :mod:`.loader` (lazy transformers import,
local folders), :mod:`.segmenter` (embedding cache, prompts → masks), :mod:`.onnx_encoder` and
:mod:`.onnx_decoder` (the ONNX Runtime path), :mod:`.onnx_cache` (their exports and sessions),
:mod:`.interrupt` (stopping an embedding ahead when a click comes), :mod:`.box_masks` (boxes to
masks), :mod:`.configs` (known models). Importing this package does not import transformers.
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
