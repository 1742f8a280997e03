"""The application layer: what the window does, without Qt and without torch on import.

Project sessions, the model registry, the training snapshot, prediction caches, review rules: the
logic a window needs, in plain Python so that it is tested without a screen. ``segstudio.gui`` only
turns events into calls here and results into pixels.
"""
