"""Core data layer: images, masks, classes, edits and undo, file formats, metrics.

Only numpy, Pillow, OpenCV and lxml are used here, never Qt or torch, so that the command line and
the training engine can use it without a display or a GPU stack.
"""
