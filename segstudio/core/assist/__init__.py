"""Assisted labelling: GrabCut, magic wand and mask clean-up (OpenCV, no Qt).

Every function takes numpy arrays and returns new arrays (or a result object) without touching the
caller's data, so the window can run it in a worker thread and turn the result into one undo step.
"""
