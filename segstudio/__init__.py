"""segstudio: paint semantic-segmentation masks, fine-tune SegFormer on them, review predictions.

Layers (imports point down only): ``gui`` -> ``model`` -> ``core``. ``core`` needs neither Qt nor
torch, ``model`` and ``cli`` never import Qt. See DESIGN.md in the project notes.
"""

__version__ = "0.1.0"
