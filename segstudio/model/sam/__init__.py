"""Click to segment: a promptable model (SAM / SAM 2 through transformers) behind the window's tool.

Runtime and default chosen by measurement on the project's 2-core CPU (random weights of the real
configurations, torch 2.13 eager, ``torch.inference_mode``, 1024×1024 input; the machine was shared,
load average 9–10, so absolute times are several times what an idle 2-core machine gives; see
tests/benchmarks/assist_speed.py to measure again):

==================  =========  ==================  ===================  =====================
model               params     embedding 1 thread  embedding 2 threads  click (decoder), 1 th.
==================  =========  ==================  ===================  =====================
SAM 2.1 Hiera-T     31.4 M     27.2 s              41.6 s               0.71 s
SlimSAM-77 (SAM)     9.7 M     38.7 s              37.5 s               0.68 s
==================  =========  ==================  ===================  =====================

SAM 2.1 Hiera-tiny is the default: it embeds fastest (its windowed Hiera attention is cheaper than
SlimSAM's global ViT attention with relative positions, despite 3× the weights) and is the better
segmenter of the two. Neither met the issue's targets (embedding <= 3 s, click <= 100 ms) on the
loaded machine. EfficientSAM/MobileSAM have no transformers class; EdgeTAM has one but needs timm.

Modules: :mod:`.frame` (resize/pad and their inverse), :mod:`.loader` (lazy transformers import,
local folders), :mod:`.segmenter` (embedding cache, prompts → masks), :mod:`.box_masks` (boxes to
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
