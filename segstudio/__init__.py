"""segstudio: paint semantic-segmentation masks, fine-tune SegFormer on them, review predictions.

Layers (imports point down only): ``gui`` -> ``application`` -> ``model`` -> ``core``, and ``cli``
beside ``gui``. ``core`` and ``application`` load neither Qt nor torch on import; ``model`` and
``cli`` never import Qt. ``lint-imports`` checks the import graph (contracts in pyproject.toml);
``tests/test_layers.py`` checks what each layer loads, torch included.
"""

__version__ = "0.1.0"
